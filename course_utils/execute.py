"""노트북 실행과 출력 검사: 새 커널에서 위에서 아래로 실행하고, 셀 출력을 살핍니다.

학습자가 보면 안 되는 출력: 파이썬 오류 추적(Traceback), `Exception ignored` 메시지, 학습자가 손쓸 수 없는
영어 라이브러리 경고(UserWarning, FutureWarning, ...), 진행 막대 찌꺼기(저장된 위젯, 멈춘 `0%|` 막대).
테스트(저장소의 conftest.py)와 강의 빌드(course_utils.build)가 같은 함수를 씁니다.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from nbformat import NotebookNode

from .constants import WIDGET_HINT

__all__ = ["WIDGET_MIME", "PATTERNS", "Problem", "NotebookError", "find_problems", "describe", "run_notebook"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BAR = re.compile(r"\b(\d{1,3})%\|")
# (무엇인지, 찾는 패턴): 하나라도 걸리면 그 셀은 실패입니다
PATTERNS = (
    ("파이썬 오류 추적(Traceback)", re.compile(r"Traceback \(most recent call last\)")),
    ("'Exception ignored' 메시지", re.compile(r"Exception ignored")),
    ("영어 라이브러리 경고", re.compile(r"\b[A-Za-z]*Warning: |^\[W\d{4} [\d:.]+ [^\]]*\]", re.M)),
    ("영어 이미지 라이브러리 경고(libjpeg, libpng)",
     re.compile(r"Premature end of JPEG file|Corrupt JPEG data|^libpng (?:warning|error):", re.M)),
)


@dataclass
class Problem:
    """출력 검사에서 찾은 문제 하나."""

    cell: int   # 노트북 안의 셀 위치 (0부터)
    label: str  # JupyterLab에 보이는 실행 번호, 예: "[17]"
    kind: str
    text: str   # 문제가 된 줄


class NotebookError(Exception):
    """노트북 실행 실패나 출력 문제. 메시지는 한국어이고, 실행한 노트북(nb)을 함께 담습니다."""

    def __init__(self, message: str, nb: NotebookNode | None = None):
        super().__init__(message)
        self.nb = nb


def _plain(text: str | list[str]) -> str:
    """출력 텍스트에서 색 코드를 지우고, 터미널처럼 \\r 앞의 덮어쓴 글자를 지웁니다."""
    text = _ANSI.sub("", "".join(text) if isinstance(text, list) else text)
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def _output_text(output: NotebookNode) -> str:
    """출력 하나가 화면에 보이는 글자: 스트림, 오류, 표시 데이터의 text/plain."""
    kind = output.get("output_type")
    if kind == "stream":
        return _plain(output.get("text", ""))
    if kind == "error":
        return _plain("\n".join(output.get("traceback", [])) or f"{output.get('ename')}: {output.get('evalue')}")
    return _plain(output.get("data", {}).get("text/plain", ""))


def _cell_label(cell: NotebookNode, ordinal: int) -> str:
    """셀 이름: 실행 번호가 있으면 [n], 없으면 코드 셀 순번."""
    count = cell.get("execution_count")
    return f"[{count if count is not None else ordinal}]"


def _problems_in_output(output: NotebookNode) -> list[tuple[str, str]]:
    """출력 하나에서 찾은 (종류, 줄) 목록."""
    if WIDGET_MIME in output.get("data", {}):
        if _output_text(output).strip() == WIDGET_HINT:  # 슬라이더 탐색기: 기본 그림 아래에 두는 의도된 위젯
            return []
        return [("진행 막대 위젯 찌꺼기 (다시 열면 'Error displaying widget')", _output_text(output).strip()[:120])]
    text = _output_text(output)
    found = []
    for kind, pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            found.append((kind, text[start:end if end >= 0 else None].strip()[:200]))
    for line in text.split("\n"):
        bar = _BAR.search(line)
        if bar and int(bar.group(1)) < 100:
            found.append(("멈춘 진행 막대", line.strip()[:120]))
            break
    return found


def find_problems(nb: NotebookNode) -> list[Problem]:
    """모든 코드 셀의 출력(표준 출력, 표준 오류, 표시 데이터, 오류)에서 문제를 찾습니다."""
    problems, ordinal = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        ordinal += 1
        for output in cell.get("outputs", []):
            for kind, text in _problems_in_output(output):
                problems.append(Problem(index, _cell_label(cell, ordinal), kind, text))
    return problems


def describe(problems: list[Problem], name: str, limit: int = 8) -> str:
    """문제 목록을 한국어 안내문으로 만듭니다."""
    lines = [f"{name}: 셀 출력에 학습자가 보면 안 되는 내용이 {len(problems)}곳 있습니다."]
    groups: dict[tuple[int, str], list[Problem]] = {}
    for p in problems:  # 같은 셀의 같은 종류는 한 줄로 (에폭마다 되풀이되는 경고 등)
        groups.setdefault((p.cell, p.kind), []).append(p)
    for same in list(groups.values())[:limit]:
        p, more = same[0], f" (이 셀에서 {len(same)}번)" if len(same) > 1 else ""
        lines.append(f"  - 셀 {p.label} (노트북의 {p.cell + 1}번째 셀), {p.kind}{more}: {p.text}")
    if len(groups) > limit:
        lines.append(f"  - ... 그 밖에 {len(groups) - limit}가지")
    lines.append("원인을 고치세요: 경고는 그 원인을 없애고, 학습자가 알아야 할 일은 한국어로 알립니다.")
    return "\n".join(lines)


def _failure_message(name: str, nb: NotebookNode, index: int, err: Exception) -> str:
    """실행이 멈춘 셀과 오류를 한국어로 설명합니다."""
    cell = nb.cells[index]
    ordinal = sum(1 for c in nb.cells[: index + 1] if c.get("cell_type") == "code")
    first = next((line for line in "".join(cell.get("source", "")).splitlines() if line.strip()), "")
    if isinstance(err, CellTimeoutError):
        why = "제한 시간 안에 끝나지 않았습니다"
    elif isinstance(err, DeadKernelError):
        why = "커널이 죽었습니다 (메모리 부족일 수 있습니다)"
    elif isinstance(err, CellExecutionError):
        why = f"오류가 났습니다: {err.ename}: {_plain(err.evalue).strip()}"
    else:
        why = f"실행이 멈췄습니다: {type(err).__name__}: {err}"
    tail = ""
    if isinstance(err, CellExecutionError):
        tb = [line for line in _plain(err.traceback).splitlines() if line.strip()]
        tail = "\n오류 추적의 끝부분:\n    " + "\n    ".join(tb[-6:])
    return (f"{name}: 셀 {_cell_label(cell, ordinal)} (노트북의 {index + 1}번째 셀, `{first.strip()[:80]}`)에서 "
            f"{why}{tail}")


def run_notebook(path: str | os.PathLike, *, env: Mapping[str, str] | None = None,
                 timeout: int | None = 600, on_cell: Callable[[int, int], None] | None = None) -> NotebookNode:
    """노트북을 새 커널에서 위에서 아래로 실행하고 출력을 검사해, 실행한 노트북을 돌려줍니다.

    작업 폴더는 노트북이 있는 폴더이고, 커널은 지금 파이썬(python3 커널)입니다. env는 커널에 더할 환경 변수,
    timeout은 셀 하나의 제한 시간(초, None이면 제한 없음), on_cell(셀 위치, 셀 수)은 셀을 시작할 때마다 부릅니다.
    실행이 실패하거나 출력에 문제가 있으면 NotebookError(한국어 메시지)를 냅니다.
    걸린 시간(초)은 nb.metadata["course_run"]["wall_s"]에 적습니다.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    current = [0]

    def cell_started(cell: NotebookNode, cell_index: int) -> None:
        current[0] = cell_index
        if on_cell is not None:
            on_cell(cell_index, len(nb.cells))

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", startup_timeout=120,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_start=cell_started)
    started = time.perf_counter()
    try:
        # 커널 프로세스가 직접 찍는 것(C 라이브러리 출력의 사본)은 버립니다: 셀 출력에 이미 담깁니다
        client.execute(env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        raise NotebookError(_failure_message(path.name, nb, current[0], err), nb) from None
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nb.metadata["course_run"] = {"wall_s": round(time.perf_counter() - started, 1)}
    problems = find_problems(nb)
    if problems:
        raise NotebookError(describe(problems, path.name), nb)
    return nb
