"""강의 빌드: 노트북을 하나씩 새 커널에서 실행해, 실행본과 결과 표(JSON, Markdown)와 읽기용 HTML을 만듭니다.

    python -m course_utils.build                 # 전체 모드로 모든 노트북 (make book)
    python -m course_utils.build 04 05           # 고른 노트북만 (make book NB="04 05")
    python -m course_utils.build --quick         # 빠른 모드 (make book QUICK=1)
    python -m course_utils.build --readme        # 전체 모드 결과 표를 README와 results/full.json에 넣기

실행본은 build/<모드>/notebooks, 노트북의 기록은 build/<모드>/results, 표는 build/<모드>/results.json과
results.md, HTML은 build/<모드>/html에 생깁니다. --readme는 전체 모드의 표를 README에 넣고, 그 표의 줄들을
저장소의 results/full.json(커밋하는 기록)에 씁니다. 전체 모드의 표는 이 폴더에서 실행하지 않은 노트북의 줄을
그 기록에서 가져오므로, 여러 날이나 여러 기계에서 나눠 돌린 빌드가 표 하나로 모입니다. 이미 끝난 노트북(노트북 파일보다 새 실행본이 있는 것)은
건너뜁니다(--force면 다시). 오류가 나면 그 노트북과 셀을 알리고 멈춥니다.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from tqdm import tqdm

from .execute import NotebookError, run_notebook
from .record import RESULTS_VAR, device_name, format_data, format_duration, format_metrics, load_records, write_json

__all__ = [
    "REPO", "NOTEBOOK_DIR", "README", "MARKERS", "MODE_TEXT", "build_dir", "select_notebooks", "is_done", "run_one",
    "RECORD_FILE", "collect_rows", "load_kept", "results_table", "write_results", "update_readme", "build", "main",
]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
README = REPO / "README.md"
MARKERS = ("<!-- results:start -->", "<!-- results:end -->")
RECORD_FILE = REPO / "results" / "full.json"  # README 결과 표의 줄들 (커밋하는 전체 모드 기록)
MODE_TEXT = {"full": "전체 모드", "quick": "빠른 모드(합성 데이터, 축소 실행)"}


def build_dir(mode: str) -> Path:
    """한 모드의 빌드 폴더 (git이 무시하는 build/ 아래)."""
    return REPO / "build" / mode


def select_notebooks(names: Sequence[str] = ()) -> list[Path]:
    """'04', '04_lenet5', '04_lenet5.ipynb' 같은 이름으로 노트북을 고릅니다. 없으면 모두, 목차 순서로."""
    every = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    chosen = set()
    for name in names:
        hits = [p for p in every if p.stem == Path(name).stem or p.name.startswith(f"{name}_")]
        if len(hits) != 1:
            raise SystemExit(f"노트북 '{name}'을(를) 찾지 못했습니다. 번호(예: 04)나 이름(예: 04_lenet5)을 주세요.")
        chosen.add(hits[0])
    return [p for p in every if p in chosen] if names else every


def is_done(path: Path, out: Path) -> bool:
    """실행본이 있고 노트북 파일보다 새것이면 끝난 것으로 봅니다."""
    copy = out / "notebooks" / path.name
    return copy.exists() and copy.stat().st_mtime >= path.stat().st_mtime


def run_one(path: Path, out: Path | None, *, quick: bool, timeout: int | None = 600,
            on_cell=None) -> nbformat.NotebookNode:
    """노트북 하나를 실행·검사하고, out이 있으면 실행본과 기록을 out 아래에 남깁니다.

    실패하면 이전 실행본과 기록을 지우고, 실패한 실행본을 out/failed에 남긴 뒤 NotebookError를 다시 냅니다.
    """
    import torch

    from .setup import get_device

    env = {"COURSE_QUICK": "1" if quick else "0"}
    if out is not None:
        env[RESULTS_VAR] = str(out / "results")
        for stale in (out / "notebooks" / path.name, out / "results" / f"{path.stem}.json"):
            stale.unlink(missing_ok=True)
    try:
        nb = run_notebook(path, env=env, timeout=timeout, on_cell=on_cell)
    except NotebookError as err:
        if out is not None and err.nb is not None:
            _save(err.nb, out / "failed" / path.name)
        raise
    device = get_device()
    nb.metadata["course_run"].update(mode="quick" if quick else "full", device=device.type, torch=torch.__version__,
                                     device_name=device_name(device), finished=time.strftime("%Y-%m-%dT%H:%M:%S"))
    if out is not None:
        _save(nb, out / "notebooks" / path.name)
        (out / "failed" / path.name).unlink(missing_ok=True)
    return nb


def _save(nb: nbformat.NotebookNode, path: Path) -> None:
    """노트북을 임시 파일에 쓴 뒤 바꿔치기합니다."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def _title(nb: nbformat.NotebookNode) -> str:
    """첫 셀의 '# 04. LeNet-5: ...' 제목에서 번호 뒤의 짧은 이름."""
    first = "".join(nb.cells[0].get("source", "")).splitlines()[0] if nb.cells else ""
    return re.sub(r"^#\s*\d+\.\s*", "", first).split(":")[0].strip()


def load_kept(path: Path = RECORD_FILE) -> dict[str, dict[str, Any]]:
    """커밋한 전체 모드 기록을 {노트북 이름: 줄}로 읽습니다. 없으면 빈 사전."""
    if not path.exists():
        return {}
    return {row["notebook"]: row for row in json.loads(path.read_text(encoding="utf-8"))}


def collect_rows(out: Path, kept: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """빌드 폴더의 실행본과 기록을 노트북 순서대로 한 줄씩 모읍니다.

    kept(커밋한 기록)는 이 빌드 폴더에 실행본이 없는 노트북의 줄로만 씁니다: 새로 실행한 것이 앞섭니다.
    """
    records = load_records(out / "results") if (out / "results").is_dir() else {}
    rows = []
    for path in select_notebooks():
        copy = out / "notebooks" / path.name
        if copy.exists():
            nb = nbformat.read(copy, as_version=4)
            rows.append({"notebook": path.stem, "title": _title(nb), **nb.metadata.get("course_run", {}),
                         "record": records.get(path.stem)})
        elif kept and path.stem in kept:
            rows.append(kept[path.stem])
    return rows


def results_table(rows: list[dict[str, Any]], expected: Sequence[str] = ()) -> str:
    """결과 표(Markdown): 머리말(모드, 날짜, 장치, torch)과 노트북마다 한 줄.

    expected(강의의 노트북 이름들) 가운데 아직 이 모드로 실행하지 않은 것은 표 아래에 이름을 적습니다.
    """
    if not rows:
        return "아직 실행한 노트북이 없습니다.\n"
    modes = sorted({MODE_TEXT[r["mode"]] for r in rows})
    devices = sorted({r["device_name"] for r in rows})
    torch_versions = sorted({r["torch"] for r in rows})
    day = max(r["finished"] for r in rows)[:10]
    total = sum(r["wall_s"] for r in rows)
    lines = [f"**{', '.join(modes)}** 로 만든 표입니다 ({day}, 장치: {', '.join(devices)}, "
             f"torch {', '.join(torch_versions)}; `python -m course_utils.build`가 각 노트북의 기록에서 만듭니다).",
             "", "| 노트북 | 데이터 | 결과 | 비교 기준 | 노트북 전체 시간 |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        rec = r["record"] or {}
        lines.append(f"| `{r['notebook']}` {r['title']} | {format_data(rec['data']) if rec else '—'} | "
                     f"{format_metrics(rec.get('metrics', {})) or '—'} | {format_metrics(rec.get('baseline', {})) or '—'} | "
                     f"{format_duration(r['wall_s'])} |")
    lines += ["", f"노트북 {len(rows)}개를 차례로 실행한 시간의 합: {format_duration(total)}."]
    done = {r["notebook"] for r in rows}
    missing = [name for name in expected if name not in done]
    if missing:
        lines.append(f"아직 이 모드로 실행한 기록이 없는 노트북 {len(missing)}개: "
                     + ", ".join(f"`{name}`" for name in missing) + ".")
    if any(r["mode"] == "quick" for r in rows):
        lines.append("빠른 모드의 수치는 합성 그림과 작은 모델로 낸 것이라 실제 사진의 성능이 아닙니다.")
    return "\n".join(lines) + "\n"


def write_results(out: Path, kept: dict[str, dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], str]:
    """results.json과 results.md를 쓰고 (줄들, 표)를 돌려줍니다."""
    rows = collect_rows(out, kept)
    table = results_table(rows, expected=[p.stem for p in select_notebooks()])
    write_json(out / "results.json", rows)
    (out / "results.md").write_text(table, encoding="utf-8")
    return rows, table


def update_readme(table: str, readme: Path = README) -> None:
    """README의 두 표시(<!-- results:start -->, <!-- results:end -->) 사이를 결과 표로 바꿉니다."""
    text = readme.read_text(encoding="utf-8")
    start, end = (text.find(m) for m in MARKERS)
    if start < 0 or end < start:
        raise SystemExit(f"{readme.name}에 결과 표를 넣을 자리 표시 {MARKERS[0]} ... {MARKERS[1]}가 없습니다.")
    readme.write_text(text[: start + len(MARKERS[0])] + "\n" + table + text[end:], encoding="utf-8")


def build(paths: Sequence[Path], *, quick: bool, force: bool = False, execute: bool = True,
          timeout: int | None = None) -> bool:
    """노트북들을 차례로 실행합니다 (끝난 것은 건너뜀). 모두 성공하면 True."""
    out = build_dir("quick" if quick else "full")
    if not execute:
        missing = [p.stem for p in paths if not (out / "notebooks" / p.name).exists()]
        print(f"실행하지 않고 있는 실행본으로 만듭니다. 실행본이 없는 노트북: {', '.join(missing) or '없음'}")
        return True
    todo = [p for p in paths if force or not is_done(p, out)]
    if len(todo) < len(paths):
        print(f"이미 실행한 노트북 {len(paths) - len(todo)}개는 건너뜁니다 (다시 하려면 --force).")
    bar = tqdm(todo, desc="노트북", unit="개")
    for path in bar:
        bar.set_postfix_str(path.stem)
        try:
            run_one(path, out, quick=quick, timeout=timeout,
                    on_cell=lambda i, n, name=path.stem: bar.set_postfix_str(f"{name} 셀 {i + 1}/{n}"))
        except NotebookError as err:
            bar.close()
            print(f"\n빌드를 멈췄습니다.\n{err}\n실패한 실행본: {out / 'failed' / path.name}\n"
                  "고친 뒤 같은 명령을 다시 실행하면 이미 끝난 노트북은 건너뜁니다.", file=sys.stderr)
            return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.build", description="강의 빌드")
    parser.add_argument("notebooks", nargs="*", help="실행할 노트북 번호나 이름 (없으면 모두)")
    parser.add_argument("--quick", action="store_true", help="빠른 모드로 실행 (COURSE_QUICK=1)")
    parser.add_argument("--force", action="store_true", help="이미 끝난 노트북도 다시 실행")
    parser.add_argument("--no-execute", action="store_true", help="실행하지 않고 있는 실행본으로 표와 HTML만")
    parser.add_argument("--no-html", action="store_true", help="읽기용 HTML을 만들지 않음")
    parser.add_argument("--readme", action="store_true",
                        help="전체 모드의 결과 표를 README의 결과 절에, 그 줄들을 results/full.json에 넣기")
    parser.add_argument("--timeout", type=int, default=0, help="셀 하나의 제한 시간(초, 0이면 제한 없음)")
    args = parser.parse_args(argv)
    if args.readme and args.quick:
        raise SystemExit("--readme는 전체 모드의 표만 README에 넣습니다. --quick 없이 실행하세요.")
    out = build_dir("quick" if args.quick else "full")
    ok = build(select_notebooks(args.notebooks), quick=args.quick, force=args.force,
               execute=not args.no_execute, timeout=args.timeout or None)
    rows, table = write_results(out, kept=None if args.quick else load_kept())
    print(f"결과 표: {out / 'results.md'}")
    if ok and not args.no_html:
        from .book import render

        print(f"읽기용 HTML: {render(out, table)}")
    if ok and args.readme:
        write_json(RECORD_FILE, rows)
        update_readme(table)
        print(f"{README.name}의 결과 절과 {RECORD_FILE.relative_to(REPO)}을(를) 바꿨습니다.")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
