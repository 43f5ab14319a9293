"""이미지 폴더: 클래스 폴더 색인, 교재식 시드 고정 나누기, Dataset과 디코딩 캐시, 평평한 폴더 정리.

클래스는 언제나 파일의 부모 폴더 이름입니다 (Cat/0.jpg -> 'Cat'). 데이터를 어디서 찾고 받는지는
course_utils.sources, 이미지 파일 하나를 읽고 검사하는 일은 course_utils.images가 맡습니다.
"""
from __future__ import annotations

import inspect
import os
import random
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from .images import SKIP_NAMES_KO, SKIP_REASONS, check_image, load_rgb, to_rgb

Item = tuple[Path, int]


@dataclass
class ImageIndex:
    """index_images의 결과: 쓸 수 있는 (경로, 레이블) 목록, 클래스 이름, 건너뛴 파일, 색 모드 수."""

    items: list[Item]
    classes: list[str]
    skipped: dict[str, list[Path]]
    modes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def class_counts(self) -> dict[str, int]:
        """클래스별 이미지 수."""
        counts = Counter(label for _, label in self.items)
        return {name: counts.get(i, 0) for i, name in enumerate(self.classes)}

    def summary(self) -> str:
        """사람이 읽는 한국어 요약 (클래스별 수, 건너뛴 이유별 수, RGB가 아닌 색 모드 수)."""
        per_class = ", ".join(f"{k} {v}장" for k, v in self.class_counts().items())
        skipped = ", ".join(f"{SKIP_NAMES_KO[r]} {len(self.skipped[r])}" for r in SKIP_REASONS) or "없음"
        modes = ", ".join(f"{m} {n}" for m, n in sorted(self.modes.items()))
        return (f"쓸 수 있는 이미지 {len(self.items)}장 ({per_class}); 건너뜀 {self.n_skipped}개 ({skipped}); "
                f"원래 색 모드: {modes} (RGB가 아닌 것은 읽을 때 RGB로 바꿉니다); 검사 {self.seconds:.1f}초")


def label_from_path(path: str | os.PathLike) -> str:
    """파일의 클래스 이름 = 부모 폴더 이름 (운영체제의 경로 구분자와 파일 이름에 상관없이)."""
    return Path(path).parent.name


def _list_files(folder: Path) -> list[Path]:
    """폴더 안의 파일을 이름순으로 (숨김 파일 제외)."""
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def index_images(root: str | os.PathLike, classes: Sequence[str] | None = None,
                 workers: int | None = None) -> ImageIndex:
    """root/<클래스>/<파일> 구조의 이미지를 한 번 검사해 목록을 만듭니다.

    파일마다 끝까지 디코딩해 보고 0바이트, 이미지가 아님, 잘림, 깨짐을 건너뛰고 셉니다.
    흑백, CMYK, 팔레트, RGBA는 그대로 두고 읽을 때 RGB로 바꿉니다. 검사는 여기서 한 번뿐이고
    Dataset은 에포크마다 다시 검사하지 않습니다. 순서는 클래스 이름순, 그 안에서 파일 이름순입니다.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} 폴더가 없습니다. 경로를 확인하거나 data/README.md의 준비 방법을 따르세요.")
    if classes is None:
        classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise FileNotFoundError(f"{root} 안에 클래스 폴더(예: Cat/, Dog/)가 없습니다. "
                                "평평한 폴더라면 organize_flat_folder()로 먼저 정리하세요.")
    start = time.perf_counter()
    files = [(path, label) for label, name in enumerate(classes) for path in _list_files(root / name)]
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        results = list(pool.map(lambda pl: check_image(pl[0]), files))  # PIL 디코딩은 GIL을 풀어 줍니다
    items, skipped, modes = [], {r: [] for r in SKIP_REASONS}, Counter()
    for (path, label), (reason, mode) in zip(files, results):
        if reason:
            skipped[reason].append(path)
        else:
            items.append((path, label))
            modes[mode] += 1
    return ImageIndex(items, list(classes), skipped, modes, time.perf_counter() - start)


# ---------------------------------------------------------------- 나누기

def split_items(items: Sequence[Any], n_train: int | float = 400, n_val: int | float | None = 92,
                n_test: int | float = 10, seed: int = 42, strict: bool = False) -> tuple[list, list, list]:
    """교재의 방식대로 나눕니다: random.seed(seed) 후 섞고 [:n_train], [n_train:-n_test], [-n_test:].

    검증 세트는 n_val개로 자릅니다 (None이면 남은 것 전부). 세 값이 모두 1보다 작은 실수이면
    비율로 봅니다 (예: 0.8, 0.18, 0.02). 이미지가 모자라면 비율을 유지해 줄이고 알립니다
    (strict=True이면 ValueError). 원래 목록은 바꾸지 않습니다. 교재처럼
    ``random.seed(42); random.shuffle(x)`` 한 것과 같은 순서가 나옵니다.
    """
    items = list(items)
    total = len(items)
    values = [v for v in (n_train, n_val, n_test) if v is not None]
    if all(isinstance(v, float) and 0 <= v < 1 for v in values):
        n_test = round(total * n_test)
        n_train = round(total * n_train)
        n_val = None if n_val is None else min(round(total * n_val), total - n_train - n_test)
    n_train, n_test = int(n_train), int(n_test)
    need = n_train + n_test + (int(n_val) if n_val is not None else 0)
    if need > total:
        msg = (f"이미지가 {total}장뿐인데 훈련 {n_train} + 검증 {n_val} + 테스트 {n_test} = {need}장이 필요합니다")
        if strict:
            raise ValueError(msg + ". 개수를 줄이거나 비율(예: n_train=0.8, n_val=0.18, n_test=0.02)로 주세요.")
        f = total / need  # 비율을 유지한 채 줄입니다 (예: 전체 모드인데 합성 데이터로 온 경우)
        n_test = min(n_test, max(1, int(n_test * f))) if n_test else 0
        n_train = int(n_train * f)
        n_val = None if n_val is None else total - n_train - n_test
        print(f"{msg}. 비율을 유지해 훈련 {n_train}, 검증 {n_val if n_val is not None else total - n_train - n_test}, "
              f"테스트 {n_test}장으로 줄입니다.")
    random.Random(seed).shuffle(items)  # random.seed(seed); random.shuffle(items)와 같은 순서
    train = items[:n_train]
    rest = items[n_train:total - n_test]
    val = rest if n_val is None else rest[:int(n_val)]
    test = items[total - n_test:] if n_test else []
    return train, val, test


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
            with Image.open(self.items[idx][0]) as img:
                img.draft("RGB", (self.cache_size, self.cache_size))  # JPEG는 줄여서 디코딩 (빠름)
                arr = np.asarray(_shrink(to_rgb(img), self.cache_size), dtype=np.uint8)
            self._cache[idx] = arr
        return Image.fromarray(arr)

    def fill_cache(self, workers: int | None = None) -> "ImageListDataset":
        """캐시를 미리 모두 채웁니다 (DataLoader 작업자를 만들기 전에 부르면 작업자가 함께 씁니다)."""
        if self.cache_size:
            with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
                list(pool.map(self.load_image, range(len(self))))
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
    for path in _list_files(src):
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

