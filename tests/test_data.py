"""course_utils.data / sources: 지저분한 파일 걸러 내기, 나누기, Dataset, 찾기, 반려동물 검출/분할."""
from __future__ import annotations

import io
import os
import random
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import data as cdata

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _save(path: Path, img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _rgb(seed: int, size=(60, 48)) -> Image.Image:
    arr = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    return Image.fromarray(arr)


@pytest.fixture(autouse=True)
def _fresh_announcements(monkeypatch):
    """안내문은 프로세스마다 한 번만 나오므로, 테스트마다 새로 시작합니다."""
    monkeypatch.setattr(cdata, "_ANNOUNCED", set())


@pytest.fixture()
def messy(tmp_path) -> Path:
    """Microsoft PetImages처럼 지저분한 폴더: 좋은 사진과 온갖 나쁜 파일."""
    root = tmp_path / "PetImages"
    cat, dog = root / "Cat", root / "Dog"
    for i in range(3):
        _save(cat / f"{i}.jpg", _rgb(i), "JPEG")
        _save(dog / f"{i}.jpg", _rgb(10 + i), "JPEG")
    _save(cat / "10.jpg", _rgb(20).convert("L"), "JPEG")          # 흑백
    _save(cat / "11.jpg", _rgb(21).convert("CMYK"), "JPEG")       # CMYK JPEG
    _save(dog / "10.jpg", _rgb(22).convert("P"), "PNG")            # 확장자는 jpg인 팔레트 PNG
    rgba = _rgb(23).convert("RGBA")
    alpha = np.full((48, 60), 255, np.uint8)
    alpha[:, :30] = 0                                               # 왼쪽 절반은 투명
    rgba.putalpha(Image.fromarray(alpha))
    _save(dog / "11.png", rgba, "PNG")
    (cat / "666.jpg").write_bytes(b"")                             # 0바이트
    good = _save(dog / "tmp.jpg", _rgb(30), "JPEG")
    (dog / "tmp.jpg").unlink()
    (dog / "12.jpg").write_bytes(good[: len(good) // 2])           # 중간에 잘린 JPEG
    png = io.BytesIO()
    _rgb(31).save(png, "PNG")
    raw = png.getvalue()
    noise = np.random.default_rng(0).integers(0, 256, len(raw) - 100, dtype=np.uint8).tobytes()
    (cat / "12.jpg").write_bytes(raw[:100] + noise)                # 헤더는 맞고 데이터가 깨진 파일
    (cat / "13.jpg").write_text("<html>404 Not Found</html>")      # 이미지가 아닌 파일
    (dog / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)  # 윈도의 썸네일 파일
    (cat / ".DS_Store").write_bytes(b"hidden")                     # 숨김 파일은 세지 않음
    return root


def test_index_counts_every_bad_kind(messy):
    index = cdata.index_images(messy)
    assert index.classes == ["Cat", "Dog"]
    names = {r: sorted(p.name for p in ps) for r, ps in index.skipped.items() if ps}
    assert names == {"zero_byte": ["666.jpg"], "not_image": ["13.jpg", "Thumbs.db"],
                     "truncated": ["12.jpg"], "corrupt": ["12.jpg"]}
    assert [p.parent.name for p in index.skipped["truncated"]] == ["Dog"]
    assert [p.parent.name for p in index.skipped["corrupt"]] == ["Cat"]
    assert index.n_skipped == 5
    assert index.class_counts() == {"Cat": 5, "Dog": 5}
    assert index.modes == {"RGB": 6, "L": 1, "CMYK": 1, "P": 1, "RGBA": 1}
    text = index.summary()
    assert "0바이트 파일 1" in text and "이미지가 아닌 파일 2" in text and "CMYK 1" in text
    # 순서: 클래스 이름순, 그 안에서 파일 이름순 (교재의 sorted(os.listdir) 와 같음)
    assert [p.name for p, lab in index.items if lab == 0] == ["0.jpg", "1.jpg", "10.jpg", "11.jpg", "2.jpg"]


def test_every_kept_file_loads_as_rgb(messy):
    index = cdata.index_images(messy)
    ds = cdata.ImageListDataset(index.items, transform=None)
    for i in range(len(ds)):
        x, label = ds[i]
        assert x.shape == (3, 48, 60) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
        assert label == ["Cat", "Dog"].index(ds.paths[i].parent.name)
    rgba_idx = [p.name for p in ds.paths].index("11.png")
    x, _ = ds[rgba_idx]
    assert torch.allclose(x[:, :, :30], torch.ones(3, 48, 30))  # 투명한 곳은 흰 바탕 (검정이 아님)
    gray_idx = [p.name for p in ds.paths].index("10.jpg")
    x, _ = ds[gray_idx]
    assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])  # 흑백은 세 채널이 같은 RGB


def test_validation_happens_once_not_every_epoch(messy, monkeypatch):
    index = cdata.index_images(messy)
    calls = []
    monkeypatch.setattr(cdata, "check_image", lambda p: calls.append(p) or (None, "RGB"))
    ds = cdata.ImageListDataset(index.items, transform=None)
    for _ in range(2):
        for i in range(len(ds)):
            ds[i]
    assert calls == []


def test_label_is_parent_folder_not_split_slash(messy):
    path = messy / "Dog" / "0.jpg"
    assert cdata.label_from_path(path) == "Dog"
    # 교재 방식: 파일 이름의 첫 마디를 클래스로 씀 -> PetImages의 '0.jpg'에서는 '0'이 나옴
    assert str(path).split("/")[-1].split(".")[0] == "0"
    assert cdata.label_from_path(Path("data") / "dogs-vs-cats" / "Cat" / "cat.1.jpg") == "Cat"


def test_split_matches_notes_global_random():
    items = [f"img{i}.jpg" for i in range(520)]
    train, val, test = cdata.split_items(items, 400, 92, 10, seed=42)
    notes = list(items)
    random.seed(42)
    random.shuffle(notes)
    assert train == notes[:400] and test == notes[-10:] and val == notes[400:-10][:92]
    assert (len(train), len(val), len(test)) == (400, 92, 10)
    assert items == [f"img{i}.jpg" for i in range(520)]  # 원래 목록은 그대로
    assert cdata.split_items(items, 400, 92, 10, seed=42) == (train, val, test)
    assert cdata.split_items(items, 400, 92, 10, seed=1)[0] != train


def test_split_exact_502_is_the_notes_split():
    items = list(range(502))
    train, val, test = cdata.split_items(items)  # 기본값이 교재의 400/92/10
    assert (len(train), len(val), len(test)) == (400, 92, 10)
    assert len(set(train) | set(val) | set(test)) == 502


def test_split_fractions_and_errors(capsys):
    items = list(range(400))
    train, val, test = cdata.split_items(items, 0.8, 0.15, 0.05)
    assert (len(train), len(val), len(test)) == (320, 60, 20)
    assert not set(train) & set(val) and not set(val) & set(test)
    train, val, test = cdata.split_items(items, 300, None, 0)
    assert (len(train), len(val), len(test)) == (300, 100, 0)
    with pytest.raises(ValueError, match="400장뿐"):
        cdata.split_items(items, strict=True)  # 400장으로는 400+92+10을 만들 수 없음
    train, val, test = cdata.split_items(items)  # 기본: 비율을 유지해 줄이고 알림 (같은 안내는 한 번만)
    assert (len(train), len(val), len(test)) == (318, 75, 7) and len(set(train + val + test)) == 400
    assert cdata.split_items(items) == (train, val, test)
    assert capsys.readouterr().out.count("비율을 유지해 훈련 318, 검증 75, 테스트 7장으로 줄입니다") == 1


def test_transform_styles(messy):
    index = cdata.index_images(messy)
    seen = []

    def one_arg(img):
        return torch.tensor(img.size)

    def notes_style(img, phase):
        seen.append(phase)
        return torch.tensor(img.size)

    assert cdata.ImageListDataset(index.items, one_arg)[0][0].tolist() == [60, 48]
    ds = cdata.ImageListDataset(index.items, notes_style, phase="val")
    assert ds[0][0].tolist() == [60, 48] and seen == ["val"]
    with pytest.raises(ValueError, match="phase"):
        cdata.ImageListDataset(index.items, notes_style)

    def phase_with_default(img, phase="train"):
        seen.append(phase)
        return torch.tensor(img.size)

    with pytest.raises(ValueError, match="phase"):  # 기본값이 있어도 검증 세트가 조용히 증강되지 않도록
        cdata.ImageListDataset(index.items, phase_with_default)
    cdata.ImageListDataset(index.items, phase_with_default, phase="val")[0]
    assert seen[-1] == "val"

    def other_default(img, size=3):
        return torch.tensor(img.size) * 0 + size

    assert cdata.ImageListDataset(index.items, other_default)[0][0].tolist() == [3, 3]


def test_works_with_course_transforms(messy):
    from course_utils.transforms import ImageTransform

    index = cdata.index_images(messy)
    t = ImageTransform(32, resize_val=36)
    with pytest.raises(ValueError, match="phase"):
        cdata.ImageListDataset(index.items, t)
    ds = cdata.ImageListDataset(index.items, t, phase="val")
    batch = torch.stack([ds[i][0] for i in range(len(ds))])  # 흑백/CMYK/팔레트/RGBA도 같은 모양
    assert batch.shape == (10, 3, 32, 32)


def test_cache_skips_decoding_after_first_epoch(tmp_path, monkeypatch):
    items = [(tmp_path / "Cat" / f"{i}.jpg", 0) for i in range(4)]
    for i, (path, _) in enumerate(items):
        _save(path, _rgb(i, size=(300, 200)), "JPEG")
    ds = cdata.ImageListDataset(items, transform=None, cache=64)
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    first = [ds[i][0] for i in range(4)]
    assert len(opened) == 4
    second = [ds[i][0] for i in range(4)]
    assert len(opened) == 4  # 두 번째 에포크는 디코딩하지 않음
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert first[0].shape == (3, 64, 96)  # 짧은 변 200 -> 64, 긴 변은 비율대로 96
    assert ds._cache[0].dtype == np.uint8
    ds2 = cdata.ImageListDataset(items, transform=None, cache=64).fill_cache()
    assert all(a is not None for a in ds2._cache)


def test_organize_flat_kaggle_folder(tmp_path):
    flat = tmp_path / "train"
    for name in ("cat.0.jpg", "cat.1.jpg", "dog.0.jpg", "notes.txt"):
        _save(flat / name, _rgb(len(name)), "JPEG") if name.endswith("jpg") else (flat / name).write_text("x")
    counts = cdata.organize_flat_folder(flat, tmp_path / "dogs-vs-cats")
    assert counts == {"Cat": 2, "Dog": 1}
    index = cdata.index_images(tmp_path / "dogs-vs-cats")
    assert index.class_counts() == {"Cat": 2, "Dog": 1} and (flat / "cat.0.jpg").exists()


# ---------------------------------------------------------------- 진짜 사진 (../shared/data 가 있을 때만)

@pytest.mark.skipif(not (SHARED / "dogs-vs-cats-mini").is_dir(), reason="../shared/data 가 없습니다")
def test_real_dogs_vs_cats_mini():
    start = time.perf_counter()
    index = cdata.index_images(SHARED / "dogs-vs-cats-mini")
    seconds = time.perf_counter() - start
    assert index.class_counts() == {"Cat": 200, "Dog": 200} and index.n_skipped == 0
    assert all(cdata.label_from_path(p) == index.classes[lab] for p, lab in index.items)
    print(f"\n[dogs-vs-cats-mini] {index.summary()} (벽시계 {seconds:.2f}초)")
    train, val, test = cdata.split_items(index.items, 300, 90, 10)
    ds = cdata.ImageListDataset(train[:8], transform=None)
    assert all(ds[i][0].shape[0] == 3 for i in range(8))


def test_cache_size_for_memory_budget():
    from course_utils.data import cache_size_for

    assert cache_size_for(400, 256) == 256                 # 사진 400장 x 256px: 약 0.1 GB
    assert cache_size_for(25_000, 256) is None             # 25,000장 x 256px: 약 6.5 GB
    assert cache_size_for(25_000, 256, max_gib=8) == 256
    assert cache_size_for(750, None) is None               # 캐시를 원하지 않으면 그대로 None
    n_fit = int(2 * 2**30 / (256 * 256 * 4 / 3 * 3))       # 2 GiB에 딱 들어가는 장수
    assert cache_size_for(n_fit, 256) == 256 and cache_size_for(n_fit + 1, 256) is None


# ---------------------------------------------------------------- 폴더 구조: 어떤 구조를 읽는지

def _photos(folder: Path, names: list[str], seed: int = 0) -> None:
    for i, name in enumerate(names):
        _save(folder / name, _rgb(seed + i, size=(24, 20)), "JPEG")


def _class_dirs(root: Path, classes: list[str], n: int = 4) -> None:
    for k, cls in enumerate(classes):
        _photos(root / cls, [f"{i}.jpg" for i in range(n)], seed=10 * k)


def _kaggle_flat(folder: Path, n: int = 6) -> None:
    _photos(folder, [f"{c}.{i}.jpg" for c in ("cat", "dog") for i in range(n)])


def _build(kind: str, root: Path) -> None:
    if kind == "Cat/Dog":
        _class_dirs(root, ["Cat", "Dog"])
    elif kind == "cats/dogs":
        _class_dirs(root, ["cats", "dogs"])
    elif kind == "any names":
        _class_dirs(root, ["고양이", "bird", "dog_2"])
    elif kind == "keras train/test":
        for split in ("train", "test"):
            _class_dirs(root / split, ["cats", "dogs"], n=6 if split == "train" else 3)
    elif kind == "train/val/test":
        for split, n in (("train", 6), ("val", 3), ("test", 2)):
            _class_dirs(root / split, ["Cat", "Dog"], n=n)
    elif kind == "train/valid":
        for split, n in (("train", 6), ("valid", 3)):
            _class_dirs(root / split, ["Cat", "Dog"], n=n)
    elif kind == "kaggle flat":
        _kaggle_flat(root / "train")
        _photos(root / "test1", ["1.jpg", "2.jpg"])  # 레이블 없는 Kaggle 테스트 사진
        (root / "sampleSubmission.csv").write_text("id,label\n")
    elif kind == "PetImages":
        _class_dirs(root / "PetImages", ["Cat", "Dog"])
        (root / "readme[1].txt").write_text("Microsoft")
        (root / "__MACOSX").mkdir()


LAYOUTS = {  # 구조 -> (클래스, 폴더가 정한 나누기, 이미지 수)
    "Cat/Dog": (["Cat", "Dog"], [], 8),
    "cats/dogs": (["cats", "dogs"], [], 8),
    "any names": (sorted(["고양이", "bird", "dog_2"]), [], 12),
    "keras train/test": (["cats", "dogs"], ["train", "test"], 18),
    "train/val/test": (["Cat", "Dog"], ["train", "val", "test"], 22),
    "train/valid": (["Cat", "Dog"], ["train", "val"], 18),
    "kaggle flat": (["cat", "dog"], [], 12),
    "PetImages": (["Cat", "Dog"], [], 8),
}


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_every_layout_is_read_with_classes_as_found(kind, tmp_path):
    root = tmp_path / "data"
    _build(kind, root)
    classes, splits, n = LAYOUTS[kind]
    index = cdata.index_images(root)
    assert index.classes == classes and list(index.splits) == splits and len(index.items) == n
    assert index.n_skipped == 0 and all(v > 0 for v in index.class_counts().values())
    assert all(cdata.label_from_path(p, index.classes) == index.classes[lab] for p, lab in index.items)
    assert index.layout.describe() in index.summary()
    train, val, test = cdata.course_split(index, n_train=4, n_val=2, n_test=2)
    assert train and val and test
    assert not {p for p, _ in train} & {p for p, _ in val + test} and not {p for p, _ in val} & {p for p, _ in test}
    for split_name, items in (("train", train), ("val", val), ("test", test)):
        if split_name in splits:  # 폴더가 정한 나누기는 그대로: 그 폴더의 사진만
            assert {p for p, _ in items} <= {p for p, _ in index.splits[split_name]}
    assert cdata.course_split(index, n_train=4, n_val=2, n_test=2) == (train, val, test)


def test_kaggle_flat_is_read_in_place_without_copying(tmp_path):
    _kaggle_flat(tmp_path / "train")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    index = cdata.index_images(tmp_path / "train")
    assert index.class_counts() == {"cat": 6, "dog": 6} and index.layout.kind == "flat"
    assert all(p.parent == tmp_path / "train" for p, _ in index.items)  # 원래 자리의 파일
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert cdata.label_from_path(tmp_path / "train" / "dog.3.jpg", index.classes) == "dog"
    # 나뉘지 않은 폴더이므로 교재의 나누기(시드 42)와 같습니다
    assert cdata.course_split(index, 8, 2, 2) == cdata.split_items(index.items, 8, 2, 2, seed=42)


@pytest.mark.parametrize("kind", ["Cat/Dog", "cats/dogs", "any names"])
def test_same_classes_and_order_as_torchvision_imagefolder(kind, tmp_path):
    from torchvision.datasets import ImageFolder

    _build(kind, tmp_path)
    index = cdata.index_images(tmp_path)
    folder = ImageFolder(tmp_path)
    assert index.classes == folder.classes
    assert [(str(p), lab) for p, lab in index.items] == folder.samples


def test_hidden_and_macos_folders_are_not_classes(tmp_path):
    _class_dirs(tmp_path, ["Cat", "Dog"])
    (tmp_path / ".ipynb_checkpoints").mkdir()
    _photos(tmp_path / "__MACOSX" / "Cat", ["._0.jpg"])
    assert cdata.index_images(tmp_path).classes == ["Cat", "Dog"]


def test_given_split_is_capped_by_seed_and_missing_val_taken_from_train(tmp_path, capsys):
    for split, n in (("train", 30), ("test", 8)):
        _class_dirs(tmp_path / split, ["cats", "dogs"], n=n // 2)
    index = cdata.index_images(tmp_path)
    train, val, test = cdata.course_split(index, n_train=10, n_val=4, n_test=5)
    out = capsys.readouterr().out
    assert "검증 폴더가 없어 train/ 에서" in out and "폴더가 정한 나누기" in out
    assert (len(train), len(val), len(test)) == (10, 4, 5)
    assert all("train" in p.parts for p, _ in train + val) and all("test" in p.parts for p, _ in test)
    assert cdata.course_split(index, n_train=10, n_val=4, n_test=5, seed=1)[0] != train  # 시드로 뽑습니다
    train_all, _, test_all = cdata.course_split(index, n_train=0.8, n_val=0.1, n_test=0.1)
    assert len(test_all) == 8 and len(train_all) == 30 - round(30 * 0.1)  # 비율이면 폴더의 사진 전부


def test_course_split_of_a_pool_is_the_textbook_split(tmp_path):
    _class_dirs(tmp_path, ["Cat", "Dog"], n=260)
    index = cdata.index_images(tmp_path)
    train, val, test = cdata.course_split(index)  # 기본값: 교재의 400/92/10, 시드 42
    paths = [p for p, _ in index.items]
    random.seed(42)
    random.shuffle(paths)
    assert [p for p, _ in train] == paths[:400] and [p for p, _ in val] == paths[400:-10][:92]
    assert [p for p, _ in test] == paths[-10:]


# ---------------------------------------------------------------- 폴더 구조: 거절 (찾은 것과 할 일을 말함)

def _one_class(root: Path) -> None:
    _class_dirs(root, ["Cat"])


def _one_class_flat(root: Path) -> None:
    _photos(root, ["cat.0.jpg", "cat.1.jpg"])


def _empty_class(root: Path) -> None:
    _class_dirs(root, ["Cat"])
    (root / "Dog").mkdir()


def _classes_differ(root: Path) -> None:
    _class_dirs(root / "train", ["cats", "dogs"])
    _class_dirs(root / "test", ["cats", "dogs", "birds"])


def _empty_split(root: Path) -> None:
    _class_dirs(root / "train", ["cats", "dogs"])
    (root / "val").mkdir()


def _no_train(root: Path) -> None:
    _class_dirs(root / "val", ["cats", "dogs"])
    _class_dirs(root / "test", ["cats", "dogs"])


def _loose_photos(root: Path) -> None:
    _photos(root, ["IMG_2031.jpg", "IMG_2032.jpg"])


def _zipped(root: Path) -> None:
    root.mkdir()
    (root / "train.zip").write_bytes(b"PK\x03\x04")


def _all_broken(root: Path) -> None:
    _class_dirs(root, ["Cat"])
    (root / "Dog").mkdir()
    (root / "Dog" / "0.jpg").write_bytes(b"")
    (root / "Dog" / "1.jpg").write_text("<html>")


REFUSALS = {  # 만드는 함수 -> (예외, 메시지에 있어야 할 말)
    "one class folder": (_one_class, cdata.DataFolderError, ["Cat/ 하나뿐", "찾은 것: Cat/(4개)"]),
    "one class flat": (_one_class_flat, cdata.DataFolderError, ["클래스가 cat 하나뿐"]),
    "empty class": (_empty_class, cdata.DataFolderError, ["Dog/ 폴더가 비었습니다", "Dog/(0개)"]),
    "classes differ": (_classes_differ, cdata.DataFolderError, ["나누기마다 클래스가 다릅니다", "birds"]),
    "empty split": (_empty_split, cdata.DataFolderError, ["val/ 폴더가 비었습니다"]),
    "no train": (_no_train, cdata.DataFolderError, ["train/ 폴더가 없습니다"]),
    "loose photos": (_loose_photos, cdata.DataFolderError, ["클래스 폴더가 없고 파일 2개", "IMG_2031.jpg"]),
    "zip not extracted": (_zipped, cdata.DataFolderError, ["먼저 푸세요", "train.zip"]),
    "class with no usable image": (_all_broken, cdata.DataFolderError, ["클래스 Dog", "0바이트 파일 1"]),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refusal_names_what_was_found_and_what_to_do(case, tmp_path):
    build, error, words = REFUSALS[case]
    root = tmp_path / "photos"
    build(root)
    with pytest.raises(error) as info:
        cdata.index_images(root)
    text = str(info.value)
    assert all(w in text for w in words), text
    assert str(root) in text and ("할 일" in text or "넣으세요" in text)


def test_missing_path_and_file_instead_of_folder(tmp_path):
    _class_dirs(tmp_path / "photos", ["Cat", "Dog"])
    with pytest.raises(FileNotFoundError, match="없습니다.*photos/") as info:
        cdata.index_images(tmp_path / "photo")  # 철자 틀림: 옆에 있는 것을 보여 줌
    assert "No such file" not in str(info.value)
    with pytest.raises(NotADirectoryError, match="폴더가 아니라 파일"):
        cdata.index_images(tmp_path / "photos" / "Cat" / "0.jpg")
    (tmp_path / "pets.zip").write_bytes(b"PK")
    with pytest.raises(NotADirectoryError, match="압축을 풀고"):
        cdata.index_images(tmp_path / "pets.zip")
    with pytest.raises(cdata.DataFolderError, match="한 단계 위 폴더"):
        cdata.index_images(tmp_path / "photos" / "Cat")  # 클래스 폴더 하나를 준 경우


def test_missing_class_folder_named_explicitly_lists_what_was_found(tmp_path):
    _class_dirs(tmp_path, ["cats", "dogs"])
    with pytest.raises(cdata.DataFolderError) as info:
        cdata.index_images(tmp_path, classes=["Cat", "Dog"])
    text = str(info.value)
    assert "Cat, Dog 의 폴더가 없습니다" in text and "찾은 클래스: cats, dogs" in text
    index = cdata.index_images(tmp_path, classes=["dogs", "cats"])  # 준 순서가 레이블 번호
    assert index.classes == ["dogs", "cats"] and index.class_counts() == {"dogs": 4, "cats": 4}
    assert {lab for p, lab in index.items if p.parent.name == "dogs"} == {0}


# ---------------------------------------------------------------- 빈 데이터는 어느 세트가 왜 비는지 말하고 멈춤

def test_nested_layout_does_not_index_zero_images(tmp_path):
    _class_dirs(tmp_path / "train", ["cats", "dogs"])
    _class_dirs(tmp_path / "test", ["cats", "dogs"], n=2)
    index = cdata.index_images(tmp_path)
    assert len(index.items) == 12 and index.classes == ["cats", "dogs"]  # 예전: 클래스 ['test', 'train'], 0장


def test_split_of_nothing_stops_instead_of_negative_count(capsys):
    with pytest.raises(ValueError, match="훈련, 검증, 테스트 세트가 비게 됩니다: 나눌 이미지가 하나도 없습니다"):
        cdata.split_items([])
    assert "-1" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="검증 세트가 비게 됩니다: 이미지가 2장뿐"):
        cdata.split_items(list(range(2)))
    with pytest.raises(ValueError, match="검증 세트가 비게"):
        cdata.split_items(list(range(20)), 15, None, 5)  # '나머지 전부'가 0장
    train, val, test = cdata.split_items(list(range(20)), 15, 5, 0)  # 테스트 0장은 요청한 그대로
    assert (len(train), len(val), len(test)) == (15, 5, 0)


def test_fractions_over_one_or_mixed_are_refused():
    items = list(range(100))
    with pytest.raises(ValueError, match="1을 넘습니다") as info:
        cdata.split_items(items, 0.8, 0.3, 0.1)
    assert "같은 사진" in str(info.value)
    with pytest.raises(ValueError, match="섞어 쓸 수 없습니다"):
        cdata.split_items(items, 0.8, 92, 10)
    with pytest.raises(ValueError, match="0 이상"):
        cdata.split_items(items, 50, -1, 10)
    train, val, test = cdata.split_items(items, 0.7, 0.2, 0.1)
    assert (len(train), len(val), len(test)) == (70, 20, 10) and len(set(train + val + test)) == 100


@pytest.mark.skipif(os.name == "nt", reason="심볼릭 링크를 만들 권한이 없을 수 있습니다")
def test_links_and_subfolders_are_counted_so_the_listing_adds_up(tmp_path):
    _class_dirs(tmp_path, ["Cat", "Dog"], n=3)
    cat = tmp_path / "Cat"
    (cat / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")   # 끊어진 링크
    (cat / "loop1.jpg").symlink_to(cat / "loop2.jpg")         # 돌고 도는 링크
    (cat / "loop2.jpg").symlink_to(cat / "loop1.jpg")
    (cat / "alias.jpg").symlink_to(cat / "0.jpg")            # 살아 있는 링크는 씁니다
    _photos(tmp_path / "Dog" / "more", ["a.jpg", "b.jpg"])     # 클래스 폴더 안의 하위 폴더
    index = cdata.index_images(tmp_path)
    listing = [n for c in ("Cat", "Dog") for n in os.listdir(tmp_path / c) if not n.startswith(".")]
    assert len(index.items) + index.n_skipped == len(listing)  # 03 노트북의 점검과 같은 셈
    assert sorted(p.name for p in index.skipped["broken_link"]) == ["gone.jpg", "loop1.jpg", "loop2.jpg"]
    assert [p.name for p in index.skipped["subfolder"]] == ["more"]
    assert index.class_counts() == {"Cat": 4, "Dog": 3}
    assert "끊어진 링크 3" in index.summary() and "하위 폴더 1" in index.summary()


def test_too_large_photo_is_counted_not_warned(tmp_path, monkeypatch, recwarn):
    _class_dirs(tmp_path, ["Cat", "Dog"], n=3)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 600)       # 24x20=480은 통과, 30x30=900은 너무 큼
    _save(tmp_path / "Dog" / "poster.png", Image.new("RGB", (30, 30)), "PNG")
    index = cdata.index_images(tmp_path, workers=4)
    assert [p.name for p in index.skipped["too_large"]] == ["poster.png"] and not index.skipped["corrupt"]
    assert "너무 큰 이미지 1" in index.summary()
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_unlabeled_files_in_a_flat_folder_are_counted(tmp_path):
    _kaggle_flat(tmp_path, n=3)
    (tmp_path / "notes.txt").write_text("x")
    _photos(tmp_path, ["IMG_1.jpg"])
    index = cdata.index_images(tmp_path)
    assert sorted(p.name for p in index.skipped["unlabeled"]) == ["IMG_1.jpg", "notes.txt"]
    assert len(index.items) + index.n_skipped == len(os.listdir(tmp_path))
