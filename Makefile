# 두 명령으로 끝나는 설치: `make lab` (JupyterLab 실행), `make test` (전체 테스트)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := cnn-course

.PHONY: lab test venv clean-venv bench

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 이상이 필요합니다"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "CNN 강의 (Python 3)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# root로 실행할 때(컨테이너, Colab 비슷한 VM)만 --allow-root를 붙입니다.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

# 빠른 모드(COURSE_QUICK=1)로 단위 테스트와 모든 노트북을 두 프로세스로 나눠 실행합니다.
# 프로세스마다 스레드 하나(OMP_NUM_THREADS=1): 두 코어에서 두 프로세스가 스레드를 다투지 않게 합니다.
test: $(STAMP)
	COURSE_QUICK=1 COURSE_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --nbmake --nbmake-timeout=600 tests notebooks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean-venv:
	rm -rf $(VENV)
