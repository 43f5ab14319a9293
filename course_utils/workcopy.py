"""내 노트북 사본: `make lab`은 강의 노트북(notebooks/)을 git이 무시하는 my_notebooks/에 복사해 그쪽을 엽니다.

실행 결과와 직접 고친 코드는 사본에만 남으므로 저장소는 언제나 깨끗하고 `git pull`은 충돌하지 않습니다.
이미 있는 사본은 절대 덮어쓰지 않습니다. 사본을 만든 뒤 강의 노트북이 바뀌었으면(git pull 등) 알려 줍니다:
그 사본의 이름을 바꾸거나 지운 뒤 다시 실행하면 새 판을 받습니다.
명령줄: python -m course_utils.workcopy (conda 환경처럼 make가 없을 때)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["REPO", "COPY_DIR", "SOURCE_KEY", "sync_copies", "main"]

REPO = Path(__file__).resolve().parents[1]
COPY_DIR = REPO / "my_notebooks"
SOURCE_KEY = "course_source_sha256"  # 사본의 노트북 메타데이터: 어느 판의 강의 노트북에서 만들었는지


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded_source(copy: Path) -> str | None:
    """사본이 기억하는 강의 노트북의 해시 (읽을 수 없으면 None)."""
    try:
        return json.loads(copy.read_text(encoding="utf-8"))["metadata"].get(SOURCE_KEY)
    except (OSError, ValueError, KeyError, AttributeError):
        return None


def sync_copies(src: Path = REPO / "notebooks", dst: Path = COPY_DIR) -> tuple[list[str], list[str]]:
    """dst에 없는 노트북만 복사하고 (새로 만든 사본, 강의 판이 바뀐 사본) 파일 이름 목록을 돌려줍니다."""
    dst.mkdir(parents=True, exist_ok=True)
    made, changed = [], []
    for course in sorted(Path(src).glob("*.ipynb")):
        copy, sha = dst / course.name, _sha256(course)
        if copy.exists():
            if _recorded_source(copy) != sha:
                changed.append(course.name)
            continue
        nb = json.loads(course.read_text(encoding="utf-8"))
        nb["metadata"][SOURCE_KEY] = sha
        with open(copy, "x", encoding="utf-8") as f:  # "x": 그사이 생긴 파일도 덮어쓰지 않습니다
            f.write(json.dumps(nb, ensure_ascii=False, indent=1) + "\n")
        made.append(course.name)
    return made, changed


def main() -> None:
    made, changed = sync_copies()
    where = COPY_DIR.relative_to(REPO)
    print(f"내 노트북 사본: {where}/ (새로 만든 사본 {len(made)}개). 실행 결과는 사본에만 남고 저장소는 깨끗합니다.")
    if changed:
        print(f"강의 노트북이 바뀌었습니다: {', '.join(changed)}\n"
              f"  새 판을 받으려면 {where}/ 의 그 파일 이름을 바꾸거나(내 실행 기록 보관) 지운 뒤 다시 실행하세요.")


if __name__ == "__main__":
    main()
