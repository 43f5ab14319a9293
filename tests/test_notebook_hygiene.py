"""노트북 위생 검사: 출력 없이 저장, ASCII 번호 파일 이름, 제목·학습 목표, setup 호출, 모드 셀 하나."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SYLLABUS = [
    "00_setup", "01_random_seeds", "02_tensor_ops", "03_dogs_vs_cats_data", "04_lenet5", "05_alexnet",
    "06_vggnet", "07_googlenet", "08_resnet", "09_selective_search", "10_rcnn", "11_spp_fast_rcnn",
    "12_faster_rcnn", "13_fcn", "14_transposed_conv", "15_unet", "16_pspnet", "17_deeplab",
]
HANGUL = re.compile(r"[가-힣]")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_every_syllabus_notebook_exists():
    names = [p.stem for p in NOTEBOOKS]
    assert names == SYLLABUS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_file_name_is_ascii_and_numbered(path: Path):
    assert path.name.isascii()
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_outputs_or_counts(path: Path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} 셀 {i}: 출력이 저장되어 있습니다"
            assert cell.get("execution_count") is None, f"{path.name} 셀 {i}: 실행 번호가 저장되어 있습니다"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_title_goals_setup_and_one_mode_cell(path: Path):
    cells = _cells(path)
    first = _source(cells[0])
    number = path.name[:2]
    assert cells[0]["cell_type"] == "markdown"
    assert re.match(rf"# {number}\. \S", first), "첫 셀은 '# NN. 제목' 이어야 합니다"
    assert "학습 목표" in first and "준비물" in first and HANGUL.search(first)
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    assert any("setup(" in c for c in code[:2]), "앞쪽 코드 셀에서 setup()을 불러야 합니다"
    picks = [c for c in code if "env.pick(" in c]
    assert len(picks) <= 1, "모드별 설정은 한 셀에만 둡니다"
    text = "\n".join(code)
    branches = re.findall(r"^.*\b(?:if|elif|while)\b.*env\.mode.*$|^.*env\.mode.*\bif\b.*$", text, re.M)
    assert "COURSE_QUICK" not in text and "env.quick" not in text and not branches, \
        f"모드에 따른 분기는 env.pick 셀 하나로만 합니다: {branches}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_summary_exercises_and_self_checks(path: Path):
    cells = _cells(path)
    markdown = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "요약" in markdown and "연습문제" in markdown
    assert code.count("assert ") >= 3, "자기 점검 assert가 적어도 세 개 필요합니다"
