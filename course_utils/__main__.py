"""강사용 명령줄: python -m course_utils download dogs-vs-cats|oxford-pets|all
                 python -m course_utils check <분류 데이터 폴더>
                 python -m course_utils organize <평평한 train 폴더> <대상 폴더>
                 python -m course_utils status
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Sequence

from . import download as dl
from .data import SKIP_NAMES_KO, DataFolderError, index_images, organize_flat_folder
from .setup import find_data_dir
from .sources import _count_images, dataset_status, download_dogs_vs_cats, download_oxford_pets

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """강사용 명령줄: download / check / organize / status."""
    parser = argparse.ArgumentParser(prog="python -m course_utils", description="강의 데이터 준비")
    parser.add_argument("--data-dir", type=Path, default=None, help="데이터 폴더 (기본: COURSE_DATA 또는 <저장소>/data)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_dl = sub.add_parser("download", help="데이터 세트 내려받기")
    p_dl.add_argument("name", choices=["dogs-vs-cats", "oxford-pets", "all"])
    p_dl.add_argument("--timeout", type=float, default=10.0)
    p_check = sub.add_parser("check", help="분류 데이터 폴더를 읽어 구조, 클래스, 건너뛸 파일을 보기")
    p_check.add_argument("folder", type=Path)
    p_org = sub.add_parser("organize", help="Kaggle의 평평한 train/ 폴더를 Cat/Dog 폴더로 복사 (그대로도 읽을 수 있음)")
    p_org.add_argument("src", type=Path)
    p_org.add_argument("dst", type=Path)
    p_org.add_argument("--move", action="store_true", help="복사 대신 옮기기")
    sub.add_parser("status", help="어떤 데이터가 있는지 보기")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or find_data_dir()

    if args.cmd == "organize":
        print("정리했습니다:", organize_flat_folder(args.src, args.dst, move=args.move))
        return 0
    if args.cmd == "check":
        return _check(args.folder)
    if args.cmd == "status":
        for row in dataset_status(SimpleNamespace(data_dir=data_dir)):
            mark = "있음" if row["present"] else "없음"
            print(f"{row['name']}: {mark}, {row['n_images']}장, {row['path']}\n  구하는 방법: {row['how']}")
            if row["problem"]:
                print(f"  문제: {row['problem']}")
        return 0
    names = ["dogs-vs-cats", "oxford-pets"] if args.name == "all" else [args.name]
    jobs = {"dogs-vs-cats": download_dogs_vs_cats, "oxford-pets": download_oxford_pets}
    status = 0
    for name in names:
        try:
            root = jobs[name](data_dir, timeout=args.timeout)
            print(f"{name}: 준비됐습니다 -> {root} ({_count_images(root)}장)")
        except dl.DownloadError as exc:
            print(f"{name}: 실패했습니다.\n{exc}", file=sys.stderr)
            status = 1
    return status


def _check(folder: Path) -> int:
    """폴더를 한 번 검사해 요약을 보이거나, 읽을 수 없는 이유를 보입니다 (학습 전에 미리 확인할 때)."""
    try:
        index = index_images(folder)
    except (DataFolderError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(index.summary())
    for reason, paths in index.skipped.items():
        if paths:
            print(f"  {SKIP_NAMES_KO[reason]} {len(paths)}개, 예: {', '.join(str(p) for p in paths[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
