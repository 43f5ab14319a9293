"""노트북이 강의 커널을 가리키는지, make lab의 내 노트북 사본이 저장소와 학습자의 파일을 지키는지."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course_utils.workcopy import SOURCE_KEY, sync_copies

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")
KERNEL = re.search(r"^KERNEL\s*:=\s*(\S+)", MAKEFILE, re.M).group(1)
DISPLAY = re.search(r'--display-name "([^"]+)"', MAKEFILE).group(1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_asks_for_the_kernel_make_venv_registers(path: Path):
    """JupyterLab이 열자마자 고쳐 쓰는 메타데이터(커널 이름, 언어 정보)를 저장소에 그대로 둡니다."""
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert meta["kernelspec"] == {"display_name": DISPLAY, "language": "python", "name": KERNEL}
    assert meta["language_info"]["name"] == "python" and meta["language_info"]["pygments_lexer"] == "ipython3"


def _course(tmp_path: Path) -> Path:
    src = tmp_path / "notebooks"
    src.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        (src / name).write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
                                encoding="utf-8")
    return src


def test_copies_are_made_once_and_never_overwritten(tmp_path: Path):
    src, dst = _course(tmp_path), tmp_path / "my_notebooks"
    assert sync_copies(src, dst) == (["00_a.ipynb", "01_b.ipynb"], [])
    mine = dst / "00_a.ipynb"
    run = json.loads(mine.read_text(encoding="utf-8"))
    run["cells"] = [{"cell_type": "code", "source": "1 + 1", "outputs": [], "metadata": {}, "execution_count": 3}]
    mine.write_text(json.dumps(run), encoding="utf-8")  # 학습자가 실행하고 저장한 사본
    before = {p.name: p.read_bytes() for p in src.iterdir()}

    assert sync_copies(src, dst) == ([], [])
    assert json.loads(mine.read_text(encoding="utf-8"))["cells"][0]["execution_count"] == 3
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before  # 강의 노트북은 건드리지 않습니다


def test_a_changed_course_notebook_is_reported_and_a_removed_copy_comes_back(tmp_path: Path):
    src, dst = _course(tmp_path), tmp_path / "my_notebooks"
    sync_copies(src, dst)
    (src / "01_b.ipynb").write_text(json.dumps({"cells": [], "metadata": {"new": 1}, "nbformat": 4,
                                                "nbformat_minor": 5}), encoding="utf-8")  # git pull로 새 판
    assert sync_copies(src, dst) == ([], ["01_b.ipynb"])
    (dst / "01_b.ipynb").rename(dst / "01_b_내기록.ipynb")
    assert sync_copies(src, dst) == (["01_b.ipynb"], [])
    fresh = json.loads((dst / "01_b.ipynb").read_text(encoding="utf-8"))["metadata"]
    assert fresh["new"] == 1 and len(fresh[SOURCE_KEY]) == 64
