"""노트북 '준비물'의 시간 줄을 강의 빌드가 잰 값으로 다시 씁니다.

    python -m course_utils.prep_times build/full/results.json [다른 기계의 results.json ...] [--dry-run]

빌드 결과(results.json)마다 노트북 전체 시간, 장치, 데이터가 들어 있습니다. 노트북마다 첫 셀의
'- 시간...' 항목(이어지는 들여쓴 줄 포함)을 그 값으로 바꿉니다. 전체 모드로 잰 값이 없는 노트북은
그대로 둡니다: 학습자가 실제로 돌리는 전체 모드의 시간이 빠진 줄로 바꾸지 않습니다.
"""
from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from .record import format_data, format_duration

__all__ = ["NOTEBOOK_DIR", "MODE_NAMES", "short_device", "time_line", "rewrite", "main"]

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
MODE_NAMES = {"full": "전체 모드", "quick": "빠른 모드"}
_TIME_ITEM = re.compile(r"^- 시간.*(?:\n  (?!- ).*)*", re.M)  # '- 시간'으로 시작하는 항목과 이어지는 줄


def short_device(name: str) -> str:
    """'CPU x86_64, 스레드 2' -> 'CPU 2스레드'. GPU 이름은 그대로 둡니다."""
    match = re.fullmatch(r"CPU [^,]*, 스레드 (\d+)", name)
    return f"CPU {match.group(1)}스레드" if match else name


def _data_text(data: dict[str, Any]) -> str:
    """'실제 사진 20,000장, 나누기 400/92/10' (괄호 안에 다시 괄호가 들어가지 않게)."""
    text = format_data({k: v for k, v in data.items() if k != "split"})
    return text + (f", 나누기 {data['split']}" if data.get("split") else "")


def time_line(rows: Sequence[dict[str, Any]]) -> str:
    """한 노트북의 빌드 기록들로 '- 시간(...)' 한 줄을 만듭니다. 모드별로 장치마다 시간, 끝에 데이터."""
    parts = []
    for mode in ("full", "quick"):
        runs = [r for r in rows if r["mode"] == mode]
        if not runs:
            continue
        times = ", ".join(f"{short_device(r['device_name'])}에서 {format_duration(r['wall_s'])}" for r in runs)
        data = sorted({_data_text(r["record"]["data"]) for r in runs if r.get("record")})
        parts.append(f"{MODE_NAMES[mode]}는 {times}" + (f" ({'; '.join(data)})" if data else ""))
    return "- 시간(강의 빌드로 잰 노트북 전체 시간): " + ", ".join(parts) + "."


def rewrite(path: Path, line: str, dry_run: bool = False) -> bool:
    """노트북 첫 셀의 시간 항목을 line으로 바꿉니다. 바꿀 항목이 있었으면 True."""
    nb = nbformat.read(path, as_version=4)
    source = nb.cells[0].source
    if not _TIME_ITEM.search(source):
        return False
    new = _TIME_ITEM.sub(lambda _: line, source, count=1)
    if not dry_run and new != source:
        nb.cells[0].source = new
        nbformat.write(nb, path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.prep_times", description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="강의 빌드가 쓴 results.json (여러 기계의 것도 함께)")
    parser.add_argument("--dry-run", action="store_true", help="바꿀 줄만 보여 주고 노트북은 그대로 둠")
    args = parser.parse_args(argv)
    by_notebook: dict[str, list[dict[str, Any]]] = {}
    for results in args.results:
        for row in json.loads(results.read_text(encoding="utf-8")):
            by_notebook.setdefault(row["notebook"], []).append(row)
    for name, rows in sorted(by_notebook.items()):
        if not any(r["mode"] == "full" for r in rows):
            print(f"{name}: 전체 모드로 잰 기록이 없어 그대로 둡니다")
            continue
        line = time_line(rows)
        found = rewrite(NOTEBOOK_DIR / f"{name}.ipynb", line, dry_run=args.dry_run)
        print(f"{name}: {line}" if found else f"{name}: '- 시간' 항목을 찾지 못해 그대로 둡니다")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
