"""노트북 글 검사: 한 가지 용어, 학습자에게 하는 말만, JupyterLab에서 바르게 보이는 마크다운."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

# (쓰지 않는 말, 대신 쓰는 말). 셀 전체(마크다운, 주석, 출력 문자열)에서 찾습니다.
TERMS = [
    (r"에포크", "에폭"),
    (r"데이터 (?:확장|보강)", "데이터 증강"),
    (r"스킵 결합", "스킵 연결"),
    (r"매개\s?변수", "파라미터"),
    (r"보폭", "스트라이드"),
    (r"갈래", "분기"),
    (r"(?<!픽셀\()화소", "픽셀 (처음 한 번은 '픽셀(화소)')"),
    (r"\d\d번 노트북|\b0\d장\b|앞 장:", "'13 노트북'처럼 번호 + 노트북"),
    (r"시험(?= ?(?:데이터|사진|이미지|\{))", "테스트 (훈련/검증/테스트)"),
]
# 강의를 만들고 시험한 이야기(기계 이름, 자동 테스트, 개발용 표본)는 학습자 글에 들어가지 않습니다.
DEVELOPER = re.compile(r"H100|공유 표본|표본 폴더|400장짜리|oxford-pets-sample|nbmake|tests/|\bCI\b|자동 테스트")
# 마크다운에서 코드(`...`)와 수식($...$)을 뺀 나머지에 적용하는 규칙
CODE_OR_MATH = re.compile(r"`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$", re.S)
MARKDOWN_RULES = [
    (re.compile(r"~"), "물결표(~) 두 개가 한 문단에 있으면 취소선이 됩니다: 범위는 '1-3분'처럼 씁니다"),
    (re.compile(r"[\w.+-]+@[\w-]+\.\w"), "'mAP@0.5' 같은 글은 전자 우편 링크가 됩니다: 백틱(`)으로 감쌉니다"),
    (re.compile(r"(?<![0-9A-Za-z_.×])\d+ ?[xX] ?\d+(?![0-9A-Za-z_×])"), "크기는 '3×3'처럼 ×로 씁니다"),
]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_term_for_each_idea(path: Path):
    found = []
    for i, cell in enumerate(_cells(path)):
        for pattern, instead in TERMS:
            for m in re.finditer(pattern, _source(cell)):
                found.append(f"셀 {i}: '{m.group(0)}' 대신 {instead}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_text_speaks_to_the_learner(path: Path):
    found = [f"셀 {i}: {m.group(0)!r}" for i, cell in enumerate(_cells(path))
             for m in DEVELOPER.finditer(_source(cell))]
    assert not found, "강의를 만든 과정의 이야기가 남아 있습니다:\n" + "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_renders_as_written(path: Path):
    found = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        prose = CODE_OR_MATH.sub(" ", _source(cell))
        for rule, why in MARKDOWN_RULES:
            found += [f"셀 {i}: {m.group(0)!r}: {why}" for m in rule.finditer(prose)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_goals_share_one_ending(path: Path):
    first = _source(_cells(path)[0])
    goals = re.search(r"## 학습 목표\n(.*?)(?:\n\n|\Z)", first, re.S).group(1)
    bullets = [line for line in goals.splitlines() if line.startswith("- ")]
    assert bullets, "학습 목표에 항목이 없습니다"
    odd = [b for b in bullets if not re.search(r"[^니]다\.(?:\s|\)|$)|\)\.?$", b.rstrip())]
    assert not odd, "학습 목표는 '...한다.'로 끝냅니다:\n" + "\n".join(odd)


def test_rules_catch_what_they_forbid():
    # 규칙 자체가 잡아야 할 것을 잡는지 확인합니다 (정규식이 아무것도 못 잡는 검사가 되지 않도록)
    prose = CODE_OR_MATH.sub(" ", "CPU 10~40분, `3x3`은 코드, 56 x 56으로, mAP@0.5, $2 x 3$")
    hits = [rule.pattern for rule, _ in MARKDOWN_RULES if rule.search(prose)]
    assert len(hits) == 3
    assert not any(rule.search(CODE_OR_MATH.sub(" ", "`mAP@0.5`, 3×3, 1-3분")) for rule, _ in MARKDOWN_RULES)
    assert re.search(TERMS[6][0], "빈 화소") and not re.search(TERMS[6][0], "픽셀(화소)")
    assert DEVELOPER.search("H100에서 0.609") and DEVELOPER.search("공유 표본")
