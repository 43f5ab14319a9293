"""course_utils.coco: COCO/Oxford 반려동물 검출·분할 Dataset, 주석 검사, 여러 클래스."""
from __future__ import annotations

import codecs
import itertools
import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from test_data import _rgb, _save

from course_utils import coco as ccoco
from course_utils import sources as csources


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


# ---------------------------------------------------------------- 아무 COCO 파일: 여러 클래스, 검사

def _square(x: float, y: float, s: float) -> list[list[float]]:
    return [[x, y, x + s, y, x + s, y + s, x, y + s]]


def _write_coco(root: Path, data: dict, bom: bool = False) -> Path:
    path = root / "instances.json"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + json.dumps(data, ensure_ascii=False).encode("utf-8"))
    return path


def _tiny_coco(root: Path) -> dict:
    """사진 3장(60x48), 범주 2개(person id=1, car id=3: id가 이어지지 않음), 주석 4개인 깨끗한 COCO 폴더."""
    for i in (1, 2, 3):
        _save(root / "images" / f"{i}.jpg", _rgb(i), "JPEG")
    def ann(i, img, cat, x, y, s):
        return dict(id=i, image_id=img, category_id=cat, bbox=[x, y, s, s], segmentation=_square(x, y, s),
                    area=s * s, iscrowd=0)

    data = dict(images=[dict(id=i, file_name=f"images/{i}.jpg", width=60, height=48) for i in (1, 2, 3)],
                categories=[dict(id=1, name="person"), dict(id=3, name="car")],
                annotations=[ann(1, 1, 1, 2, 2, 10), ann(2, 1, 3, 30, 20, 12), ann(3, 2, 1, 5, 5, 20),
                             ann(4, 3, 3, 40, 10, 8)])
    _write_coco(root, data)
    return data


def test_classes_and_labels_come_from_the_file(tmp_path):
    _tiny_coco(tmp_path)
    det = ccoco.PetsDetection(tmp_path, split="all")
    seg = ccoco.PetsSegmentation(tmp_path, split="all")
    assert det.classes == seg.classes == ["background", "person", "car"] and det.num_classes == 3
    assert det.report.ok and not det.report.notes
    _, target = det[0]                                    # 이미지 1: person과 car 한 장에
    assert target["labels"].tolist() == [1, 2]            # category_id 1 -> 1, 3 -> 2 (id 순서)
    assert target["boxes"].tolist() == [[2, 2, 12, 12], [30, 20, 42, 32]]
    _, mask = seg[0]
    assert sorted(mask.unique().tolist()) == [0, 1, 2]
    assert int((mask == 1).sum()) == 100 and int((mask == 2).sum()) == 144


def test_several_instances_of_a_class_are_one_union_and_clashes_are_ignored(tmp_path):
    data = _tiny_coco(tmp_path)
    anns = data["annotations"]
    anns.append(dict(id=5, image_id=2, category_id=1, bbox=[15, 15, 20, 20], segmentation=_square(15, 15, 20)))
    anns.append(dict(id=6, image_id=3, category_id=1, bbox=[36, 6, 10, 10], segmentation=_square(36, 6, 10)))
    _write_coco(tmp_path, data)
    seg = ccoco.PetsSegmentation(tmp_path, split="all")
    _, union = seg[1]                                     # 이미지 2: person 둘이 겹침 -> 합집합
    assert int((union == 1).sum()) == 20 * 20 * 2 - 10 * 10 and int((union == 255).sum()) == 0
    _, clash = seg[2]                                     # 이미지 3: car와 person이 겹친 곳은 무시(255)
    assert int((clash == 255).sum()) == 6 * 6 and int((clash == 2).sum()) == 64 - 36
    assert int((clash == 1).sum()) == 100 - 36
    det = ccoco.PetsDetection(tmp_path, split="all")
    assert det[1][1]["labels"].tolist() == [1, 1] and det[1][1]["masks"].shape == (2, 48, 60)


def test_masks_from_rle_compressed_and_uncompressed(tmp_path):
    from pycocotools import mask as mask_utils

    data = _tiny_coco(tmp_path)
    m = np.zeros((48, 60), np.uint8)
    m[10:20, 5:25] = 1
    rle = mask_utils.encode(np.asfortranarray(m))
    data["annotations"][2]["segmentation"] = {"size": [48, 60], "counts": rle["counts"].decode("ascii")}
    col = m.flatten(order="F").tolist()                    # 비압축 RLE: 열 우선으로 0과 1이 번갈아 몇 개인지
    runs = [len(list(run)) for _, run in itertools.groupby(col)]
    data["annotations"][3]["segmentation"] = {"size": [48, 60], "counts": runs if col[0] == 0 else [0, *runs]}
    data["annotations"][3]["bbox"] = [5, 10, 20, 10]
    _write_coco(tmp_path, data)
    seg = ccoco.PetsSegmentation(tmp_path, split="all")
    assert torch.equal(seg[1][1], torch.from_numpy(m).long())             # 압축 RLE (문자열 counts)
    assert torch.equal(seg[2][1], torch.from_numpy(m).long() * 2)         # 비압축 RLE, car = 2
    assert ccoco.PetsDetection(seg.root, split="all")[1][1]["boxes"].tolist() == [[5, 10, 25, 20]]


def test_crowd_and_degenerate_boxes_follow_torchvision_references(tmp_path):
    data = _tiny_coco(tmp_path)
    anns = data["annotations"]
    anns[0]["bbox"], anns[0]["segmentation"] = [-5, -3, 12, 10], _square(0, 0, 7)       # 밖으로 나감: 잘라 씀
    anns.append(dict(id=5, image_id=1, category_id=1, bbox=[70, 10, 5, 5], segmentation=[]))  # 완전히 밖: 뺌
    anns.append(dict(id=6, image_id=1, category_id=1, bbox=[10, 10, 0, 5], segmentation=[]))  # 넓이 0: 뺌
    anns.append(dict(id=7, image_id=2, category_id=3, bbox=[40, 30, 10, 10], segmentation=_square(40, 30, 10),
                     iscrowd=1))
    _write_coco(tmp_path, data)
    report = ccoco.check_coco(tmp_path)
    assert report.ok and {p.kind for p in report.notes} == {"box_clipped", "box_dropped", "crowd"}
    assert [p.where for p in report.notes if p.kind == "box_dropped"] == ["주석 id=5 (이미지 id=1)",
                                                                           "주석 id=6 (이미지 id=1)"]
    det = ccoco.PetsDetection(tmp_path, split="all", box_source="bbox")
    assert det[0][1]["boxes"].tolist() == [[0, 0, 7, 7], [30, 20, 42, 32]]  # 잘린 상자, 밖의 상자 둘은 빠짐
    assert det[1][1]["labels"].tolist() == [1]                            # crowd는 검출에서 빠짐
    seg = ccoco.PetsSegmentation(tmp_path, split="all")                   # 분할에는 crowd도 씀 (참조 구현처럼)
    assert int((seg[1][1] == 2).sum()) == 100


def test_bbox_only_export_detects_and_refuses_segmentation_clearly(tmp_path):
    data = _tiny_coco(tmp_path)
    for ann in data["annotations"]:
        del ann["segmentation"]
    _write_coco(tmp_path, data)
    det = ccoco.PetsDetection(tmp_path, split="all")
    assert det[0][1]["boxes"].tolist() == [[2, 2, 12, 12], [30, 20, 42, 32]]
    assert det[0][1]["masks"].shape == (2, 48, 60) and int(det[0][1]["masks"].sum()) == 0
    with pytest.raises(ccoco.CocoFormatError) as err:
        ccoco.PetsSegmentation(tmp_path, split="all")
    msg = str(err.value)
    assert "segmentation 없음" in msg and "상자(bbox)만 있는 내보내기" in msg and "검출(09-12)" in msg
    assert str(tmp_path / "instances.json") in msg and msg.count("    - ") == 1  # 주석마다가 아니라 한 줄


def _set(path: list, value):
    """data에서 path(키/번호 목록)가 가리키는 값을 value로 바꾸는 함수 (value가 _DROP이면 키를 지움)."""
    def edit(data: dict) -> None:
        obj = data
        for key in path[:-1]:
            obj = obj[key]
        if value is _DROP:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
    return edit


_DROP = object()
BAD_FILES = {  # 이름: (고치기, 문제 종류, 레코드, 설명에 든 말)
    "missing_key": (_set(["images", 0, "width"], _DROP), "missing_key", "이미지 id=1", "'width'"),
    "missing_bbox": (_set(["annotations", 1, "bbox"], _DROP), "missing_key", "주석 id=2", "'bbox'"),
    "string_id": (_set(["images", 1, "id"], "2"), "string_id", "이미지 #1", "'2'"),
    "string_image_id": (_set(["annotations", 2, "image_id"], "2"), "string_id", "주석 id=3", "image_id"),
    "polygon_2_points": (_set(["annotations", 0, "segmentation"], [[2, 2, 12, 12]]), "short_polygon",
                         "주석 id=1 (이미지 id=1)", "점이 2개"),
    "polygon_1_point": (_set(["annotations", 3, "segmentation"], [[40, 10]]), "short_polygon",
                        "주석 id=4 (이미지 id=3)", "점이 1개"),
    "flat_polygon": (_set(["annotations", 0, "segmentation"], [2, 2, 12, 2, 12, 12]), "bad_segmentation",
                     "주석 id=1", "평평한 목록"),
    "rle_wrong_size": (_set(["annotations", 1, "segmentation"], {"size": [48, 48], "counts": "PP0"}), "rle_size",
                       "주석 id=2 (이미지 id=1)", "[48, 48]"),
    "rle_wrong_counts": (_set(["annotations", 1, "segmentation"], {"size": [48, 60], "counts": [5, 10]}),
                         "rle_size", "주석 id=2", "15"),
    "unknown_category": (_set(["annotations", 1, "category_id"], 7), "unknown_category", "주석 id=2 (이미지 id=1)",
                         "category_id=7"),
    "unknown_image": (_set(["annotations", 3, "image_id"], 99), "unknown_image", "주석 id=4", "image_id=99"),
    "duplicate_image_id": (_set(["images", 2, "id"], 1), "duplicate_id", "이미지 id=1", "같은 id"),
    "bad_bbox": (_set(["annotations", 0, "bbox"], [1, 2, 3]), "bad_value", "주석 id=1", "숫자 4개"),
    "size_mismatch": (_set(["images", 2, "width"], 64), "size_mismatch", "이미지 id=3 (images/3.jpg)", "60 x 48"),
    "no_categories": (_set(["categories"], _DROP), "missing_key", "파일 맨 위", "'categories'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_annotation_file_is_refused_naming_problem_and_record(tmp_path, case):
    edit, kind, where, words = BAD_FILES[case]
    data = _tiny_coco(tmp_path)
    edit(data)
    path = _write_coco(tmp_path, data)
    report = ccoco.check_coco(tmp_path)                      # 예외 없이 문제 목록을 돌려줌 (00의 상태 표용)
    hits = [p for p in report.errors if p.kind == kind]
    assert hits and hits[0].where.startswith(where) and words in hits[0].detail, report.problems
    with pytest.raises(ccoco.CocoFormatError) as err:       # Dataset은 학습 전에 멈춤
        ccoco.PetsDetection(tmp_path, split="all")
    msg = str(err.value)
    assert str(path) in msg and ccoco._KINDS[kind][0] in msg and where in msg and "다시 실행하세요" in msg


def test_every_problem_is_reported_at_once(tmp_path):
    data = _tiny_coco(tmp_path)
    for name in ("string_image_id", "polygon_2_points", "unknown_category", "size_mismatch"):
        BAD_FILES[name][0](data)
    _write_coco(tmp_path, data, bom=True)
    report = ccoco.check_coco(tmp_path)
    assert sorted(p.kind for p in report.errors) == ["short_polygon", "size_mismatch", "string_id", "unknown_category"]
    assert [p.kind for p in report.notes] == ["bom", "unannotated"]  # 이미지 2의 주석은 image_id가 문자열
    assert [p.where for p in report.notes if p.kind == "unannotated"] == ["이미지 id=2 (images/2.jpg)"]
    msg = report.message()
    assert msg.startswith(f"주석 파일 {tmp_path / 'instances.json'} 을(를) 그대로 쓸 수 없습니다. 아래 4건")
    assert all(p.where in msg and p.detail in msg for p in report.problems)


def test_windows_notepad_bom_is_accepted_and_announced_once(tmp_path, capsys):
    _write_coco(tmp_path, _tiny_coco(tmp_path), bom=True)
    with pytest.raises(json.JSONDecodeError):                # 보통의 json.load는 BOM에서 멈춤
        json.loads((tmp_path / "instances.json").read_text(encoding="utf-8"))
    det = ccoco.PetsDetection(tmp_path, split="train")
    ccoco.PetsDetection(tmp_path, split="val")
    out = capsys.readouterr().out
    assert det.classes == ["background", "person", "car"] and out.count("과정이 고쳐서 쓰는 것 1건") == 1


def test_missing_and_unannotated_images_are_skipped_or_kept_and_named(tmp_path, capsys):
    data = _tiny_coco(tmp_path)
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 2]  # 이미지 2: 주석 없음
    _write_coco(tmp_path, data)
    (tmp_path / "images" / "3.jpg").unlink()                                     # 이미지 3: 디스크에 없음
    det = ccoco.PetsDetection(tmp_path, split="all")
    assert [p.name for p in det.paths] == ["1.jpg", "2.jpg"] and [p.name for p in det.skipped["missing"]] == ["3.jpg"]
    assert det[1][1]["boxes"].shape == (0, 4) and det[1][1]["labels"].tolist() == []  # 배경만 있는 사진
    out = capsys.readouterr().out
    assert "디스크에 없는 사진" in out and "이미지 id=3 (images/3.jpg)" in out
    assert "주석이 없는 사진" in out and "이미지 id=2 (images/2.jpg)" in out
    for i in (1, 2):
        (tmp_path / "images" / f"{i}.jpg").unlink()
    report = ccoco.check_coco(tmp_path)
    assert [p.where for p in report.errors] == ["모든 이미지"] and "하나도 찾지 못했습니다" in report.message()


@pytest.mark.parametrize("content", [b"", b"{\"images\": [", b"[1, 2]", b"\xff\xfe{}", b'{"images": "x"}',
                                     b'{"images": [{"id": 1}], "annotations": [{"bbox": "a"}], "categories": [1]}'])
def test_check_coco_never_raises(tmp_path, content):
    (tmp_path / "instances.json").write_bytes(content)
    report = ccoco.check_coco(tmp_path)
    assert not report.ok and report.n_images in (0, 1) and "다시 실행하세요" in report.message()
    with pytest.raises(ccoco.CocoFormatError):
        ccoco.PetsDetection(tmp_path, split="all")
    assert ccoco.check_coco(tmp_path / "nowhere").errors[0].kind == "file"


def test_json_syntax_error_names_line_and_column(tmp_path):
    _tiny_coco(tmp_path)
    (tmp_path / "instances.json").write_text('{\n  "images": [\n    {"id": 1,}\n  ]\n}')
    (problem,) = ccoco.check_coco(tmp_path).errors
    assert problem.kind == "json" and problem.where == "3행 14열"


@pytest.mark.parametrize("categories", [("person",), {1: "person", 3: "car", 17: "cat"}])
def test_generated_coco_sets(tmp_path, categories):
    from course_utils import synthetic

    root = synthetic.make_coco_set(tmp_path / "set", categories, n_images=12, size=96, seed=0)
    names = list(categories.values()) if isinstance(categories, dict) else list(categories)
    report = ccoco.check_coco(root, need_masks=True)
    assert report.ok and not report.problems and report.n_images == 12
    det = ccoco.PetsDetection(root, split="all")
    seg = ccoco.PetsSegmentation(root, split="all")
    assert det.classes == seg.classes == ["background", *names]   # 반려동물 예외가 아님: 범주 그대로
    labels = torch.cat([det[i][1]["labels"] for i in range(len(det))])
    assert set(labels.tolist()) == set(range(1, len(names) + 1))  # 모든 클래스가 나옴
    assert max(len(det[i][1]["labels"]) for i in range(len(det))) >= 2  # 한 장에 여러 객체
    pixels = torch.stack([seg[i][1] for i in range(len(seg))])
    assert set(pixels.unique().tolist()) == set(range(len(names) + 1))
    assert synthetic.make_coco_set(tmp_path / "set", categories, n_images=12, size=96, seed=0) == root  # 재사용


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
    def area(b):
        return float((b[0, 2] - b[0, 0]) * (b[0, 3] - b[0, 1]))

    smaller = sum(area(heads[i][1]["boxes"]) < area(ds[i][1]["boxes"]) for i in range(0, 370, 37))
    assert smaller >= 8  # 머리 상자가 몸 전체 상자보다 작은 경우가 대부분
    tr = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="train")
    va = ccoco.PetsDetection(SHARED / "oxford-pets-sample", split="val")
    assert (len(tr), len(va)) == (296, 74)
    image, mask = ccoco.PetsSegmentation(SHARED / "oxford-pets-sample", split="val")[0]
    assert image.dtype == torch.float32 and set(mask.unique().tolist()) == {0, 1}
    print(f"\n[oxford-pets-sample] {len(ds)}장, 검사 포함 준비 {built:.2f}초, 전체 읽기 {time.perf_counter() - start:.2f}초")
