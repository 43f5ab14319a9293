# 두 명령으로 끝나는 설치: `make lab` (JupyterLab 실행), `make test` (전체 테스트)
# 강의 빌드: `make book` (전체 모드로 모든 노트북 실행, 결과 표, 읽기용 HTML)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_STAMP := $(VENV)/.installed-book
KERNEL := cnn-course

.PHONY: lab test book venv clean-venv bench

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 이상이 필요합니다"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "CNN 강의 (Python 3)" >/dev/null
	touch $(STAMP)

# 읽기용 HTML을 만드는 Jupyter Book은 make test와 make book만 씁니다 (make lab에는 필요 없음).
$(BOOK_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[book]'
	touch $(BOOK_STAMP)

venv: $(STAMP)

# 강의 노트북을 git이 무시하는 my_notebooks/에 복사해(있는 사본은 그대로) 엽니다: 저장소는 깨끗하게 남습니다.
# root로 실행할 때(컨테이너, Colab 비슷한 VM)만 --allow-root를 붙입니다.
lab: $(STAMP)
	$(BIN)/python -m course_utils.workcopy
	$(BIN)/jupyter lab --notebook-dir=my_notebooks $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

# ruff로 코드와 노트북을 린트한 뒤, 빠른 모드(COURSE_QUICK=1)로 단위 테스트와 모든 노트북을 두 프로세스로 나눠 실행합니다.
# 노트북은 새 커널에서 실행하고 셀 출력(오류 추적, 경고, 진행 막대 찌꺼기)까지 검사합니다 (conftest.py).
# 프로세스마다 스레드 하나(OMP_NUM_THREADS=1): 두 코어에서 두 프로세스가 스레드를 다투지 않게 합니다.
# 끝으로 방금 실행한 빠른 모드 실행본으로(다시 실행하지 않고) 결과 표와 읽기용 HTML을 만들어 봅니다.
test: $(STAMP) $(BOOK_STAMP)
	$(BIN)/ruff check .
	COURSE_QUICK=1 COURSE_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks
	$(BIN)/python -m course_utils.build --quick --no-execute

# 강의 빌드: 노트북마다 새 커널에서 실행해 build/<모드>/ 에 실행본, 결과 표, 읽기용 HTML을 만듭니다.
# make book NB="04 05" (고른 노트북만), make book QUICK=1 (빠른 모드), make book FORCE=1 (끝난 것도 다시)
book: $(STAMP) $(BOOK_STAMP)
	$(BIN)/python -m course_utils.build $(if $(QUICK),--quick,) $(if $(FORCE),--force,) $(NB)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean-venv:
	rm -rf $(VENV)
