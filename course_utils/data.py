"""데이터 찾기, 정리, 검사, 나누기, Dataset: 분류 트랙(개/고양이)과 반려동물 검출/분할 데이터.

찾는 순서 (find_dogs_vs_cats, find_pets):
  1) 인자 path 또는 환경 변수(COURSE_DOGS_VS_CATS, COURSE_PETS)로 준 경로
  2) <데이터 폴더>/dogs-vs-cats, <데이터 폴더>/oxford-iiit-pet 등 이미 있는 폴더 (전체 모드)
  3) 내려받기 (전체 모드, 온라인, COURSE_OFFLINE이 아닐 때)
  4) 합성 데이터 (빠른 모드는 경로를 직접 주지 않는 한 언제나 여기)
클래스는 언제나 파일의 부모 폴더 이름입니다 (Cat/0.jpg -> 'Cat').

명령줄: python -m course_utils.data download dogs-vs-cats|oxford-pets|all
        python -m course_utils.data organize <평평한 train 폴더> <대상 폴더>
        python -m course_utils.data status
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import shutil
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from . import download as dl

DOGS_VAR, PETS_VAR = "COURSE_DOGS_VS_CATS", "COURSE_PETS"
SKIP_REASONS = ("zero_byte", "not_image", "truncated", "corrupt")
SKIP_NAMES_KO = {"zero_byte": "0바이트 파일", "not_image": "이미지가 아닌 파일",
                 "truncated": "중간에 잘린 파일", "corrupt": "깨진 파일"}
_PETS_NAMES = ("PetsDetection", "PetsSegmentation", "PET_CLASSES", "SEG_CLASSES", "detection_collate")

Item = tuple[Path, int]


# ---------------------------------------------------------------- 이미지 읽기와 검사

def to_rgb(img: Image.Image) -> Image.Image:
    """어떤 모드의 PIL 이미지든 RGB로 바꿉니다 (투명 영역은 흰 바탕에 합성, 16비트 흑백은 8비트로)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 / max(float(arr.max()), 1.0) if arr.max() > 255 else 1.0
        img = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, P, LAB, HSV


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """이미지 파일을 열어 RGB PIL 이미지로 돌려줍니다 (흑백, CMYK, 팔레트, RGBA 모두 RGB로)."""
    with Image.open(path) as img:
        img.load()
        return to_rgb(img)


def check_image(path: Path) -> tuple[str | None, str | None]:
    """파일 하나를 끝까지 디코딩해 봅니다. (건너뛸 이유 또는 None, 원래 색 모드 또는 None)."""
    try:
        if path.stat().st_size == 0:
            return "zero_byte", None
        with Image.open(path) as img:
            mode = img.mode
            img.load()  # 헤더만이 아니라 픽셀까지 읽어야 잘린 파일을 찾습니다
        return None, mode
    except UnidentifiedImageError:
        return "not_image", None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return ("truncated" if "truncat" in str(exc).lower() else "corrupt"), None


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


def _has_class_dirs(root: Path) -> bool:
    """root/Cat, root/Dog 폴더가 있고 파일이 들어 있는지."""
    return all((root / c).is_dir() and any((root / c).iterdir()) for c in ("Cat", "Dog"))


def _count_images(root: Path) -> int:
    """root 아래 파일 수 (검사 없이 빠르게)."""
    return sum(1 for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
               and p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"))


def _count_pets(root: Path) -> int:
    """COCO 폴더면 instances.json의 이미지 수, Oxford 폴더면 images/의 JPEG 수."""
    from .coco import find_coco_json

    ann = find_coco_json(root)
    if ann is not None:
        return len(json.loads(ann.read_text(encoding="utf-8")).get("images", []))
    return sum(1 for _ in (root / "images").glob("*.jpg"))


# ---------------------------------------------------------------- 찾기

@dataclass
class DataSource:
    """찾은 데이터: 폴더, 종류('user'|'local'|'downloaded'|'synthetic'), 한국어 안내문."""

    root: Path
    kind: str
    message: str

    @property
    def synthetic(self) -> bool:
        return self.kind == "synthetic"

    def __str__(self) -> str:
        return self.message


def _given_path(path: str | os.PathLike | None, var: str) -> tuple[Path | None, str]:
    """인자나 환경 변수로 준 경로와 그 출처를 돌려줍니다."""
    if path is not None:
        return Path(path).expanduser(), "인자로 준"
    if os.environ.get(var):
        return Path(os.environ[var]).expanduser(), f"환경 변수 {var}로 준"
    return None, ""


def _can_download(env: Any) -> bool:
    """전체 모드이고 오프라인 설정이 아닐 때만 내려받습니다."""
    return not env.quick and not env.offline


def download_dogs_vs_cats(data_dir: Path, *, progress: bool = True, timeout: float = 10.0) -> Path:
    """Microsoft PetImages zip을 받아 <data_dir>/dogs-vs-cats/Cat, Dog로 풉니다. 그 폴더를 돌려줍니다."""
    data_dir = Path(data_dir)
    target = data_dir / "dogs-vs-cats"
    if _has_class_dirs(target):
        return target
    (archive,) = dl.fetch("dogs-vs-cats", data_dir / "downloads", timeout=timeout, progress=progress)
    staging = data_dir / ".dogs-vs-cats.unpacked"
    shutil.rmtree(staging, ignore_errors=True)
    dl.safe_extract(archive, staging)
    pet = staging / "PetImages" if (staging / "PetImages").is_dir() else staging
    if not _has_class_dirs(pet):
        shutil.rmtree(staging, ignore_errors=True)
        raise dl.DownloadError(f"{archive.name} 안에 PetImages/Cat, PetImages/Dog 폴더가 없습니다.\n"
                               + dl.MANUAL_STEPS["dogs-vs-cats"])
    target.mkdir(parents=True, exist_ok=True)
    for cls in ("Cat", "Dog"):
        shutil.rmtree(target / cls, ignore_errors=True)
        os.replace(pet / cls, target / cls)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def download_oxford_pets(data_dir: Path, *, progress: bool = True, timeout: float = 10.0) -> Path:
    """Oxford-IIIT Pet(images, annotations)을 받아 <data_dir>/oxford-iiit-pet에 풉니다.

    torchvision.datasets.OxfordIIITPet(root=data_dir)도 읽을 수 있는 구조입니다.
    """
    target = Path(data_dir) / "oxford-iiit-pet"
    if _is_oxford(target):
        return target
    for archive in dl.fetch("oxford-pets", Path(data_dir) / "downloads", timeout=timeout, progress=progress):
        dl.safe_extract(archive, target)
    return target


def _synthetic_classification(env: Any, n_per_class: int, size: int, reason: str) -> DataSource:
    from . import synthetic

    root = Path(env.data_dir) / "synthetic" / f"dogs-vs-cats-{n_per_class}x{size}px"
    root = Path(synthetic.make_classification_set(root, n_per_class=n_per_class, size=size, seed=0))
    msg = (f"[합성 데이터] {reason} 그래서 진짜 사진이 아닌 합성 그림(클래스당 {n_per_class}장, {size}px)을 씁니다: "
           f"{root}\n  결과 수치는 진짜 개/고양이 사진의 성능이 아닙니다.")
    return DataSource(root, "synthetic", msg)


def find_dogs_vs_cats(env: Any, path: str | os.PathLike | None = None, *, n_per_class: int = 200,
                      size: int = 128, download: bool = True) -> DataSource:
    """개/고양이 데이터(root/Cat, root/Dog)를 찾고 안내문을 출력합니다.

    n_per_class, size는 합성 데이터로 갈 때의 크기입니다 (노트북의 cfg에서 넘깁니다).
    """
    given, origin = _given_path(path, DOGS_VAR)
    if given is not None:
        if not _has_class_dirs(given):
            raise FileNotFoundError(f"{origin} 경로 {given} 에 Cat/, Dog/ 폴더가 없습니다. "
                                    "Kaggle의 평평한 train/ 폴더라면 python -m course_utils.data organize <train> <대상> "
                                    "으로 먼저 정리하세요.")
        src = DataSource(given, "user", f"[사용자 데이터] {origin} 경로의 사진을 씁니다: {given}")
    elif env.quick:
        src = _synthetic_classification(env, n_per_class, size, "빠른 모드입니다.")
    elif _has_class_dirs(Path(env.data_dir) / "dogs-vs-cats"):
        root = Path(env.data_dir) / "dogs-vs-cats"
        src = DataSource(root, "local", f"[내려받아 둔 데이터] {root} 의 사진을 씁니다.")
    elif download and _can_download(env):
        try:
            root = download_dogs_vs_cats(Path(env.data_dir))
            src = DataSource(root, "downloaded", f"[내려받은 데이터] Microsoft PetImages를 {root} 에 받았습니다.")
        except dl.DownloadError as exc:
            print(f"내려받기에 실패했습니다: {exc}")
            src = _synthetic_classification(env, n_per_class, size, "진짜 사진을 내려받지 못했습니다.")
    else:
        why = "오프라인 설정(COURSE_OFFLINE)입니다." if env.offline else "내려받은 사진이 없습니다."
        src = _synthetic_classification(env, n_per_class, size, why)
        src.message += "\n" + dl.MANUAL_STEPS["dogs-vs-cats"]
    print(src.message)
    return src


def _is_oxford(root: Path) -> bool:
    return (root / "images").is_dir() and (root / "annotations" / "trimaps").is_dir()


def _pets_root(root: Path) -> Path | None:
    """COCO 폴더(instances.json 또는 annotations/instances*.json)나 Oxford-IIIT Pet 폴더이면 그 폴더."""
    from .coco import find_coco_json

    for cand in (root, root / "oxford-iiit-pet"):
        if cand.is_dir() and (find_coco_json(cand) is not None or _is_oxford(cand)):
            return cand
    return None


def find_pets(env: Any, path: str | os.PathLike | None = None, *, n_images: int = 400, size: int = 128,
              max_pets: int = 3, download: bool = True) -> DataSource:
    """반려동물 검출/분할 데이터(COCO 폴더, Oxford-IIIT Pet 폴더, 또는 합성 COCO)를 찾습니다.

    n_images, size, max_pets는 합성 데이터로 갈 때의 크기입니다.
    """
    given, origin = _given_path(path, PETS_VAR)
    local = [Path(env.data_dir) / "oxford-pets", Path(env.data_dir) / "oxford-iiit-pet"]
    src = None
    if given is not None:
        root = _pets_root(given)
        if root is None:
            raise FileNotFoundError(f"{origin} 경로 {given} 에 instances.json(COCO)도, images/ + annotations/trimaps/"
                                    "(Oxford-IIIT Pet)도 없습니다. data/README.md의 구조를 확인하세요.")
        src = DataSource(root, "user", f"[사용자 데이터] {origin} 경로의 반려동물 데이터를 씁니다: {root}")
    elif not env.quick:
        for cand in local:
            root = _pets_root(cand) if cand.is_dir() else None
            if root is not None:
                src = DataSource(root, "local", f"[내려받아 둔 데이터] {root} 의 반려동물 데이터를 씁니다.")
                break
        if src is None and download and _can_download(env):
            try:
                root = download_oxford_pets(Path(env.data_dir))
                src = DataSource(root, "downloaded", f"[내려받은 데이터] Oxford-IIIT Pet을 {root} 에 받았습니다.")
            except dl.DownloadError as exc:
                print(f"내려받기에 실패했습니다: {exc}")
    if src is None:
        from . import synthetic

        why = "빠른 모드입니다." if env.quick else "진짜 반려동물 데이터가 없습니다."
        root = Path(env.data_dir) / "synthetic" / f"pets-coco-{n_images}x{size}px-{max_pets}"
        root = Path(synthetic.make_detection_set(root, n_images=n_images, size=size, seed=0, max_pets=max_pets))
        msg = (f"[합성 데이터] {why} 진짜 사진이 아닌 합성 그림 {n_images}장({size}px, COCO 형식)을 씁니다: {root}\n"
               "  결과 수치는 진짜 반려동물 사진의 성능이 아닙니다.")
        if not env.quick:
            msg += "\n" + dl.MANUAL_STEPS["oxford-pets"]
        src = DataSource(root, "synthetic", msg)
    print(src.message)
    return src


# ---------------------------------------------------------------- 상태 표

def dataset_status(env: Any) -> list[dict[str, Any]]:
    """데이터 세트마다 이름, 경로, 있는지, 이미지 수, 구하는 방법을 사전 목록으로 (00_setup의 표)."""
    rows = []
    dogs_given, _ = _given_path(None, DOGS_VAR)
    dogs = dogs_given or Path(env.data_dir) / "dogs-vs-cats"
    rows.append(dict(name="dogs-vs-cats (개/고양이 분류)", path=str(dogs), present=_has_class_dirs(dogs),
                     n_images=_count_images(dogs) if dogs.is_dir() else 0,
                     how="python -m course_utils.data download dogs-vs-cats (약 787MB) 또는 data/README.md"))
    pets_given, _ = _given_path(None, PETS_VAR)
    cands = [pets_given] if pets_given else [Path(env.data_dir) / "oxford-pets", Path(env.data_dir) / "oxford-iiit-pet"]
    found = next((r for c in cands if c.is_dir() and (r := _pets_root(c)) is not None), None)
    pets = found or cands[-1]
    rows.append(dict(name="oxford-pets (검출/분할)", path=str(pets), present=found is not None,
                     n_images=_count_pets(found) if found else 0,
                     how="python -m course_utils.data download oxford-pets (약 800MB) 또는 COCO 폴더를 COURSE_PETS로"))
    synth = Path(env.data_dir) / "synthetic"
    rows.append(dict(name="synthetic (오프라인/빠른 모드용 합성 데이터)", path=str(synth), present=synth.is_dir(),
                     n_images=_count_images(synth) if synth.is_dir() else 0,
                     how="필요할 때 노트북이 자동으로 만듭니다"))
    return rows


def __getattr__(name: str) -> Any:
    """PetsDetection 등 검출/분할 Dataset은 course_utils.coco에 있고 여기서도 가져올 수 있습니다."""
    if name in _PETS_NAMES:
        from . import coco

        return getattr(coco, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- 명령줄

def main(argv: Sequence[str] | None = None) -> int:
    """강사용 명령줄: download / organize / status."""
    from .setup import find_data_dir

    parser = argparse.ArgumentParser(prog="python -m course_utils.data", description="강의 데이터 준비")
    parser.add_argument("--data-dir", type=Path, default=None, help="데이터 폴더 (기본: COURSE_DATA 또는 <저장소>/data)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_dl = sub.add_parser("download", help="데이터 세트 내려받기")
    p_dl.add_argument("name", choices=["dogs-vs-cats", "oxford-pets", "all"])
    p_dl.add_argument("--timeout", type=float, default=10.0)
    p_org = sub.add_parser("organize", help="Kaggle의 평평한 train/ 폴더를 Cat/Dog 폴더로 정리")
    p_org.add_argument("src", type=Path)
    p_org.add_argument("dst", type=Path)
    p_org.add_argument("--move", action="store_true", help="복사 대신 옮기기")
    sub.add_parser("status", help="어떤 데이터가 있는지 보기")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or find_data_dir()

    if args.cmd == "organize":
        print("정리했습니다:", organize_flat_folder(args.src, args.dst, move=args.move))
        return 0
    if args.cmd == "status":
        from types import SimpleNamespace

        for row in dataset_status(SimpleNamespace(data_dir=data_dir)):
            mark = "있음" if row["present"] else "없음"
            print(f"{row['name']}: {mark}, {row['n_images']}장, {row['path']}\n  구하는 방법: {row['how']}")
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


if __name__ == "__main__":
    sys.exit(main())
