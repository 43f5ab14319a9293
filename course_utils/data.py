"""이미지 폴더: 클래스 폴더 읽기와 색인, 교재식 시드 고정 나누기, Dataset과 디코딩 캐시, 평평한 폴더 정리.

폴더는 torchvision의 ImageFolder처럼 읽습니다: 클래스는 파일의 부모 폴더 이름(어떤 이름이든, 찾은 그대로),
클래스 번호는 이름순입니다. 세 가지 구조를 읽습니다.

    root/Cat/0.jpg, root/Dog/0.jpg                 클래스 폴더 (PetImages/ 처럼 한 겹 싸여 있어도 됨)
    root/train/cats/x.jpg, root/test/cats/y.jpg    나뉜 폴더: train/, val/ (valid/, validation/), test/
    root/train/cat.0.jpg, root/train/dog.0.jpg     Kaggle의 평평한 폴더: 클래스는 파일 이름의 앞마디, 복사 없이 그 자리에서

데이터를 어디서 찾고 받는지는 course_utils.sources, 이미지 파일 하나를 읽고 검사하는 일은 course_utils.images가 맡습니다.
"""
from __future__ import annotations

import inspect
import os
import random
import re
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from . import images
from .images import check_image, load_rgb
from .progress import progress

__all__ = [
    "SKIP_REASONS", "SKIP_NAMES_KO", "SPLITS", "SPLIT_NAMES_KO", "DataFolderError", "Part", "FolderLayout",
    "read_layout", "ImageIndex", "label_from_path", "index_images", "split_items", "course_split", "heldout_items",
    "cache_size_for", "ImageListDataset", "organize_flat_folder",
]

Item = tuple[Path, int]

SKIP_REASONS = images.SKIP_REASONS + ("subfolder", "unlabeled")
SKIP_NAMES_KO = {**images.SKIP_NAMES_KO, "subfolder": "클래스 폴더 안의 하위 폴더",
                 "unlabeled": "이름에 클래스가 없는 파일"}
SPLITS = ("train", "val", "test")
SPLIT_NAMES_KO = {"train": "훈련", "val": "검증", "test": "테스트"}
_SPLIT_DIRS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
_KAGGLE_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\.\d+\.[A-Za-z0-9]+$")  # cat.0.jpg -> 'cat'
_HOW = ("할 일: 클래스마다 폴더를 하나씩 만들고(예: Cat/, Dog/) 사진을 넣은 폴더를 주세요. "
        "train/, val/, test/ 아래에 같은 클래스 폴더가 있는 나뉜 구조나, Kaggle의 평평한 train/(cat.0.jpg, dog.0.jpg)도 됩니다.")


_ANNOUNCED: set[str] = set()  # 같은 안내는 한 번만 (같은 나누기를 여러 번 불러 비교할 때 줄이 겹치지 않게)


def _announce(message: str) -> None:
    """안내문을 처음 한 번만 출력합니다."""
    if message not in _ANNOUNCED:
        _ANNOUNCED.add(message)
        print(message)


class DataFolderError(ValueError):
    """분류 데이터 폴더를 읽을 수 없을 때: 찾은 것, 문제 전부, 할 일을 한국어로 한 번에 알립니다."""


# ---------------------------------------------------------------- 폴더 구조

class Part(NamedTuple):
    """색인할 폴더 하나: 나누기(None이면 나뉘지 않음), 클래스(None이면 파일 이름 앞마디), 폴더."""

    split: str | None
    cls: str | None
    folder: Path


@dataclass
class FolderLayout:
    """read_layout의 결과: 실제로 읽는 폴더, 구조 종류, 찾은 클래스 이름, 색인할 폴더들, 쓰지 않는 항목."""

    root: Path
    kind: str  # 'classes' | 'splits' | 'flat'
    classes: list[str]
    parts: list[Part]
    ignored: list[Path] = field(default_factory=list)

    @property
    def splits(self) -> list[str]:
        """폴더가 정해 준 나누기 이름 (train, val, test 순, 나뉘지 않은 구조면 빈 목록)."""
        return [s for s in SPLITS if any(p.split == s for p in self.parts)]

    @property
    def folders(self) -> list[Path]:
        """색인하는 폴더들 (교재처럼 os.listdir로 훑어볼 때 씁니다)."""
        return [p.folder for p in self.parts]

    def describe(self) -> str:
        """구조를 한국어 한 줄로."""
        names = ", ".join(self.classes)
        if self.kind == "flat" and not self.splits:
            text = f"평평한 폴더 {self.root.name}/ (클래스는 파일 이름 앞마디: {names})"
        elif self.kind == "classes":
            text = f"클래스 폴더 {len(self.classes)}개: {', '.join(c + '/' for c in self.classes)}"
        else:
            dirs = ", ".join(dict.fromkeys((p.folder if p.cls is None else p.folder.parent).name + "/"
                                           for p in self.parts))
            inner = "파일 이름 앞마디" if self.kind == "flat" else "클래스 폴더"
            text = f"나뉜 폴더 {dirs} (클래스는 {inner}: {names})"
        if self.ignored:
            text += f"; 쓰지 않는 항목 {', '.join(p.name for p in self.ignored[:5])}" + (" ..." if len(self.ignored) > 5 else "")
        return text


def _is_dir(entry: os.DirEntry) -> bool:
    """폴더인지 (돌고 도는 링크는 폴더가 아님: 파일 검사가 '끊어진 링크'로 셉니다)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _entries(folder: Path) -> tuple[list[Path], list[Path]]:
    """폴더 안의 (하위 폴더들, 그 밖의 항목들), 이름순. 숨김 항목과 macOS zip의 __MACOSX/는 뺍니다."""
    dirs, others = [], []
    with os.scandir(folder) as entries:  # scandir은 항목마다 stat을 부르지 않아 25,000장 폴더에서도 빠릅니다
        for entry in entries:
            if not (entry.name.startswith(".") or entry.name == "__MACOSX"):
                (dirs if _is_dir(entry) else others).append(Path(entry.path))
    return sorted(dirs, key=lambda p: p.name), sorted(others, key=lambda p: p.name)


def _found(folder: Path, limit: int = 8) -> str:
    """폴더 안에서 찾은 것을 한 줄로: 하위 폴더(항목 수)와 파일."""
    dirs, others = _entries(folder)
    shown = [f"{d.name}/({sum(map(len, _entries(d)))}개)" for d in dirs[:limit]]
    shown += [p.name for p in others[:max(0, limit - len(shown))]]
    more = len(dirs) + len(others) - len(shown)
    return (", ".join(shown) + (f" 외 {more}개" if more > 0 else "")) or "아무것도 없음"


def _kaggle_class(path: Path) -> str | None:
    """Kaggle식 파일 이름의 클래스 (cat.0.jpg -> 'cat'), 아니면 None."""
    m = _KAGGLE_NAME.match(path.name)
    return m.group(1) if m else None


def _read_pool(folder: Path, split: str | None, where: str) -> tuple[list[Part], list[str], list[Path], list[str]]:
    """나뉘지 않은 폴더 하나: 클래스 폴더들 또는 Kaggle식 평평한 파일들. (부분, 클래스, 쓰지 않는 항목, 문제)."""
    dirs, files = _entries(folder)
    if dirs:
        problems = []
        for d in dirs:
            inner, inner_files = _entries(d)
            if not inner and not inner_files:
                problems.append(f"{where}{d.name}/ 폴더가 비었습니다. 사진을 넣거나 폴더를 지우세요.")
            elif not inner_files:
                problems.append(f"{where}{d.name}/ 안에 사진 없이 폴더({', '.join(x.name + '/' for x in inner[:4])})만 "
                                f"있습니다. 그 안이 데이터라면 {d} 를 주세요.")
        if len(dirs) == 1:
            problems.append(f"{where or folder.name + '/'} 안의 클래스 폴더가 {dirs[0].name}/ 하나뿐입니다. 분류에는 클래스 폴더가 둘 이상 필요합니다.")
        return [Part(split, d.name, d) for d in dirs], [d.name for d in dirs], files, problems
    labels = Counter(c for c in map(_kaggle_class, files) if c)
    if len(labels) >= 2:
        return [Part(split, None, folder)], sorted(labels), [], []
    if len(labels) == 1:
        (only,) = labels
        return [], [only], [], [f"{where or folder.name + '/'} 안의 파일 이름이 모두 {only}.N 꼴이라 클래스가 {only} 하나뿐입니다. "
                                "분류에는 클래스가 둘 이상 필요합니다."]
    if not files:
        return [], [], [], [f"{where or folder.name + '/'} 폴더가 비었습니다."]
    zips = [p.name for p in files if p.suffix.lower() in (".zip", ".tar", ".gz", ".tgz")]
    hint = f" 압축 파일({', '.join(zips[:3])})이 있으면 먼저 푸세요." if zips else ""
    if not where and len(_entries(folder.parent)[0]) >= 2:
        hint += f" 클래스 폴더 하나를 준 것이라면 한 단계 위 폴더 {folder.parent} 를 주세요."
    return [], [], [], [f"{where or folder.name + '/'} 안에 클래스 폴더가 없고 파일 {len(files)}개만 있습니다 "
                        f"(이름도 cat.0.jpg 꼴이 아닙니다).{hint}"]


def _unwrap(root: Path) -> Path:
    """PetImages/ 처럼 폴더 하나로 싸여 있으면 그 안으로 (안에 폴더가 둘 이상이거나 나누기 폴더가 있을 때만)."""
    while True:
        dirs, _ = _entries(root)
        if len(dirs) != 1 or dirs[0].name.lower() in _SPLIT_DIRS:
            return root
        inner, _ = _entries(dirs[0])
        if len(inner) < 2 and not any(d.name.lower() in _SPLIT_DIRS for d in inner):
            return root
        root = dirs[0]


def _refuse(root: Path, problems: list[str]) -> DataFolderError:
    lines = "\n".join(f"  - {p}" for p in problems)
    return DataFolderError(f"{root} 를 분류 데이터로 읽을 수 없습니다.\n  찾은 것: {_found(root)}\n  문제:\n{lines}\n  {_HOW}")


def _read_splits(split_dirs: list[Path]) -> tuple[list[Part], list[str], list[Path], list[str], str]:
    """train/ val/ test/ 폴더들: 나누기마다 클래스 폴더나 평평한 파일. (부분, 클래스, 쓰지 않는 항목, 문제, 종류)."""
    parts, ignored, problems, per_split, kind = [], [], [], {}, "splits"
    for d in sorted(split_dirs, key=lambda d: SPLITS.index(_SPLIT_DIRS[d.name.lower()])):
        split = _SPLIT_DIRS[d.name.lower()]
        if split in per_split:
            problems.append(f"{SPLIT_NAMES_KO[split]} 나누기 폴더가 둘입니다({d.name}/ 등). 하나만 남기세요.")
            continue
        sub_parts, per_split[split], sub_ignored, sub_problems = _read_pool(d, split, f"{d.name}/")
        parts, ignored, problems = parts + sub_parts, ignored + sub_ignored, problems + sub_problems
        kind = "flat" if any(p.cls is None for p in sub_parts) else kind
    if "train" not in per_split:
        problems.append("train/ 폴더가 없습니다. 나뉜 구조에는 훈련용 train/ 이 꼭 있어야 합니다.")
    if len({tuple(c) for c in per_split.values()}) > 1:
        listing = "; ".join(f"{s}: {', '.join(c) or '없음'}" for s, c in per_split.items())
        problems.append(f"나누기마다 클래스가 다릅니다 ({listing}). 모든 나누기에 같은 클래스 폴더를 두세요.")
    return parts, next(iter(per_split.values()), []), ignored, problems, kind


def _pick_classes(parts: list[Part], found: list[str], classes: Sequence[str]) -> tuple[list[Part], list[str]]:
    """이름으로 지정한 클래스만 그 순서로. 없는 이름은 찾은 클래스와 함께 DataFolderError로."""
    missing = [c for c in classes if c not in found]
    if missing:
        return parts, [f"지정한 클래스 {', '.join(missing)} 의 폴더가 없습니다. 찾은 클래스: {', '.join(found) or '없음'} "
                       "(대소문자까지 같아야 합니다)."]
    order = list(classes)
    parts = [p for p in parts if p.cls is None or p.cls in order]
    parts.sort(key=lambda p: (SPLITS.index(p.split) if p.split else 0, order.index(p.cls) if p.cls else 0))
    return parts, []


def _check_path(given: Path) -> None:
    """경로가 없거나 폴더가 아니면, 옆에 무엇이 있는지와 할 일을 담은 한국어 오류."""
    if not given.exists():
        where = given.parent if given.parent.is_dir() else None
        seen = f" {where} 안에 있는 것: {_found(where)}." if where is not None else ""
        raise FileNotFoundError(f"{given} 폴더가 없습니다.{seen} 경로의 철자를 확인하거나, data/README.md의 준비 방법을 따르세요.")
    if not given.is_dir():
        archive = given.suffix.lower() in (".zip", ".tar", ".gz", ".tgz")
        raise NotADirectoryError(f"{given} 는 폴더가 아니라 {'압축 파일' if archive else '파일'}입니다. "
                                 + ("먼저 압축을 풀고 그 폴더를 주세요." if archive else
                                    "사진 파일이 아니라, 클래스 폴더(예: Cat/, Dog/)가 든 폴더를 주세요."))


def read_layout(root: str | os.PathLike, classes: Sequence[str] | None = None) -> FolderLayout:
    """분류 데이터 폴더의 구조를 읽습니다 (파일은 열지 않음). 읽을 수 없으면 문제를 모두 모아 한국어 오류 하나로.

    classes를 주면 그 클래스 폴더만 그 순서로 씁니다 (없는 이름은 찾은 것과 함께 알립니다).
    """
    given = Path(root).expanduser()
    _check_path(given)
    root = _unwrap(given)
    dirs, _ = _entries(root)
    split_dirs = [d for d in dirs if d.name.lower() in _SPLIT_DIRS]
    ignored = []
    if len(split_dirs) == 1 and _SPLIT_DIRS[split_dirs[0].name.lower()] == "train":
        # train/ 하나뿐(Kaggle: train/ 과 레이블 없는 test1/)이면 나뉘지 않은 폴더와 같습니다: 교재의 나누기를 씁니다
        ignored = [d for d in dirs if d != split_dirs[0]]
        root, split_dirs = split_dirs[0], []
    if split_dirs:
        parts, found, loose, problems, kind = _read_splits(split_dirs)
        ignored += [d for d in dirs if d not in split_dirs]
    else:
        parts, found, loose, problems = _read_pool(root, None, "")
        kind = "flat" if parts and parts[0].cls is None else "classes"
    if classes is not None and not problems:
        parts, problems = _pick_classes(parts, found, classes)
        found = list(classes)
    if problems:
        raise _refuse(root, problems)
    return FolderLayout(root, kind, list(found), parts, ignored + loose)


# ---------------------------------------------------------------- 색인

@dataclass
class ImageIndex:
    """index_images의 결과: 쓸 수 있는 (경로, 레이블) 목록, 클래스 이름, 건너뛴 파일, 색 모드 수.

    splits는 폴더가 정해 준 나누기(train/ val/ test/ 구조일 때 {'train': [...], ...}, 아니면 빈 사전)입니다.
    """

    items: list[Item]
    classes: list[str]
    skipped: dict[str, list[Path]]
    modes: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    splits: dict[str, list[Item]] = field(default_factory=dict)
    layout: FolderLayout | None = None

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def class_counts(self) -> dict[str, int]:
        """클래스별 이미지 수."""
        counts = Counter(label for _, label in self.items)
        return {name: counts.get(i, 0) for i, name in enumerate(self.classes)}

    def summary(self) -> str:
        """사람이 읽는 한국어 요약 (구조, 클래스별 수, 건너뛴 이유별 수, RGB가 아닌 색 모드 수)."""
        per_class = ", ".join(f"{k} {v}장" for k, v in self.class_counts().items())
        skipped = ", ".join(f"{SKIP_NAMES_KO[r]} {len(v)}" for r, v in self.skipped.items() if v) or "없음"
        modes = ", ".join(f"{m} {n}" for m, n in sorted(self.modes.items()))
        given = "".join(f", {SPLIT_NAMES_KO[s]} {len(v)}" for s, v in self.splits.items())
        head = f"[{self.layout.describe()}] " if self.layout else ""
        return (f"{head}쓸 수 있는 이미지 {len(self.items)}장 ({per_class}{given}); 건너뜀 {self.n_skipped}개 ({skipped}); "
                f"원래 색 모드: {modes} (RGB가 아닌 것은 읽을 때 RGB로 바꿉니다); 검사 {self.seconds:.1f}초")


def label_from_path(path: str | os.PathLike, classes: Sequence[str] | None = None) -> str:
    """파일의 클래스 이름 = 부모 폴더 이름 (운영체제의 경로 구분자와 파일 이름에 상관없이).

    classes를 주었는데 부모 폴더가 그 안에 없으면 Kaggle의 평평한 폴더(train/cat.0.jpg)로 보고 파일 이름 앞마디를 씁니다.
    """
    path = Path(path)
    if classes is None or path.parent.name in classes:
        return path.parent.name
    name = _kaggle_class(path)
    if name in classes:
        return name
    raise ValueError(f"{path} 의 클래스를 알 수 없습니다: 부모 폴더 {path.parent.name!r}도, 파일 이름 앞마디도 "
                     f"클래스({', '.join(classes)})가 아닙니다.")


def _collect(part: Part, class_idx: dict[str, int], skipped: dict[str, list[Path]]) -> list[tuple[Path, int]]:
    """폴더 하나의 보이는 항목마다: 검사할 (파일, 레이블)로, 아니면 이유와 함께 건너뜀으로."""
    dirs, others = _entries(part.folder)
    skipped["subfolder"] += dirs  # 클래스 폴더 안의 폴더는 쓰지 않고 셉니다 (안의 사진을 쓰려면 클래스 폴더로 옮기세요)
    files = []
    for path in others:
        name = part.cls or _kaggle_class(path)
        if name in class_idx:
            files.append((path, class_idx[name]))
        elif part.cls is None:
            skipped["unlabeled"].append(path)
    return sorted(files, key=lambda f: (f[1], f[0].name)) if part.cls is None else files


def _check_counts(index: ImageIndex, root: Path) -> None:
    """클래스나 나누기 하나라도 쓸 이미지가 0장이면 이유와 함께 멈춥니다."""
    skipped = ", ".join(f"{SKIP_NAMES_KO[r]} {len(v)}" for r, v in index.skipped.items() if v) or "건너뛴 파일 없음"
    empty = [c for c, n in index.class_counts().items() if n == 0]
    empty_splits = [SPLIT_NAMES_KO[s] for s, v in index.splits.items() if not v]
    if not index.items or empty or empty_splits:
        what = (f"클래스 {', '.join(empty)}" if empty else "") + (f" 나누기 {', '.join(empty_splits)}" if empty_splits else "")
        raise DataFolderError(f"{root} 에서 쓸 수 있는 이미지가 없는 {what.strip() or '폴더'}가 있습니다 ({skipped}). "
                              "깨지지 않은 사진(JPEG, PNG 등)을 넣으세요.")


def index_images(root: str | os.PathLike | FolderLayout, classes: Sequence[str] | None = None,
                 workers: int | None = None) -> ImageIndex:
    """분류 데이터 폴더(read_layout이 읽는 세 구조)의 이미지를 한 번 검사해 목록을 만듭니다.

    파일마다 끝까지 디코딩해 보고 0바이트, 이미지가 아님, 잘림, 깨짐, 너무 큼, 끊어진 링크를 건너뛰고 셉니다.
    클래스 폴더 안의 하위 폴더와 평평한 폴더의 이름 없는 파일도 이유와 함께 셉니다: 보이는 항목은 모두
    '사용' 아니면 '건너뜀'입니다. 흑백, CMYK, 팔레트, RGBA, 16비트는 그대로 두고 읽을 때 RGB로 바꿉니다.
    검사는 여기서 한 번뿐이고 Dataset은 에포크마다 다시 검사하지 않습니다. 순서는 나누기, 클래스 이름, 파일 이름순입니다.
    ImageFolder와 다른 점: 숨김 폴더(.ipynb_checkpoints)는 클래스가 아니고, 확장자가 아니라 내용으로 이미지를 가립니다.
    """
    layout = root if isinstance(root, FolderLayout) else read_layout(root, classes)
    start = time.perf_counter()
    class_idx = {name: i for i, name in enumerate(layout.classes)}
    skipped: dict[str, list[Path]] = {r: [] for r in SKIP_REASONS}
    files = [(part.split, path, label) for part in layout.parts for path, label in _collect(part, class_idx, skipped)]
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        checks = pool.map(lambda f: check_image(f[1]), files)  # PIL 디코딩은 GIL을 풀어 줍니다
        results = list(progress(checks, desc="이미지 검사", total=len(files)))
    items, splits, modes = [], {s: [] for s in layout.splits}, Counter()
    for (split, path, label), (reason, mode) in zip(files, results):
        if reason:
            skipped[reason].append(path)
            continue
        items.append((path, label))
        modes[mode] += 1
        if split:
            splits[split].append((path, label))
    index = ImageIndex(items, list(layout.classes), skipped, modes, time.perf_counter() - start, splits, layout)
    _check_counts(index, layout.root)
    return index


# ---------------------------------------------------------------- 나누기

def _split_counts(total: int, n_train: int | float, n_val: int | float | None, n_test: int | float) -> tuple[int, int | None, int]:
    """비율(0과 1 사이의 실수)이면 장수로 바꿉니다. 음수, 비율과 장수의 섞임, 합이 1을 넘는 비율은 거절합니다."""
    values = {"n_train": n_train, "n_val": n_val, "n_test": n_test}
    given = {k: v for k, v in values.items() if v is not None}
    if any(not isinstance(v, (int, float)) or v < 0 for v in given.values()):
        raise ValueError(f"나누기 크기는 0 이상의 수여야 합니다: {given}")
    fractions = {k: v for k, v in given.items() if isinstance(v, float) and 0 < v < 1}
    if not fractions:
        return int(n_train), None if n_val is None else int(n_val), int(n_test)
    counts = {k: v for k, v in given.items() if k not in fractions and v != 0}
    if counts:
        raise ValueError(f"비율(0과 1 사이)과 장수를 섞어 쓸 수 없습니다: {given}. 모두 비율이나 모두 장수로 주세요.")
    if sum(fractions.values()) > 1 + 1e-9:
        raise ValueError(f"비율의 합이 {' + '.join(f'{v:g}' for v in given.values())} = {sum(given.values()):g}로 1을 넘습니다. "
                         "그대로 자르면 훈련과 테스트가 같은 사진을 나눠 씁니다. 합이 1 이하가 되게 주세요 (예: 0.8, 0.18, 0.02).")
    n_test_ = round(total * n_test)
    n_train_ = round(total * n_train)
    n_val_ = None if n_val is None else min(round(total * n_val), total - n_train_ - n_test_)
    return n_train_, n_val_, n_test_


def split_items(items: Sequence[Any], n_train: int | float = 400, n_val: int | float | None = 92,
                n_test: int | float = 10, seed: int = 42, strict: bool = False) -> tuple[list, list, list]:
    """교재의 방식대로 나눕니다: random.seed(seed) 후 섞고 [:n_train], [n_train:-n_test], [-n_test:].

    검증 세트는 n_val개로 자릅니다 (None이면 남은 것 전부). 세 값이 모두 0과 1 사이의 실수이면
    비율로 봅니다 (예: 0.8, 0.18, 0.02. 합이 1을 넘으면 ValueError). 이미지가 모자라면 비율을 유지해 줄이고
    알립니다 (strict=True이면 ValueError). 0이 아닌 크기를 요청한 세트가 비게 되면 어느 세트가 왜 비는지 알리며 멈춥니다.
    원래 목록은 바꾸지 않습니다. 교재처럼 ``random.seed(42); random.shuffle(x)`` 한 것과 같은 순서가 나옵니다.
    """
    items = list(items)
    total = len(items)
    asked = {"train": n_train, "val": 1 if n_val is None else n_val, "test": n_test}
    n_train, n_val, n_test = _split_counts(total, n_train, n_val, n_test)
    need = n_train + n_test + (n_val or 0)
    shrunk = ""
    if need > total:
        msg = f"이미지가 {total}장뿐인데 훈련 {n_train} + 검증 {n_val} + 테스트 {n_test} = {need}장이 필요합니다"
        if strict:
            raise ValueError(msg + ". 개수를 줄이거나 비율(예: n_train=0.8, n_val=0.18, n_test=0.02)로 주세요.")
        f = total / need  # 비율을 유지한 채 줄입니다 (예: 전체 모드인데 합성 데이터로 온 경우)
        n_test = min(n_test, max(1, int(n_test * f))) if n_test else 0
        n_train = int(n_train * f)
        n_val = None if n_val is None else max(0, total - n_train - n_test)
        shrunk = msg
    got = {"train": n_train, "val": total - n_train - n_test if n_val is None else n_val, "test": n_test}
    empty = [SPLIT_NAMES_KO[s] for s in SPLITS if asked[s] and (got[s] <= 0 or total == 0)]
    if empty:
        why = "나눌 이미지가 하나도 없습니다" if total == 0 else f"이미지가 {total}장뿐이라 요청한 크기를 채울 수 없습니다"
        raise ValueError(f"{', '.join(empty)} 세트가 비게 됩니다: {why} (요청: 훈련 {asked['train']}, 검증 "
                         f"{'나머지 전부' if n_val is None else asked['val']}, 테스트 {asked['test']}). "
                         "사진을 더 넣거나, 데이터 폴더가 맞는지 확인하거나, 개수를 줄이세요.")
    if shrunk:
        _announce(f"{shrunk}. 비율을 유지해 훈련 {got['train']}, 검증 {got['val']}, 테스트 {got['test']}장으로 줄입니다.")
    random.Random(seed).shuffle(items)  # random.seed(seed); random.shuffle(items)와 같은 순서
    train = items[:n_train]
    rest = items[n_train:total - n_test]
    val = rest if n_val is None else rest[:int(n_val)]
    test = items[total - n_test:] if n_test else []
    return train, val, test


def _as_count(n: int | float, total: int) -> int:
    """장수는 그대로, 비율(0과 1 사이)은 total에 곱한 장수로."""
    return round(total * n) if isinstance(n, float) and 0 < n < 1 else int(n)


def _take(items: list[Item], n: int | float | None, seed: int) -> list[Item]:
    """폴더가 정한 나누기에서 시드로 섞어 n장 (n이 None이거나 비율이면 전부)."""
    items = list(items)
    random.Random(seed).shuffle(items)
    return items if n is None or isinstance(n, float) and n < 1 else items[:int(n)]


def course_split(index: ImageIndex, n_train: int | float = 400, n_val: int | float | None = 92,
                 n_test: int | float = 10, seed: int = 42) -> tuple[list[Item], list[Item], list[Item]]:
    """03-08 노트북이 함께 쓰는 나누기 하나: (훈련, 검증, 테스트) 항목 목록.

    - 나뉘지 않은 폴더(클래스 폴더, Kaggle 평평한 폴더): 교재의 나누기 split_items(seed=42, 400/92/10).
    - 나뉜 폴더(train/ val/ test/): 폴더가 정한 나누기를 그대로 씁니다. 사진 수가 n보다 많으면 시드로 섞어 n장만
      (비율이나 None이면 전부). 검증이나 테스트 폴더가 없으면 train/ 에서 교재 방식으로 떼어 내고 그렇다고 알립니다.
    같은 폴더와 같은 인자면 어느 노트북에서 불러도 같은 사진이 같은 세트에 들어갑니다.
    """
    if not index.splits:
        return split_items(index.items, n_train, n_val, n_test, seed)
    train, val, test = index.splits["train"], index.splits.get("val"), index.splits.get("test")
    val = None if val is None else _take(val, n_val, seed)
    test = None if test is None else _take(test, n_test, seed)
    k_val = 0 if val is not None else _as_count(0.2 if n_val is None else n_val, len(train))
    k_test = 0 if test is not None else _as_count(n_test, len(train))
    if k_val or k_test:  # 없는 세트는 train/ 에서 교재 방식으로 떼어 냅니다
        train, val_from, test_from = split_items(train, max(1, len(train) - k_val - k_test), k_val, k_test, seed)
        carved = [f"{name} {len(got)}장" for name, k, got in (("검증", k_val, val_from), ("테스트", k_test, test_from)) if k]
        _announce(f"[나뉜 폴더] {', '.join(c.split()[0] for c in carved)} 폴더가 없어 train/ 에서 시드 {seed}로 떼어 냅니다 "
                  f"({', '.join(carved)}).")
        val, test = val_from if val is None else val, test_from if test is None else test
    train = _take(train, n_train, seed)
    _announce(f"[나뉜 폴더] 폴더가 정한 나누기를 씁니다: 훈련 {len(train)}, 검증 {len(val or [])}, 테스트 {len(test or [])}장.")
    return train, val or [], test or []


def heldout_items(index: ImageIndex, n: int = 2000, split: tuple[list[Item], list[Item], list[Item]] | None = None,
                  seed: int = 42) -> list[Item]:
    """course_split이 쓰지 않고 남긴 사진에서 시드로 섞어 최대 n장: 테스트 10장보다 큰 따로 둔(held-out) 평가 세트.

    split: 이미 구한 (훈련, 검증, 테스트). None이면 course_split(index, seed=seed)로 구합니다.
    훈련·검증·테스트의 어느 사진과도 겹치지 않습니다. 남은 사진이 없으면 빈 목록입니다 (예: 교재의 502장만 있는 폴더).
    """
    train, val, test = split if split is not None else course_split(index, seed=seed)
    used = {path for path, _ in (*train, *val, *test)}
    pool = sorted(item for item in index.items if item[0] not in used)
    random.Random(seed).shuffle(pool)
    return pool[:max(0, int(n))]


# ---------------------------------------------------------------- Dataset

def cache_size_for(n_images: int, short_side: int | None, max_gib: float = 2.0) -> int | None:
    """디코딩 캐시의 짧은 변 크기. n장을 그 크기로 줄여 둔 uint8(가로세로 4:3으로 어림)이 max_gib를 넘으면 None.

    사진 수백 장이면 캐시가 에포크마다의 JPEG 디코딩을 없애 주고, 25,000장 x 256px(약 6.5 GB)처럼
    메모리를 넘칠 만큼 많으면 캐시 없이 매번 디코딩합니다.
    """
    if not short_side:
        return None
    need_gib = n_images * short_side * (short_side * 4 / 3) * 3 / 2**30
    return int(short_side) if need_gib <= max_gib else None


def _needs_phase(transform: Callable) -> bool:
    """transform이 교재식 (img, phase)인지: 두 번째 인자가 기본값이 없거나 이름이 phase이면 그렇습니다.

    phase에 기본값('train')이 있어도 요구하는 까닭: 검증 세트에 phase를 빠뜨리면 조용히 훈련용
    무작위 증강이 적용되기 때문입니다.
    """
    try:
        params = [p for p in inspect.signature(transform).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 and (params[1].default is params[1].empty or params[1].name == "phase")


def _default_transform(img: Image.Image) -> torch.Tensor:
    """변환을 주지 않았을 때: [0, 1] 범위의 float 텐서 (3, H, W)."""
    arr = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0  # (H, W, 3) -> (3, H, W)
    return torch.from_numpy(np.ascontiguousarray(arr))


def _shrink(img: Image.Image, short_side: int) -> Image.Image:
    """짧은 변이 short_side가 되도록 줄입니다 (이미 작으면 그대로)."""
    w, h = img.size
    if min(w, h) <= short_side:
        return img
    scale = short_side / min(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)


class ImageListDataset(Dataset):
    """(경로, 레이블) 목록을 읽는 Dataset. (이미지 텐서, 레이블 int)를 돌려줍니다.

    transform은 ``transform(img)`` 또는 교재의 ``transform(img, phase)`` 모양 모두 됩니다
    (phase를 주면 두 번째 인자로 넘깁니다). cache=정수이면 처음 읽을 때 짧은 변을 그 크기로
    줄인 uint8 배열을 메모리에 두어, 다음 에포크부터는 JPEG 디코딩을 건너뜁니다.
    DataLoader의 num_workers>0에서는 작업자마다 따로 캐시가 생기므로 fill_cache()를 먼저 부르거나
    persistent_workers=True를 쓰세요.
    """

    def __init__(self, items: Sequence[Item], transform: Callable | None = None, phase: str | None = None,
                 cache: int | None = None):
        self.items = [(Path(p), int(label)) for p, label in items]
        self.transform = transform
        self.phase = phase
        self.cache_size = cache
        self._cache: list[np.ndarray | None] = [None] * len(self.items) if cache else []
        if transform is not None and phase is None and _needs_phase(transform):
            raise ValueError("이 transform은 (img, phase) 두 인자를 받습니다. phase='train' 또는 'val'을 주세요.")

    @property
    def paths(self) -> list[Path]:
        return [p for p, _ in self.items]

    @property
    def labels(self) -> list[int]:
        return [label for _, label in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def load_image(self, idx: int) -> Image.Image:
        """idx번째 이미지를 RGB PIL 이미지로 (캐시가 있으면 캐시에서)."""
        if not self.cache_size:
            return load_rgb(self.items[idx][0])
        arr = self._cache[idx]
        if arr is None:
            img = load_rgb(self.items[idx][0], draft=self.cache_size)  # JPEG는 줄여서 디코딩 (빠름)
            arr = np.asarray(_shrink(img, self.cache_size), dtype=np.uint8)
            self._cache[idx] = arr
        return Image.fromarray(arr)

    def fill_cache(self, workers: int | None = None) -> "ImageListDataset":
        """캐시를 미리 모두 채웁니다 (DataLoader 작업자를 만들기 전에 부르면 작업자가 함께 씁니다)."""
        if self.cache_size:
            with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
                list(progress(pool.map(self.load_image, range(len(self))), desc="디코딩 캐시", total=len(self)))
        return self

    def __getitem__(self, idx: int) -> tuple[Any, int]:
        img = self.load_image(idx)
        if self.transform is None:
            x = _default_transform(img)
        elif self.phase is not None:
            x = self.transform(img, self.phase)
        else:
            x = self.transform(img)
        return x, self.items[idx][1]


# ---------------------------------------------------------------- 폴더 정리

def organize_flat_folder(src: str | os.PathLike, dst: str | os.PathLike, move: bool = False) -> dict[str, int]:
    """Kaggle 대회의 평평한 train/ (cat.0.jpg, dog.0.jpg ...)을 dst/Cat, dst/Dog 폴더로 정리합니다.

    클래스는 파일 이름의 첫 마디(cat/dog)에서 정하고, 그 밖의 파일은 그대로 둡니다.
    move=False(기본)이면 복사, True이면 옮깁니다. 클래스별 파일 수를 돌려줍니다.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise FileNotFoundError(f"{src} 폴더가 없습니다. Kaggle의 train.zip을 푼 폴더를 주세요.")
    counts = Counter()
    for path in _entries(src)[1]:
        if not path.is_file():
            continue
        prefix = path.name.split(".")[0].lower()
        if prefix not in ("cat", "dog"):
            continue
        target = dst / prefix.capitalize() / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.move if move else shutil.copy2)(path, target)
        counts[prefix.capitalize()] += 1
    if not counts:
        raise FileNotFoundError(f"{src} 안에 cat.N.jpg / dog.N.jpg 파일이 없습니다.")
    return dict(counts)

