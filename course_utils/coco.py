"""반려동물 검출/분할 Dataset: COCO 형식 폴더와 Oxford-IIIT Pet 폴더를 같은 모양으로 읽습니다.

- COCO 폴더: instances.json (bbox [x, y, w, h], 다각형 또는 RLE segmentation) + 사진.
  레이블은 범주 이름이 cat/dog이면 그것을, 아니면 이미지 레코드의 species(cat/dog)를 씁니다.
- Oxford-IIIT Pet: images/*.jpg + annotations/trimaps/*.png (1=반려동물, 2=배경, 3=경계).
  바운딩 박스는 트라이맵에서 반려동물 픽셀(값 1)을 감싸는 상자입니다. 종(고양이/개)은
  annotations/list.txt(trainval.txt, test.txt)의 SPECIES 열(1=고양이, 2=개)에서 읽습니다.
레이블 번호: 0=배경, 1=cat, 2=dog (PET_CLASSES).
"""
from __future__ import annotations

import json
import os
import random
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from pycocotools import mask as mask_utils
from torch.utils.data import Dataset
from torchvision import tv_tensors

from .images import SKIP_REASONS, check_image, load_rgb

PET_CLASSES = ["background", "cat", "dog"]
SEG_CLASSES = ["background", "pet"]
IGNORE_INDEX = 255
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_SPECIES_LABEL = {"cat": 1, "dog": 2}


@dataclass
class PetRecord:
    """이미지 하나의 주석: 경로, 번호, 크기, 상자(XYXY), 레이블, 분할 정보(다각형 목록 또는 트라이맵 경로)."""

    path: Path
    image_id: int
    width: int
    height: int
    species: str
    boxes: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    segmentations: list[Any] = field(default_factory=list)
    trimap: Path | None = None


def find_coco_json(root: Path) -> Path | None:
    """root/instances.json, root/instances*.json, root/annotations/instances*.json 중 처음 찾은 것."""
    root = Path(root)
    cands = [root / "instances.json", *sorted(root.glob("instances*.json")),
             *sorted((root / "annotations").glob("instances*.json"))]
    return next((c for c in cands if c.is_file()), None)


def _label(ann: dict, cats: dict[int, str], img: dict) -> int:
    """범주 이름(cat/dog)이 있으면 그것으로, 없으면 이미지의 species로 레이블을 정합니다."""
    name = cats.get(ann["category_id"], "").lower()
    species = str(img.get("species", "")).lower()
    label = _SPECIES_LABEL.get(name) or _SPECIES_LABEL.get(species)
    if label is None:
        raise ValueError(f"이미지 {img.get('file_name')}의 종을 알 수 없습니다: 범주 이름이 cat/dog이거나 "
                         "이미지 레코드에 species('cat' 또는 'dog')가 있어야 합니다.")
    return label


def read_coco(root: Path) -> list[PetRecord]:
    """COCO 폴더의 instances.json을 읽어 이미지마다 PetRecord를 만듭니다 (이미지 id 순서)."""
    root = Path(root)
    ann_file = find_coco_json(root)
    if ann_file is None:
        raise FileNotFoundError(f"{root} 에 instances.json 이 없습니다. COCO 형식 주석 파일을 넣어 주세요.")
    coco = json.loads(ann_file.read_text(encoding="utf-8"))
    cats = {c["id"]: c["name"] for c in coco.get("categories", [])}
    by_image: dict[int, list[dict]] = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    records = []
    for img in sorted(coco["images"], key=lambda r: r["id"]):
        path = root / img["file_name"]
        if not path.exists() and (root / "images" / img["file_name"]).exists():
            path = root / "images" / img["file_name"]
        rec = PetRecord(path, int(img["id"]), int(img["width"]), int(img["height"]), str(img.get("species", "")))
        for ann in by_image.get(img["id"], []):
            x, y, w, h = ann["bbox"]
            if ann.get("iscrowd", 0) or w < 1 or h < 1:
                continue
            rec.boxes.append([max(0.0, x), max(0.0, y), min(float(rec.width), x + w), min(float(rec.height), y + h)])
            rec.labels.append(_label(ann, cats, img))
            rec.segmentations.append(ann.get("segmentation"))
        records.append(rec)
    return records


def _oxford_species(root: Path) -> dict[str, str]:
    """annotations/list.txt, trainval.txt, test.txt에서 이미지 이름 -> 'cat'/'dog'."""
    species = {}
    for name in ("list.txt", "trainval.txt", "test.txt"):
        f = root / "annotations" / name
        if not f.is_file():
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3 and not line.startswith("#"):
                species[parts[0]] = "cat" if parts[2] == "1" else "dog"
    return species


def read_oxford(root: Path) -> list[PetRecord]:
    """Oxford-IIIT Pet 폴더를 읽어 PetRecord 목록을 만듭니다 (상자는 읽을 때 트라이맵에서 계산)."""
    root = Path(root)
    species = _oxford_species(root)
    records = []
    for i, path in enumerate(sorted((root / "images").glob("*.jpg"))):
        trimap = root / "annotations" / "trimaps" / f"{path.stem}.png"
        if not trimap.is_file():
            continue
        # 목록 파일이 없으면 Oxford의 규칙(고양이 품종 이름은 대문자로 시작)을 씁니다
        sp = species.get(path.stem, "cat" if path.stem[:1].isupper() else "dog")
        records.append(PetRecord(path, i + 1, 0, 0, sp, trimap=trimap))
    return records


def _polygon_mask(seg: Any, height: int, width: int) -> np.ndarray:
    """COCO segmentation(다각형 목록, RLE)을 (H, W) uint8 마스크로 래스터화합니다 (pycocotools)."""
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    elif isinstance(seg, dict) and isinstance(seg.get("counts"), list):
        rle = mask_utils.frPyObjects(seg, height, width)
    else:
        rle = seg
    with warnings.catch_warnings():  # pycocotools가 NumPy 2에서 내는 DeprecationWarning을 숨깁니다
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(np.uint8)


class _PetsBase(Dataset):
    """두 형식을 읽고, 깨진 사진을 한 번 걸러 내고, 시드로 train/val을 나누는 공통 부분."""

    def __init__(self, source: Any, split: str = "train", transforms: Callable | None = None,
                 val_fraction: float = 0.2, seed: int = 42):
        root = Path(source) if isinstance(source, (str, os.PathLike)) else Path(source.root)  # 경로나 DataSource
        if (root / "oxford-iiit-pet").is_dir() and find_coco_json(root) is None:
            root = root / "oxford-iiit-pet"
        if split not in ("train", "val", "all"):
            raise ValueError("split은 'train', 'val', 'all' 중 하나여야 합니다.")
        self.root, self.split, self.transforms = root, split, transforms
        self.format = "coco" if find_coco_json(root) is not None else "oxford"
        records = read_coco(root) if self.format == "coco" else read_oxford(root)
        if not records:
            raise FileNotFoundError(f"{root} 에서 주석이 달린 사진을 찾지 못했습니다. data/README.md의 구조를 확인하세요.")
        records, self.skipped = self._drop_bad(records)
        order = list(range(len(records)))
        random.Random(seed).shuffle(order)
        n_val = round(len(records) * val_fraction)
        chosen = {"train": order[n_val:], "val": order[:n_val], "all": order}[split]
        self.records = [records[i] for i in sorted(chosen)]

    @staticmethod
    def _drop_bad(records: list[PetRecord]) -> tuple[list[PetRecord], dict[str, list[Path]]]:
        """사진을 한 번씩 디코딩해 보고 없거나 깨진 것을 건너뜁니다 (이유별로 셈)."""
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            checks = list(pool.map(lambda r: check_image(r.path) if r.path.is_file() else ("missing", None), records))
        skipped: dict[str, list[Path]] = {r: [] for r in (*SKIP_REASONS, "missing")}
        kept = []
        for rec, (reason, _) in zip(records, checks):
            if reason:
                skipped[reason].append(rec.path)
            else:
                kept.append(rec)
        return kept, skipped

    def __len__(self) -> int:
        return len(self.records)

    @property
    def paths(self) -> list[Path]:
        return [r.path for r in self.records]

    def _image(self, rec: PetRecord) -> tv_tensors.Image:
        arr = np.asarray(load_rgb(rec.path), dtype=np.uint8)
        return tv_tensors.Image(torch.from_numpy(arr.copy()).permute(2, 0, 1))  # (3, H, W) uint8

    @staticmethod
    def _trimap(rec: PetRecord) -> np.ndarray:
        with Image.open(rec.trimap) as im:  # 팔레트(P)여도 변환하지 않고 원래 값(1, 2, 3)을 읽습니다
            arr = np.asarray(im, dtype=np.uint8)
        return arr[..., 0] if arr.ndim == 3 else arr


def _mask_box(mask: np.ndarray) -> list[float] | None:
    """마스크의 전경 픽셀을 꼭 감싸는 XYXY 상자 (전경이 없으면 None)."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class PetsDetection(_PetsBase):
    """(이미지 tv_tensors.Image uint8 (3,H,W), target 사전)을 돌려주는 검출 Dataset.

    target: boxes (BoundingBoxes XYXY float), labels (int64, 1=cat 2=dog), masks (Mask uint8 (N,H,W)),
    image_id (int). transforms는 torchvision.transforms.v2 변환 (image, target) -> (image, target).

    box_source: 'mask'(기본)이면 상자를 분할 마스크(COCO 다각형, Oxford 트라이맵)에서 계산해 상자와 마스크가
    언제나 같은 동물 전체를 가리킵니다. 'bbox'이면 COCO의 bbox를 그대로 씁니다. oxford-pets-sample처럼
    bbox가 머리 상자(Oxford xmls)이고 다각형은 몸 전체인 내보내기가 있기 때문입니다.
    """

    def __init__(self, source: Any, split: str = "train", transforms: Callable | None = None,
                 val_fraction: float = 0.2, seed: int = 42, box_source: str = "mask"):
        if box_source not in ("mask", "bbox"):
            raise ValueError("box_source는 'mask' 또는 'bbox'여야 합니다.")
        super().__init__(source, split, transforms, val_fraction, seed)
        self.box_source = box_source

    def __getitem__(self, idx: int) -> tuple[tv_tensors.Image, dict[str, Any]]:
        rec = self.records[idx]
        image = self._image(rec)
        h, w = image.shape[-2:]
        if rec.trimap is not None:  # Oxford: 상자는 트라이맵의 반려동물 픽셀(값 1)을 감싸는 상자
            pet = (self._trimap(rec) == 1).astype(np.uint8)
            box = _mask_box(pet)
            boxes = [box] if box else []
            labels = [_SPECIES_LABEL[rec.species]] if box else []
            masks = pet[None] if box else np.zeros((0, h, w), np.uint8)
        else:
            labels = rec.labels
            masks = np.stack([_polygon_mask(s, h, w) if s else np.zeros((h, w), np.uint8)
                              for s in rec.segmentations]) if rec.boxes else np.zeros((0, h, w), np.uint8)
            boxes = [(_mask_box(m) if self.box_source == "mask" else None) or b for m, b in zip(masks, rec.boxes)]
        target = {
            "boxes": tv_tensors.BoundingBoxes(torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                                              format="XYXY", canvas_size=(h, w)),
            "labels": torch.as_tensor(labels, dtype=torch.int64),
            "masks": tv_tensors.Mask(torch.from_numpy(masks)),
            "image_id": rec.image_id,
        }
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target


class PetsSegmentation(_PetsBase):
    """(정규화된 float 이미지 (3,H,W), 마스크 int64 (H,W): 0=배경, 1=반려동물, 255=무시)를 돌려주는 분할 Dataset.

    Oxford 트라이맵의 경계(3)는 255(무시)가 됩니다. COCO 폴더에서는 모든 주석 마스크의 합집합이 1입니다.
    transforms는 v2 변환 (image, mask) -> (image, mask). 결과 이미지가 uint8이면 여기서 [0,1]로 바꾸고
    ImageNet 평균/표준편차로 정규화합니다.
    """

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        rec = self.records[idx]
        image = self._image(rec)
        h, w = image.shape[-2:]
        if rec.trimap is not None:
            tri = self._trimap(rec)
            mask = np.zeros_like(tri)
            mask[tri == 1] = 1
            mask[tri == 3] = IGNORE_INDEX
        else:
            mask = np.zeros((h, w), np.uint8)
            for seg in rec.segmentations:
                mask |= _polygon_mask(seg, h, w)
        mask_t = tv_tensors.Mask(torch.from_numpy(mask)[None])  # (1, H, W): v2가 최근접 보간으로 함께 변환
        if self.transforms is not None:
            image, mask_t = self.transforms(image, mask_t)
        image = torch.as_tensor(image)
        if image.dtype == torch.uint8:
            mean = torch.tensor(_IMAGENET_MEAN).view(3, 1, 1)
            std = torch.tensor(_IMAGENET_STD).view(3, 1, 1)
            image = (image.float() / 255 - mean) / std
        return image.as_subclass(torch.Tensor), torch.as_tensor(mask_t).as_subclass(torch.Tensor).reshape(
            mask_t.shape[-2:]).long()


def detection_collate(batch: list) -> tuple:
    """검출 배치: 이미지마다 크기와 상자 수가 달라 쌓지 않고 튜플로 묶습니다."""
    return tuple(zip(*batch))
