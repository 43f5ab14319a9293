"""노트북 실행과 출력 검사: 학습자가 보면 안 되는 출력을 잡는지, 깨끗한 노트북은 통과하는지."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils.execute import NotebookError, describe, find_problems, run_notebook

REPO = Path(__file__).resolve().parents[1]


def _nb_with_output(output) -> nbformat.NotebookNode:
    cell = new_code_cell("x = 1", execution_count=3, outputs=[output])
    return new_notebook(cells=[new_markdown_cell("# 제목"), cell])


def _stderr(text: str):
    return new_output("stream", name="stderr", text=text)


BAD_OUTPUTS = {
    "traceback": _stderr("Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: 잘못\n"),
    "exception_ignored": _stderr("Exception ignored in: <function _MultiProcessingDataLoaderIter.__del__>\n"
                                 "AssertionError: can only test a child process\n"),
    "user_warning": _stderr("/site-packages/torch/x.py:12: UserWarning: something odd\n  warnings.warn(\n"),
    "future_warning": new_output("stream", name="stdout", text="a.py:3: FutureWarning: will change\n"),
    "deprecation": _stderr("b.py:1: DeprecationWarning: old api\n"),
    "runtime_warning": _stderr("c.py:9: RuntimeWarning: invalid value encountered in divide\n"),
    "libjpeg_warning": _stderr("Premature end of JPEG file\n"),
    "torch_cpp_warning": _stderr("[W1202 12:59:23.123456 NNPACK.cpp:62] Could not initialize NNPACK!\n"),
    "colored_traceback": new_output("error", ename="ValueError", evalue="x",
                                    traceback=["\x1b[0;31mTraceback (most recent call last)\x1b[0m"]),
    "widget_view": new_output("display_data", data={
        "text/plain": "1 train:   0%|          | 0/25 [00:00<?, ?it/s]",
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0}}),
    "frozen_bar": _stderr("\r  0%|          | 0/25 [00:00<?, ?it/s]\r 40%|####      | 10/25\n"),
}
CLEAN_OUTPUTS = {
    "korean_text": new_output("stream", name="stdout", text="준비 완료: 장치 cpu\n경고: 사진 3장을 건너뜁니다\n"),
    "finished_bar": _stderr("\r  0%|          | 0/5\r100%|##########| 5/5 [00:01<00:00]\n"),
    "vanished_bar": _stderr("\r  0%|          | 0/5\r 60%|######    | 3/5\r                        \r"),
    "table": new_output("execute_result", data={"text/plain": "   id  prob\n0  a  0.5"}, execution_count=3),
}


@pytest.mark.parametrize("name", BAD_OUTPUTS)
def test_bad_output_is_found(name):
    problems = find_problems(_nb_with_output(BAD_OUTPUTS[name]))
    assert len(problems) == 1
    assert problems[0].cell == 1 and problems[0].label == "[3]"


@pytest.mark.parametrize("name", CLEAN_OUTPUTS)
def test_clean_output_passes(name):
    assert find_problems(_nb_with_output(CLEAN_OUTPUTS[name])) == []


def test_description_names_notebook_cell_and_text_and_groups_repeats():
    nb = new_notebook(cells=[new_code_cell("fit()", execution_count=7,
                                           outputs=[BAD_OUTPUTS["widget_view"]] * 20 + [BAD_OUTPUTS["user_warning"]])])
    message = describe(find_problems(nb), "04_lenet5.ipynb")
    assert "04_lenet5.ipynb" in message and "셀 [7]" in message and "UserWarning: something odd" in message
    assert "21곳" in message and "20번" in message
    assert len(message.splitlines()) == 4  # 머리말, 종류별 한 줄씩 두 줄, 안내문


def _write(tmp_path: Path, *sources: str) -> Path:
    path = tmp_path / "tiny.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 작은 노트북")] + [new_code_cell(s) for s in sources]), path)
    return path


def test_stderr_only_problems_fail_a_notebook_that_runs_without_error(tmp_path):
    path = _write(tmp_path,
                  "print('안녕')",
                  "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc()",
                  "import warnings\nwarnings.warn('library detail')",
                  "import sys\nprint('Exception ignored in: <function f>', file=sys.stderr)")
    with pytest.raises(NotebookError) as info:
        run_notebook(path, timeout=60)
    message = str(info.value)
    assert message.startswith("tiny.ipynb: 셀 출력에 학습자가 보면 안 되는 내용이 3곳")
    assert "셀 [2] (노트북의 3번째 셀), 파이썬 오류 추적(Traceback): Traceback (most recent call last)" in message
    assert "셀 [3] (노트북의 4번째 셀), 영어 라이브러리 경고: " in message and "UserWarning: library detail" in message
    assert "셀 [4] (노트북의 5번째 셀), 'Exception ignored' 메시지: Exception ignored in" in message
    assert info.value.nb.cells[1].outputs[0]["text"] == "안녕\n"  # 실행한 노트북을 함께 돌려줍니다


def test_clean_notebook_passes_and_runs_in_its_own_folder(tmp_path):
    (tmp_path / "marker.txt").write_text("여기", encoding="utf-8")
    path = _write(tmp_path, "print(open('marker.txt', encoding='utf-8').read())",
                  "from tqdm.auto import tqdm\nsum(range(3))")
    nb = run_notebook(path, timeout=60)
    assert nb.cells[1].outputs[0]["text"] == "여기\n"
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "3"
    assert nb.metadata["course_run"]["wall_s"] > 0


def test_a_failing_cell_is_named_in_korean(tmp_path):
    path = _write(tmp_path, "x = 1", "assert x == 2, '값이 다릅니다'", "print('실행되지 않음')")
    with pytest.raises(NotebookError) as info:
        run_notebook(path, timeout=60)
    message = str(info.value)
    assert "tiny.ipynb: 셀 [2] (노트북의 3번째 셀, `assert x == 2" in message
    assert "AssertionError: 값이 다릅니다" in message
    assert not info.value.nb.cells[3].get("outputs")


def test_pytest_plugin_fails_a_notebook_that_only_warns(pytester):
    pytester.makeconftest((REPO / "conftest.py").read_text(encoding="utf-8"))
    nb = new_notebook(cells=[new_code_cell("import warnings\nwarnings.warn('not for learners', FutureWarning)")])
    nbformat.write(nb, pytester.path / "warns.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("print('좋아요')")]), pytester.path / "clean.ipynb")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:nbmake", "warns.ipynb", "clean.ipynb")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*warns.ipynb: 셀 출력에 학습자가 보면 안 되는 내용이 1곳*",
                                 "*FutureWarning: not for learners*"])
