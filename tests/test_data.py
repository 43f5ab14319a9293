"""course_utils.data / sources: 지저분한 파일 걸러 내기, 나누기, Dataset, 찾기, 반려동물 검출/분할."""
from __future__ import annotations

import io
import random
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import data as cdata
from course_utils import sources as csources

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
    names = {r: sorted(p.name for p in ps) for r, ps in index.skipped.items()}
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


def test_split_fractions_and_errors():
    items = list(range(400))
    train, val, test = cdata.split_items(items, 0.8, 0.15, 0.05)
    assert (len(train), len(val), len(test)) == (320, 60, 20)
    assert not set(train) & set(val) and not set(val) & set(test)
    train, val, test = cdata.split_items(items, 300, None, 0)
    assert (len(train), len(val), len(test)) == (300, 100, 0)
    with pytest.raises(ValueError, match="400장뿐"):
        cdata.split_items(items, strict=True)  # 400장으로는 400+92+10을 만들 수 없음
    train, val, test = cdata.split_items(items)  # 기본: 비율을 유지해 줄이고 알림
    assert (len(train), len(val), len(test)) == (318, 75, 7) and len(set(train + val + test)) == 400


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
    for i in range(4):
        _save(tmp_path / "Cat" / f"{i}.jpg", _rgb(i, size=(300, 200)), "JPEG")
    index = cdata.index_images(tmp_path)
    ds = cdata.ImageListDataset(index.items, transform=None, cache=64)
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
    ds2 = cdata.ImageListDataset(index.items, transform=None, cache=64).fill_cache()
    assert all(a is not None for a in ds2._cache)


def test_organize_flat_kaggle_folder(tmp_path):
    flat = tmp_path / "train"
    for name in ("cat.0.jpg", "cat.1.jpg", "dog.0.jpg", "notes.txt"):
        _save(flat / name, _rgb(len(name)), "JPEG") if name.endswith("jpg") else (flat / name).write_text("x")
    counts = cdata.organize_flat_folder(flat, tmp_path / "dogs-vs-cats")
    assert counts == {"Cat": 2, "Dog": 1}
    index = cdata.index_images(tmp_path / "dogs-vs-cats")
    assert index.class_counts() == {"Cat": 2, "Dog": 1} and (flat / "cat.0.jpg").exists()


def _env(tmp_path, quick, offline=True):
    return SimpleNamespace(data_dir=tmp_path / "data", quick=quick, offline=offline, seed=42)


def test_find_quick_mode_is_synthetic_and_announced(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    (tmp_path / "data" / "dogs-vs-cats" / "Cat").mkdir(parents=True)  # 진짜 데이터가 있어도 빠른 모드는 합성
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=True), n_per_class=6, size=64)
    out = capsys.readouterr().out
    assert src.kind == "synthetic" and "[합성 데이터]" in out and "진짜 개/고양이 사진의 성능이 아닙니다" in out
    assert src.root.is_relative_to(tmp_path / "data" / "synthetic")
    index = cdata.index_images(src.root)
    assert index.class_counts() == {"Cat": 6, "Dog": 6} and index.n_skipped == 0


def test_find_explicit_path_wins_even_in_quick_mode(messy, tmp_path, monkeypatch):
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    assert csources.find_dogs_vs_cats(_env(tmp_path, quick=True), path=messy).kind == "user"
    monkeypatch.setenv(csources.DOGS_VAR, str(messy))
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=True))
    assert src.kind == "user" and src.root == messy
    with pytest.raises(FileNotFoundError, match="Cat/, Dog/"):
        csources.find_dogs_vs_cats(_env(tmp_path, quick=True), path=tmp_path / "nowhere")


def test_find_full_mode_local_then_offline_synthetic(messy, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=False, offline=True), n_per_class=3, size=64)
    assert src.kind == "synthetic" and "PetImages" in capsys.readouterr().out  # 손으로 받는 방법 안내
    (tmp_path / "data" / "dogs-vs-cats").mkdir(parents=True)
    for cls in ("Cat", "Dog"):
        (messy / cls).rename(tmp_path / "data" / "dogs-vs-cats" / cls)
    assert csources.find_dogs_vs_cats(_env(tmp_path, quick=False, offline=True)).kind == "local"


def test_dataset_status(messy, tmp_path, monkeypatch):
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    monkeypatch.delenv(csources.PETS_VAR, raising=False)
    rows = csources.dataset_status(_env(tmp_path, quick=True))
    assert [r["present"] for r in rows] == [False, False, False]
    assert all({"name", "path", "present", "n_images", "how"} <= set(r) for r in rows)
    monkeypatch.setenv(csources.DOGS_VAR, str(messy))
    row = csources.dataset_status(_env(tmp_path, quick=True))[0]
    assert row["present"] and row["n_images"] == 14 and row["path"] == str(messy)


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
