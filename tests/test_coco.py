"""course_utils.coco: COCO/Oxford 반려동물 검출·분할 Dataset, 주석 검사, 여러 클래스."""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import coco as ccoco
from course_utils import sources as csources


def _save(path: Path, img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _rgb(seed: int, size=(60, 48)) -> Image.Image:
    arr = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    return Image.fromarray(arr)


def _env(tmp_path, quick, offline=True):
    return SimpleNamespace(data_dir=tmp_path / "data", quick=quick, offline=offline, seed=42)


# ---------------------------------------------------------------- 반려동물 검출/분할

def _fake_oxford(root: Path) -> None:
    """Oxford-IIIT Pet 구조: images/*.jpg, annotations/trimaps/*.png(팔레트), list.txt."""
    specs = {"Bengal_1": (1, (5, 8, 30, 40)), "pug_2": (2, (10, 4, 50, 20)), "Persian_3": (1, (0, 0, 60, 48))}
    lines = ["#Image CLASS-ID SPECIES BREED ID"]
    for name, (species, (x0, y0, x1, y1)) in specs.items():
        _save(root / "images" / f"{name}.jpg", _rgb(len(name)), "JPEG")
        tri = np.full((48, 60), 2, np.uint8)
        tri[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = 3
        tri[y0:y1, x0:x1] = 1
        pal = Image.fromarray(tri, mode="L").convert("P")  # 값은 그대로, 모드만 팔레트
        pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
        _save(root / "annotations" / "trimaps" / f"{name}.png", pal, "PNG")
        lines.append(f"{name} 1 {species} 1")
    (root / "annotations" / "list.txt").write_text("\n".join(lines))
    (root / "images" / "broken_9.jpg").write_bytes(b"")  # 깨진 사진 하나
    _save(root / "annotations" / "trimaps" / "broken_9.png", Image.new("L", (4, 4), 2), "PNG")


def test_oxford_layout_boxes_from_trimap(tmp_path):
    _fake_oxford(tmp_path / "oxford-iiit-pet")
    ds = ccoco.PetsDetection(tmp_path, split="all")  # 상위 폴더를 줘도 찾음
    assert ds.format == "oxford" and len(ds) == 3 and [p.name for p in ds.skipped["zero_byte"]] == ["broken_9.jpg"]
    got = {ds.paths[i].stem: ds[i][1] for i in range(len(ds))}
    assert got["Bengal_1"]["boxes"].tolist() == [[5, 8, 30, 40]] and got["Bengal_1"]["labels"].tolist() == [1]
    assert got["pug_2"]["boxes"].tolist() == [[10, 4, 50, 20]] and got["pug_2"]["labels"].tolist() == [2]
    assert got["pug_2"]["masks"].shape == (1, 48, 60) and int(got["pug_2"]["masks"].sum()) == 40 * 16
    seg = ccoco.PetsSegmentation(tmp_path / "oxford-iiit-pet", split="all")
    image, mask = seg[0]
    assert image.dtype == torch.float32 and image.shape == (3, 48, 60) and mask.dtype == torch.int64
    assert set(mask.unique().tolist()) == {0, 1, 255}  # 경계(3)는 무시(255)


def test_dataset_status_counts_pet_images_not_trimaps(tmp_path, monkeypatch):
    monkeypatch.delenv(csources.PETS_VAR, raising=False)
    _fake_oxford(tmp_path / "data" / "oxford-iiit-pet")
    row = csources.dataset_status(_env(tmp_path, quick=True))[1]
    assert row["present"] and row["n_images"] == 4  # 트라이맵 PNG는 세지 않음
    monkeypatch.setenv(csources.PETS_VAR, str(tmp_path / "nowhere"))
    assert csources.dataset_status(_env(tmp_path, quick=True))[1]["present"] is False


def test_train_val_split_is_seeded_and_disjoint(tmp_path):
    from course_utils import synthetic

    root = synthetic.make_detection_set(tmp_path / "syn", n_images=20, size=64, seed=0, max_pets=2)
    tr = ccoco.PetsDetection(root, split="train")
    va = ccoco.PetsDetection(root, split="val")
    assert len(tr) == 16 and len(va) == 4 and not set(tr.paths) & set(va.paths)
    assert ccoco.PetsDetection(root, split="val").paths == va.paths
    assert ccoco.PetsDetection(root, split="val", seed=1).paths != va.paths
    coco = json.loads((Path(root) / "instances.json").read_text())
    n_anns = {img["file_name"]: sum(a["image_id"] == img["id"] for a in coco["annotations"]) for img in coco["images"]}
    tr_bbox = ccoco.PetsDetection(root, split="train", box_source="bbox")
    for i in range(len(tr)):
        image, target = tr[i]
        h, w = image.shape[-2:]
        assert image.dtype == torch.uint8 and len(target["boxes"]) == n_anns[tr.records[i].path.relative_to(root).as_posix()]
        assert target["masks"].shape == (len(target["boxes"]), h, w)
        assert set(target["labels"].tolist()) <= {1, 2}
        for box, m in zip(target["boxes"], target["masks"]):
            ys, xs = torch.nonzero(m, as_tuple=True)
            # 기본(box_source='mask'): 상자는 마스크를 꼭 감쌈
            assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        # 합성 데이터의 bbox는 보이는 픽셀을 감싸므로 다각형에서 계산한 상자와 2픽셀 안쪽으로 같음
        bbox_boxes = tr_bbox[i][1]["boxes"]
        assert torch.allclose(bbox_boxes, target["boxes"], atol=2.0)
    images, targets = ccoco.detection_collate([tr[0], tr[1]])
    assert len(images) == 2 and isinstance(targets[0], dict)


def test_detection_with_v2_transforms_moves_boxes(tmp_path):
    from torchvision.transforms import v2

    _fake_oxford(tmp_path)
    ds = ccoco.PetsDetection(tmp_path, split="all", transforms=v2.Compose([v2.Resize((24, 30)), v2.RandomHorizontalFlip(1.0)]))
    image, target = ds[[p.stem for p in ds.paths].index("Bengal_1")]
    assert image.shape == (3, 24, 30) and target["masks"].shape == (1, 24, 30)
    assert target["boxes"].tolist() == [[15.0, 4.0, 27.5, 20.0]]  # 반으로 줄이고 좌우 뒤집기


def test_with_course_detection_and_segmentation_transforms(tmp_path):
    from course_utils.transforms import detection_transforms, segmentation_transforms

    _fake_oxford(tmp_path)
    det = ccoco.PetsDetection(tmp_path, split="all", transforms=detection_transforms(train=True, size=32))
    image, target = det[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert target["masks"].shape[-2:] == (32, 32) and len(target["boxes"]) == len(target["labels"]) == 1
    seg = ccoco.PetsSegmentation(tmp_path, split="all", transforms=segmentation_transforms(train=False, size=32))
    batch = torch.utils.data.default_collate([seg[i] for i in range(len(seg))])
    assert batch[0].shape == (3, 3, 32, 32) and batch[1].shape == (3, 32, 32) and batch[1].dtype == torch.int64
    assert set(batch[1].unique().tolist()) <= {0, 1, 255} and batch[0].mean().abs() < 3


def test_coco_labels_from_category_names_or_species(tmp_path):
    _save(tmp_path / "a.jpg", _rgb(0), "JPEG")
    poly = [[2, 2, 20, 2, 20, 20, 2, 20]]
    base = dict(images=[dict(id=5, file_name="a.jpg", width=60, height=48, species="dog")],
                annotations=[dict(id=1, image_id=5, category_id=0, bbox=[2, 2, 18, 18], segmentation=poly, iscrowd=0)])
    (tmp_path / "instances.json").write_text(json.dumps({**base, "categories": [dict(id=0, name="pet")]}))
    assert ccoco.PetsDetection(tmp_path, split="all")[0][1]["labels"].tolist() == [2]  # species에서
    (tmp_path / "instances.json").write_text(json.dumps({**base, "categories": [dict(id=0, name="cat")]}))
    _, target = ccoco.PetsDetection(tmp_path, split="all")[0]
    assert target["labels"].tolist() == [1] and target["image_id"] == 5  # 범주 이름이 먼저
    assert int(target["masks"].sum()) == 18 * 18


# ---------------------------------------------------------------- 진짜 사진 (../shared/data 가 있을 때만)

def test_real_oxford_pets_sample_coco(shared_data):
    SHARED = shared_data
    start = time.perf_counter()
    ds = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="all")
    built = time.perf_counter() - start
    assert len(ds) == 370 and ds.format == "coco" and sum(len(v) for v in ds.skipped.values()) == 0
    species = []
    for i in range(len(ds)):
        image, target = ds[i]
        h, w = image.shape[-2:]
        boxes = target["boxes"].numpy()  # NumPy로 검사 (빠름)
        assert boxes.shape == (1, 4)
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
        assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all() and (boxes[:, 2] > boxes[:, 0]).all()
        masks = target["masks"].numpy()
        assert masks.shape == (1, h, w) and masks.any()
        ys, xs = np.nonzero(masks[0])  # 다각형 마스크가 상자 안에 있음 (1픽셀 허용)
        assert xs.min() >= boxes[0, 0] - 1 and xs.max() <= boxes[0, 2] and ys.max() <= boxes[0, 3]
        species.append(int(target["labels"][0]))
    assert species.count(1) == 120 and species.count(2) == 250
    # 이 표본의 bbox는 머리 상자(Oxford xmls)이고 다각형은 몸 전체입니다: box_source='bbox'이면 그 상자를 그대로
    heads = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="all", box_source="bbox")
    _, t_head = heads[0]
    _, t_body = ds[0]
    assert t_head["boxes"].tolist() == [[54.0, 36.0, 319.0, 235.0]]  # instances.json의 [54, 36, 265, 199]
    area = lambda b: float((b[0, 2] - b[0, 0]) * (b[0, 3] - b[0, 1]))
    smaller = sum(area(heads[i][1]["boxes"]) < area(ds[i][1]["boxes"]) for i in range(0, 370, 37))
    assert smaller >= 8  # 머리 상자가 몸 전체 상자보다 작은 경우가 대부분
    tr = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="train")
    va = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="val")
    assert (len(tr), len(va)) == (296, 74)
    image, mask = ccoco.PetsSegmentation(SHARED / "oxford-pets-sample", split="val")[0]
    assert image.dtype == torch.float32 and set(mask.unique().tolist()) == {0, 1}
    print(f"\n[oxford-pets-sample] {len(ds)}장, 검사 포함 준비 {built:.2f}초, 전체 읽기 {time.perf_counter() - start:.2f}초")
