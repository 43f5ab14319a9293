"""검출/분할 데이터: COCO 주석 파일의 검사(check_coco)와 Dataset (COCO 폴더, Oxford-IIIT Pet 폴더).

- COCO 폴더: instances.json (bbox [x, y, w, h], 다각형 또는 RLE segmentation) + 사진.
  클래스 이름과 개수는 파일의 categories에서 옵니다 (id 순서, 레이블 0은 배경).
  torchvision references/detection/coco_utils.py처럼 iscrowd=1 주석은 검출에서 빼고, 상자는 이미지 안으로
  잘라 내며, 넓이가 0이 된 상자는 뺍니다. 마스크는 pycocotools로 만듭니다 (다각형, RLE).
  torchvision의 CocoDetection + wrap_dataset_for_transforms_v2는 crowd를 거르지 않고, category_id를 그대로
  레이블로 쓰며(0번 범주가 배경과 겹침), 주석 없는 사진에는 boxes를 주지 않아서 쓰지 않았습니다.
- 반려동물 데이터(과정의 기본)는 예외입니다: 범주 이름이 cat/dog이거나, 범주가 하나이고 이미지 레코드마다
  species('cat'/'dog')가 있으면 검출 클래스는 PET_CLASSES(배경, cat, dog), 분할 클래스는 배경/pet입니다.
- Oxford-IIIT Pet: images/*.jpg + annotations/trimaps/*.png (1=반려동물, 2=배경, 3=경계).
  바운딩 박스는 트라이맵에서 반려동물 픽셀(값 1)을 감싸는 상자이고, 종은 annotations/list.txt의 SPECIES 열입니다.
"""
from __future__ import annotations

import codecs
import json
import os
import random
import warnings
from collections import Counter
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

from .constants import IGNORE_INDEX, IMAGENET_MEAN, IMAGENET_STD
from .images import SKIP_REASONS, check_image, load_rgb

__all__ = ["PET_CLASSES", "CocoFormatError", "CocoProblem", "CocoReport", "check_coco", "find_coco_json",
           "coco_classes", "segmentation_mask", "PetsDetection", "PetsSegmentation", "detection_collate"]

PET_CLASSES = ["background", "cat", "dog"]
_PET_SEG_CLASSES = ["background", "pet"]
_SPECIES_LABEL = {"cat": 1, "dog": 2}

# 문제 종류: (제목, 할 일). 치명적인지(고쳐야 학습 가능)는 문제마다 정합니다.
_KINDS = {
    "file": ("주석 파일을 읽을 수 없음", "COCO 형식 instances.json이 있는지, 경로가 맞는지 확인하세요."),
    "bom": ("UTF-8 BOM", "윈도 메모장이 파일 맨 앞에 붙이는 표시입니다. 그대로 읽습니다."),
    "json": ("JSON 문법 오류", "쉼표, 따옴표, 괄호를 확인하세요 (편집기의 JSON 검사나 python -m json.tool)."),
    "missing_key": ("빠진 키", "COCO 형식에 꼭 있어야 하는 키입니다. 내보내기 설정을 확인하세요."),
    "string_id": ("문자열 id", 'id, image_id, category_id는 따옴표 없는 정수여야 합니다 (예: 12, "12"가 아님).'),
    "bad_value": ("잘못된 값", "값의 형식을 COCO 형식에 맞게 고치세요."),
    "duplicate_id": ("겹치는 id", "같은 종류의 레코드끼리 id가 달라야 합니다."),
    "unknown_image": ("없는 이미지를 가리키는 주석", "images에 그 id가 있는지 확인하거나 주석을 지우세요."),
    "unknown_category": ("없는 범주 id", "categories에 그 범주를 더하거나 주석을 지우세요."),
    "short_polygon": ("점이 3개보다 적은 다각형", "다각형은 점이 3개 이상([x1, y1, x2, y2, x3, y3, ...])이어야 합니다. "
                      "그 조각을 지우거나 다시 그리세요."),
    "bad_segmentation": ("잘못된 segmentation", "다각형 [[x1, y1, ...], ...] 또는 RLE {'size': [높이, 너비], "
                         "'counts': ...}여야 합니다."),
    "rle_size": ("크기가 맞지 않는 RLE", "RLE의 size는 [높이, 너비]로 이미지와 같아야 합니다. 다시 내보내세요."),
    "no_segmentation": ("segmentation 없음", "분할(13-17)에는 객체마다 다각형이나 RLE가 필요합니다. 상자만 있는 "
                        "내보내기는 검출(09-12)에만 쓸 수 있습니다. 내보낼 때 마스크(다각형)를 포함하세요."),
    "size_mismatch": ("사진 크기와 다른 width/height", "이미지 레코드의 width/height를 실제 사진 크기로 고치세요."),
    "missing_image": ("디스크에 없는 사진", "file_name이 주석 파일이 있는 폴더(또는 images/) 기준 경로인지 "
                      "확인하세요. 없는 사진은 건너뜁니다."),
    "box_clipped": ("이미지 밖으로 나간 상자", "이미지 안으로 잘라 씁니다."),
    "box_dropped": ("넓이가 0인 상자", "검출 학습에서 뺍니다."),
    "crowd": ("iscrowd=1 주석", "여러 객체를 한 덩어리로 칠한 주석이라 검출에서는 빼고 분할에는 씁니다."),
    "unannotated": ("주석이 없는 사진", "배경만 있는 사진으로 씁니다."),
    "empty": ("쓸 데이터가 없음", "images, annotations, categories에 레코드가 있어야 합니다."),
}


class CocoFormatError(ValueError):
    """주석 파일에 고쳐야 하는 문제가 있을 때. 메시지에 문제 전부가 들어 있습니다."""


@dataclass(frozen=True)
class CocoProblem:
    """문제 하나: 종류(_KINDS의 키), 어느 레코드인지, 무엇이 문제인지, 고쳐야 하는지(fatal)."""

    kind: str
    where: str
    detail: str
    fatal: bool = True


@dataclass
class CocoReport:
    """check_coco의 결과: 파일, 문제 목록, 읽은 내용(JSON을 읽었을 때), 이미지 수."""

    path: Path | None
    problems: list[CocoProblem] = field(default_factory=list)
    data: dict | None = None

    @property
    def errors(self) -> list[CocoProblem]:
        return [p for p in self.problems if p.fatal]

    @property
    def notes(self) -> list[CocoProblem]:
        return [p for p in self.problems if not p.fatal]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def n_images(self) -> int:
        images = self.data.get("images") if isinstance(self.data, dict) else None
        return len(images) if isinstance(images, list) else 0

    def add(self, kind: str, where: str, detail: str, fatal: bool = True) -> None:
        self.problems.append(CocoProblem(kind, where, detail, fatal))

    def message(self, limit: int = 20) -> str:
        """문제를 종류별로 묶은 한국어 안내문. 종류마다 레코드를 limit개까지 적습니다."""
        name = self.path or "(주석 파일)"
        parts = []
        if self.errors:
            parts.append(f"주석 파일 {name} 을(를) 그대로 쓸 수 없습니다. 아래 {len(self.errors)}건을 고친 뒤 다시 실행하세요.")
            parts += _grouped(self.errors, limit)
        if self.notes:
            parts.append(f"주석 파일 {name}: 과정이 고쳐서 쓰는 것 {len(self.notes)}건 (학습은 그대로 진행합니다).")
            parts += _grouped(self.notes, min(limit, 5))
        return "\n".join(parts) if parts else f"주석 파일 {name}: 문제 없음."


def _grouped(problems: list[CocoProblem], limit: int) -> list[str]:
    lines = []
    for kind, n in Counter(p.kind for p in problems).items():
        title, advice = _KINDS[kind]
        lines.append(f"  [{title}] {n}건: {advice}")
        items = [p for p in problems if p.kind == kind]
        lines += [f"    - {p.where}: {p.detail}" for p in items[:limit]]
        if n > limit:
            lines.append(f"    - ... 외 {n - limit}건")
    return lines


# ---------------------------------------------------------------- 파일 찾기, 읽기, 검사

def find_coco_json(root: Path) -> Path | None:
    """root/instances.json, root/instances*.json, root/annotations/instances*.json 중 처음 찾은 것."""
    root = Path(root)
    cands = [root / "instances.json", *sorted(root.glob("instances*.json")),
             *sorted((root / "annotations").glob("instances*.json"))]
    return next((c for c in cands if c.is_file()), None)


def _read_json(path: Path, report: CocoReport) -> Any:
    """파일을 읽어 JSON으로 풉니다 (BOM은 알리고 받아들임). 실패하면 문제를 적고 None."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.add("file", "파일", f"읽지 못했습니다 ({exc.strerror or exc}).")
        return None
    if raw.startswith(codecs.BOM_UTF8):
        report.add("bom", "파일 맨 앞", "UTF-8 BOM(EF BB BF)이 있습니다.", fatal=False)
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        report.add("file", "파일", f"UTF-8 글자가 아닌 바이트가 {exc.start}번째에 있습니다. UTF-8로 다시 저장하세요.")
    except json.JSONDecodeError as exc:
        report.add("json", f"{exc.lineno}행 {exc.colno}열", exc.msg)
    return None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_id(rec: dict, key: str, where: str, report: CocoReport) -> bool:
    """rec[key]가 정수인지 봅니다. 없거나 문자열이거나 다른 형식이면 문제를 적고 False."""
    if key not in rec:
        report.add("missing_key", where, f"'{key}' 키가 없습니다.")
    elif isinstance(rec[key], str):
        report.add("string_id", where, f"{key}가 문자열 {rec[key]!r}입니다.")
    elif not _is_int(rec[key]):
        report.add("bad_value", where, f"{key}가 정수가 아닙니다: {rec[key]!r}")
    else:
        return True
    return False


def _records(data: dict, key: str, report: CocoReport) -> list[dict]:
    """data[key]가 사전의 목록인지 확인하고 그 목록을 돌려줍니다 (아니면 문제를 적고 빈 목록)."""
    recs = data.get(key)
    if recs is None:
        report.add("missing_key", "파일 맨 위", f"'{key}' 목록이 없습니다.")
        return []
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        report.add("bad_value", f"'{key}'", "레코드(사전)의 목록이어야 합니다.")
        return []
    return recs


def _unique(recs: list[dict], key: str, what: str, report: CocoReport) -> dict[Any, dict]:
    """정수 id가 있는 레코드를 id -> 레코드로 모읍니다 (겹치는 id는 문제로 적음)."""
    out: dict[Any, dict] = {}
    for i, rec in enumerate(recs):
        where = f"{what} #{i}" if not _is_int(rec.get(key)) else f"{what} id={rec[key]}"
        if not _check_id(rec, key, where, report):
            continue
        if rec[key] in out:
            report.add("duplicate_id", where, f"같은 id의 {what}가 또 있습니다.")
        out[rec[key]] = rec
    return out


def _image_path(root: Path, file_name: str) -> Path:
    """file_name을 주석 폴더 기준으로, 없으면 images/ 기준으로 찾습니다."""
    path = root / file_name
    if not path.exists() and (root / "images" / file_name).exists():
        return root / "images" / file_name
    return path


def _check_images(images: dict[int, dict], root: Path, check_files: bool, report: CocoReport) -> None:
    """이미지 레코드의 키, 크기, 디스크의 사진(있는지, 실제 크기)을 검사합니다."""
    found = 0
    for image_id, img in images.items():
        where = f"이미지 id={image_id}"
        missing = [k for k in ("file_name", "width", "height") if k not in img]
        for k in missing:
            report.add("missing_key", where, f"'{k}' 키가 없습니다.")
        if missing:
            continue
        where += f" ({img['file_name']})"
        if not all(_is_int(img[k]) and img[k] > 0 for k in ("width", "height")):
            report.add("bad_value", where, f"width/height는 양의 정수여야 합니다: {img['width']!r} x {img['height']!r}")
            continue
        if not check_files:
            continue
        path = _image_path(root, str(img["file_name"]))
        if not path.is_file():
            report.add("missing_image", where, f"{path} 가 없습니다.", fatal=False)
            continue
        found += 1
        try:
            with Image.open(path) as im:
                size = im.size
        except (OSError, SyntaxError, ValueError):
            continue  # 깨진 사진은 Dataset이 건너뛰고 셉니다
        if size != (img["width"], img["height"]):
            report.add("size_mismatch", where, f"사진은 {size[0]} x {size[1]}인데 주석에는 {img['width']} x {img['height']}입니다.")
    if check_files and images and found == 0:
        report.add("missing_image", "모든 이미지", f"{root} 아래에서 사진을 하나도 찾지 못했습니다.")


def _segmentation_problem(seg: Any, height: int, width: int) -> tuple[str, str] | None:
    """segmentation 하나의 문제 (종류, 설명) 또는 None. 비어 있으면 ('no_segmentation', ...)."""
    if seg is None or seg == []:
        return "no_segmentation", "segmentation이 없습니다."
    if isinstance(seg, list):
        if all(_is_number(v) for v in seg):
            return "bad_segmentation", "다각형이 목록의 목록([[x1, y1, ...]])이 아니라 평평한 목록입니다."
        for part in seg:
            if not isinstance(part, list) or not all(_is_number(v) for v in part):
                return "bad_segmentation", "다각형 조각이 숫자의 목록이 아닙니다."
            if len(part) % 2:
                return "bad_segmentation", f"다각형 좌표가 {len(part)}개(홀수)입니다."
            if len(part) < 6:
                return "short_polygon", f"점이 {len(part) // 2}개뿐인 다각형 조각이 있습니다."
        return None
    if isinstance(seg, dict) and "counts" in seg and "size" in seg:
        if list(seg["size"]) != [height, width]:
            return "rle_size", f"RLE size {seg['size']}가 이미지 [높이, 너비] [{height}, {width}]와 다릅니다."
        counts = seg["counts"]
        if isinstance(counts, list) and sum(counts) != height * width:
            return "rle_size", f"RLE counts의 합 {sum(counts)}이 높이 x 너비 {height * width}와 다릅니다."
        if isinstance(counts, (list, str)):
            return None
    return "bad_segmentation", f"알 수 없는 형식입니다: {str(seg)[:60]}"


def _check_box(ann: dict, img: dict, where: str, report: CocoReport) -> bool:
    """bbox가 숫자 4개인지, 이미지 안에 있는지 (밖이면 잘라 씀, 넓이 0이면 뺌) 봅니다. 뺄 상자면 False."""
    box = ann["bbox"]
    if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
        report.add("bad_value", where, f"bbox는 숫자 4개 [x, y, 너비, 높이]여야 합니다: {box!r}")
        return True
    if ann.get("iscrowd", 0):
        report.add("crowd", where, "iscrowd=1입니다.", fatal=False)
        return True
    clipped = clip_box(box, img["width"], img["height"])
    if clipped is None:
        report.add("box_dropped", where, f"bbox {box}가 이미지 {img['width']} x {img['height']} 안에서 넓이가 0입니다.",
                   fatal=False)
        return False
    if clipped != [box[0], box[1], box[0] + box[2], box[1] + box[3]]:
        report.add("box_clipped", where, f"bbox {box}가 이미지 {img['width']} x {img['height']} 밖으로 나갑니다.",
                   fatal=False)
    return True


def _check_annotations(anns: list[dict], images: dict[int, dict], cats: dict[int, dict], need_masks: bool,
                       report: CocoReport) -> None:
    """주석마다 키, 가리키는 이미지·범주, bbox, segmentation을 검사합니다."""
    annotated, n_seg = set(), 0
    for i, ann in enumerate(anns):
        where = f"주석 id={ann['id']}" if _is_int(ann.get("id")) else f"주석 #{i}"
        if _is_int(ann.get("image_id")):
            where += f" (이미지 id={ann['image_id']})"
        ok = _check_id(ann, "id", where, report)
        if _check_id(ann, "image_id", where, report) and ann["image_id"] in images:
            annotated.add(ann["image_id"])  # 다른 키가 잘못되어도 이 사진에는 주석이 있습니다
        else:
            ok = False
        ok = _check_id(ann, "category_id", where, report) and ok
        if "bbox" not in ann:
            report.add("missing_key", where, "'bbox' 키가 없습니다.")
            ok = False
        if _is_int(ann.get("image_id")) and ann["image_id"] not in images:
            report.add("unknown_image", where, f"image_id={ann['image_id']}인 이미지가 images에 없습니다.")
        if not ok:
            continue
        img = images[ann["image_id"]]
        if ann["category_id"] not in cats:
            report.add("unknown_category", where, f"category_id={ann['category_id']}가 categories에 없습니다 "
                                                  f"(있는 id: {sorted(cats)}).")
        if not (_is_int(img.get("width")) and _is_int(img.get("height"))):
            continue
        kept = _check_box(ann, img, where, report)
        problem = _segmentation_problem(ann.get("segmentation"), img["height"], img["width"])
        n_seg += problem is None or problem[0] != "no_segmentation"
        if problem and (problem[0] != "no_segmentation" or (need_masks and kept)):  # 뺄 상자는 마스크가 없어도 됨
            report.add(problem[0], where, problem[1])
    for image_id in sorted(set(images) - annotated):
        report.add("unannotated", f"이미지 id={image_id} ({images[image_id].get('file_name')})", "주석이 없습니다.",
                   fatal=False)
    if need_masks and anns and n_seg == 0:  # 상자만 있는 내보내기: 주석마다 적지 않고 한 줄로
        report.problems = [p for p in report.problems if p.kind != "no_segmentation"]
        report.add("no_segmentation", "모든 주석", "상자(bbox)만 있는 내보내기입니다.")


def check_coco(source: str | os.PathLike, *, need_masks: bool = False, check_files: bool = True) -> CocoReport:
    """COCO 주석 파일 하나를 검사해 모든 문제를 한 번에 담은 CocoReport를 돌려줍니다. 예외는 던지지 않습니다.

    source는 주석 파일이나 그 파일이 든 폴더(instances.json, annotations/instances*.json).
    need_masks이면 분할에 필요한 segmentation이 없는 것도 문제입니다. check_files이면 사진이 디스크에
    있는지, 크기가 width/height와 같은지도 봅니다 (헤더만 읽음).
    """
    source = Path(source)
    path = find_coco_json(source) if source.is_dir() else source
    report = CocoReport(path)
    if path is None or not path.is_file():
        report.add("file", str(source), "instances.json(COCO 형식 주석 파일)이 없습니다.")
        return report
    data = _read_json(path, report)
    if data is None:
        return report
    if not isinstance(data, dict):
        report.add("bad_value", "파일 맨 위", "JSON 객체({...})여야 합니다.")
        return report
    report.data = data
    cats = _unique(_records(data, "categories", report), "id", "범주", report)
    for cat_id, cat in cats.items():
        if not isinstance(cat.get("name"), str) or not cat["name"].strip():
            report.add("missing_key" if "name" not in cat else "bad_value", f"범주 id={cat_id}", "이름(name)이 없습니다.")
    images = _unique(_records(data, "images", report), "id", "이미지", report)
    anns = _records(data, "annotations", report)
    if not images or not cats:
        report.add("empty", "파일", f"이미지 {len(images)}개, 범주 {len(cats)}개입니다.")
    _check_images(images, path.parent, check_files, report)
    _check_annotations(anns, images, cats, need_masks, report)
    return report


# ---------------------------------------------------------------- 클래스와 레코드

def clip_box(box: list[float], width: int, height: int) -> list[float] | None:
    """COCO [x, y, w, h]를 이미지 안으로 자른 XYXY로. 넓이가 0이면 None (torchvision 참조 구현의 규칙)."""
    x, y, w, h = box
    x1, x2 = min(max(x, 0), width), min(max(x + w, 0), width)
    y1, y2 = min(max(y, 0), height), min(max(y + h, 0), height)
    return [x1, y1, x2, y2] if x2 > x1 and y2 > y1 else None


def _is_pets(data: dict) -> str | None:
    """반려동물 예외인지: 범주 이름이 cat/dog이면 'name', 범주 하나 + 이미지마다 species면 'species'."""
    names = {str(c.get("name", "")).lower() for c in data["categories"]}
    if names and names <= set(_SPECIES_LABEL):
        return "name"
    species = {str(img.get("species", "")).lower() for img in data["images"]}
    if len(data["categories"]) == 1 and data["images"] and species <= set(_SPECIES_LABEL):
        return "species"
    return None


def coco_classes(data: dict, task: str = "detection") -> tuple[list[str], Callable[[dict, dict], int]]:
    """(클래스 이름 목록, (주석, 이미지) -> 레이블 함수). 이름 0번은 'background'.

    보통은 categories를 id 순서로 씁니다. 반려동물 예외(모듈 설명)면 검출은 PET_CLASSES, 분할은 배경/pet입니다.
    """
    pets = _is_pets(data)
    if pets and task == "segmentation":
        return list(_PET_SEG_CLASSES), lambda ann, img: 1
    if pets:
        names = {c["id"]: str(c["name"]).lower() for c in data["categories"]}
        if pets == "name":
            return list(PET_CLASSES), lambda ann, img: _SPECIES_LABEL[names[ann["category_id"]]]
        return list(PET_CLASSES), lambda ann, img: _SPECIES_LABEL[str(img["species"]).lower()]
    cats = sorted(data["categories"], key=lambda c: c["id"])
    label = {c["id"]: i + 1 for i, c in enumerate(cats)}
    return ["background", *[str(c["name"]) for c in cats]], lambda ann, img: label[ann["category_id"]]


@dataclass
class CocoObject:
    """주석 하나: 이미지 안으로 자른 상자(XYXY, 넓이 0이면 None), 레이블, segmentation, crowd 여부."""

    box: list[float] | None
    label: int
    segmentation: Any
    crowd: bool


@dataclass
class ImageRecord:
    """이미지 하나: 경로, 번호, 크기, 종, 객체 목록 (Oxford 폴더면 트라이맵 경로)."""

    path: Path
    image_id: int
    width: int
    height: int
    species: str
    objects: list[CocoObject] = field(default_factory=list)
    trimap: Path | None = None


def read_coco(root: Path, data: dict, task: str) -> tuple[list[ImageRecord], list[str]]:
    """검사를 통과한 COCO 내용으로 이미지마다 ImageRecord를 만듭니다 (이미지 id 순서)와 클래스 이름."""
    classes, label_of = coco_classes(data, task)
    images = {img["id"]: img for img in data["images"]}
    records = {i: ImageRecord(_image_path(root, img["file_name"]), i, img["width"], img["height"],
                              str(img.get("species", ""))) for i, img in sorted(images.items())}
    for ann in data["annotations"]:
        img = images[ann["image_id"]]
        records[ann["image_id"]].objects.append(CocoObject(
            clip_box(ann["bbox"], img["width"], img["height"]), label_of(ann, img),
            ann.get("segmentation") or None, bool(ann.get("iscrowd", 0))))
    return list(records.values()), classes


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


def read_oxford(root: Path) -> list[ImageRecord]:
    """Oxford-IIIT Pet 폴더를 읽어 ImageRecord 목록을 만듭니다 (상자는 읽을 때 트라이맵에서 계산)."""
    root = Path(root)
    species = _oxford_species(root)
    records = []
    for i, path in enumerate(sorted((root / "images").glob("*.jpg"))):
        trimap = root / "annotations" / "trimaps" / f"{path.stem}.png"
        if not trimap.is_file():
            continue
        # 목록 파일이 없으면 Oxford의 규칙(고양이 품종 이름은 대문자로 시작)을 씁니다
        sp = species.get(path.stem, "cat" if path.stem[:1].isupper() else "dog")
        records.append(ImageRecord(path, i + 1, 0, 0, sp, trimap=trimap))
    return records


def segmentation_mask(seg: Any, height: int, width: int) -> np.ndarray:
    """COCO segmentation(다각형 목록, 압축·비압축 RLE)을 (H, W) uint8 0/1 마스크로 (pycocotools)."""
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    elif isinstance(seg.get("counts"), list):
        rle = mask_utils.frPyObjects(seg, height, width)
    else:
        rle = seg
    with warnings.catch_warnings():  # pycocotools가 NumPy 2에서 내는 DeprecationWarning을 숨깁니다
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(np.uint8)


# ---------------------------------------------------------------- Dataset

_announced: set[tuple[str, bool]] = set()


def _validate(root: Path, need_masks: bool) -> CocoReport:
    """Dataset을 만들 때 한 번: 고칠 문제가 있으면 CocoFormatError, 고쳐 쓰는 것은 파일마다 한 번 알립니다."""
    report = check_coco(root, need_masks=need_masks)
    if report.errors:
        raise CocoFormatError(report.message())
    key = (str(report.path), need_masks)
    if report.notes and key not in _announced:
        _announced.add(key)
        print(report.message())
    return report


class _PetsBase(Dataset):
    """두 형식을 읽고, 주석을 검사하고, 깨진 사진을 한 번 걸러 내고, 시드로 train/val을 나누는 공통 부분."""

    task = "detection"

    def __init__(self, source: Any, split: str = "train", transforms: Callable | None = None,
                 val_fraction: float = 0.2, seed: int = 42):
        root = Path(source) if isinstance(source, (str, os.PathLike)) else Path(source.root)  # 경로나 DataSource
        if (root / "oxford-iiit-pet").is_dir() and find_coco_json(root) is None:
            root = root / "oxford-iiit-pet"
        if split not in ("train", "val", "all"):
            raise ValueError("split은 'train', 'val', 'all' 중 하나여야 합니다.")
        self.root, self.split, self.transforms = root, split, transforms
        self.format = "coco" if find_coco_json(root) is not None else "oxford"
        self.report: CocoReport | None = None
        if self.format == "coco":
            self.report = _validate(root, need_masks=self.task == "segmentation")
            ann_root = self.report.path.parent
            records, self.classes = read_coco(ann_root, self.report.data, self.task)
        else:
            records = read_oxford(root)
            self.classes = list(PET_CLASSES if self.task == "detection" else _PET_SEG_CLASSES)
        if not records:
            raise FileNotFoundError(f"{root} 에서 주석이 달린 사진을 찾지 못했습니다. data/README.md의 구조를 확인하세요.")
        records, self.skipped = self._drop_bad(records)
        order = list(range(len(records)))
        random.Random(seed).shuffle(order)
        n_val = round(len(records) * val_fraction)
        chosen = {"train": order[n_val:], "val": order[:n_val], "all": order}[split]
        self.records = [records[i] for i in sorted(chosen)]

    @property
    def num_classes(self) -> int:
        """배경을 포함한 클래스 수 (모델의 출력 수)."""
        return len(self.classes)

    @staticmethod
    def _drop_bad(records: list[ImageRecord]) -> tuple[list[ImageRecord], dict[str, list[Path]]]:
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

    def _image(self, rec: ImageRecord) -> tv_tensors.Image:
        arr = np.asarray(load_rgb(rec.path), dtype=np.uint8)
        return tv_tensors.Image(torch.from_numpy(arr.copy()).permute(2, 0, 1))  # (3, H, W) uint8

    @staticmethod
    def _trimap(rec: ImageRecord) -> np.ndarray:
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
    """(이미지 tv_tensors.Image uint8 (3,H,W), target 사전)을 돌려주는 검출 Dataset (COCO 폴더, Oxford 폴더).

    target: boxes (BoundingBoxes XYXY float), labels (int64, self.classes의 번호), masks (Mask uint8 (N,H,W),
    segmentation이 없는 객체는 0), image_id (int). iscrowd=1과 넓이 0인 상자는 빠집니다.
    transforms는 torchvision.transforms.v2 변환 (image, target) -> (image, target).

    box_source: 'mask'(기본)이면 segmentation이 있는 객체의 상자를 마스크에서 계산해 상자와 마스크가
    언제나 같은 객체 전체를 가리킵니다 (segmentation이 없으면 bbox). 'bbox'이면 COCO의 bbox를 그대로 씁니다.
    oxford-pets-sample처럼 bbox가 머리 상자(Oxford xmls)이고 다각형은 몸 전체인 내보내기가 있기 때문입니다.
    """

    task = "detection"

    def __init__(self, source: Any, split: str = "train", transforms: Callable | None = None,
                 val_fraction: float = 0.2, seed: int = 42, box_source: str = "mask"):
        if box_source not in ("mask", "bbox"):
            raise ValueError("box_source는 'mask' 또는 'bbox'여야 합니다.")
        super().__init__(source, split, transforms, val_fraction, seed)
        self.box_source = box_source

    def _coco_target(self, rec: ImageRecord, h: int, w: int) -> tuple[list, list, np.ndarray]:
        objects = [o for o in rec.objects if not o.crowd and o.box is not None]
        masks = np.stack([segmentation_mask(o.segmentation, h, w) if o.segmentation else np.zeros((h, w), np.uint8)
                          for o in objects]) if objects else np.zeros((0, h, w), np.uint8)
        boxes = [(_mask_box(m) if self.box_source == "mask" else None) or o.box for m, o in zip(masks, objects)]
        return boxes, [o.label for o in objects], masks

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
            boxes, labels, masks = self._coco_target(rec, h, w)
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


def semantic_mask(objects: list[CocoObject], height: int, width: int) -> np.ndarray:
    """객체 마스크를 클래스 번호 지도 (H, W) uint8로 합칩니다 (torchvision 참조 구현처럼 crowd 포함).

    같은 클래스의 객체끼리는 합집합, 다른 클래스끼리 겹친 픽셀은 IGNORE_INDEX(손실과 지표에서 빠짐)입니다.
    """
    out = np.zeros((height, width), np.uint8)
    for obj in filter(lambda o: o.segmentation, objects):
        m = segmentation_mask(obj.segmentation, height, width).astype(bool)
        clash = m & (out != 0) & (out != obj.label)
        out[m & (out == 0)] = obj.label
        out[clash] = IGNORE_INDEX
    return out


class PetsSegmentation(_PetsBase):
    """(정규화된 float 이미지 (3,H,W), 마스크 int64 (H,W))를 돌려주는 분할 Dataset (COCO 폴더, Oxford 폴더).

    마스크 값은 self.classes의 번호(0=배경)이고 IGNORE_INDEX(255)는 무시할 픽셀입니다: Oxford 트라이맵의
    경계(3), 다른 클래스의 객체가 겹친 곳. 상자만 있는 COCO 내보내기는 만들 때 CocoFormatError로 알립니다.
    transforms는 v2 변환 (image, mask) -> (image, mask). 결과 이미지가 uint8이면 여기서 [0,1]로 바꾸고
    ImageNet 평균/표준편차로 정규화합니다.
    """

    task = "segmentation"

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
            mask = semantic_mask(rec.objects, h, w)
        mask_t = tv_tensors.Mask(torch.from_numpy(mask)[None])  # (1, H, W): v2가 최근접 보간으로 함께 변환
        if self.transforms is not None:
            image, mask_t = self.transforms(image, mask_t)
        image = torch.as_tensor(image)
        if image.dtype == torch.uint8:
            mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
            std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
            image = (image.float() / 255 - mean) / std
        return image.as_subclass(torch.Tensor), torch.as_tensor(mask_t).as_subclass(torch.Tensor).reshape(
            mask_t.shape[-2:]).long()


def detection_collate(batch: list) -> tuple:
    """검출 배치: 이미지마다 크기와 상자 수가 달라 쌓지 않고 튜플로 묶습니다."""
    return tuple(zip(*batch))
