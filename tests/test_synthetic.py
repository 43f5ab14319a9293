"""합성 고양이/개 데이터: 결정성, 폴더 배치, 원자적 쓰기, COCO 주석, 학습 가능성."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from course_utils import synthetic as S


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _load(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Cat=0, Dog=1 로 읽어 (N, 3, H, W) 정규화 텐서와 레이블을 만듭니다."""
    xs, ys = [], []
    for label, folder in enumerate(("Cat", "Dog")):
        for p in sorted((root / folder).glob("*.jpg")):
            xs.append(cv2.imread(str(p))[:, :, ::-1])
            ys.append(label)
    x = torch.from_numpy(np.stack(xs).copy()).permute(0, 3, 1, 2).float() / 255  # (N, H, W, 3) -> (N, 3, H, W)
    return (x - 0.5) / 0.25, torch.tensor(ys)


@pytest.fixture(scope="module")
def small64(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("synth64")
    train = S.make_classification_set(base / "train", n_per_class=1000, size=64, seed=0)
    val = S.make_classification_set(base / "val", n_per_class=200, size=64, seed=1)
    return train, val


# ----------------------------------------------------------------------------- 분류 데이터
def test_layout_and_jpegs(tmp_path):
    root = S.make_classification_set(tmp_path / "cls", n_per_class=6, size=96, seed=3)
    assert root == tmp_path / "cls"
    cats, dogs = sorted((root / "Cat").glob("*.jpg")), sorted((root / "Dog").glob("*.jpg"))
    assert len(cats) == len(dogs) == 6
    assert {p.name for p in cats} == {f"cat.{i}.jpg" for i in range(6)}
    for p in cats + dogs:
        img = cv2.imread(str(p))
        assert img is not None and img.shape == (96, 96, 3)
    # 임시 폴더가 남지 않음
    assert [p.name for p in tmp_path.iterdir()] == ["cls"]


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = _digest(S.make_classification_set(tmp_path / "a", n_per_class=5, size=64, seed=7))
    b = _digest(S.make_classification_set(tmp_path / "b", n_per_class=5, size=64, seed=7))
    c = _digest(S.make_classification_set(tmp_path / "c", n_per_class=5, size=64, seed=8))
    assert a == b
    jpgs = [k for k in a if k.endswith(".jpg")]
    assert all(a[k] != c[k] for k in jpgs)
    # 개수를 늘려도 앞쪽 이미지는 그대로 (이미지마다 따로 만든 난수 생성기)
    d = _digest(S.make_classification_set(tmp_path / "d", n_per_class=8, size=64, seed=7))
    assert all(d[k] == a[k] for k in jpgs)


def test_render_is_deterministic_and_varied():
    x1 = S.render_pet_image(np.random.default_rng([0, 0, 1]), 64, S.CAT)
    x2 = S.render_pet_image(np.random.default_rng([0, 0, 1]), 64, S.CAT)
    x3 = S.render_pet_image(np.random.default_rng([0, 0, 2]), 64, S.CAT)
    assert np.array_equal(x1, x2)
    assert np.abs(x1.astype(int) - x3.astype(int)).mean() > 10


def test_reuse_and_rebuild(tmp_path):
    root = S.make_classification_set(tmp_path / "r", n_per_class=3, size=64, seed=0)
    stamp = (root / "Cat" / "cat.0.jpg").stat().st_mtime_ns
    time.sleep(0.01)
    S.make_classification_set(root, n_per_class=3, size=64, seed=0)
    assert (root / "Cat" / "cat.0.jpg").stat().st_mtime_ns == stamp  # 다시 만들지 않음
    S.make_classification_set(root, n_per_class=4, size=64, seed=0)  # 설정이 다르면 새로 만듦
    assert len(list((root / "Dog").glob("*.jpg"))) == 4


def test_refuses_to_replace_foreign_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "photo.jpg").write_bytes(b"not ours")
    with pytest.raises(FileExistsError, match="합성 데이터가 아닌"):
        S.make_classification_set(tmp_path / "mine", n_per_class=2, size=64)
    assert (tmp_path / "mine" / "photo.jpg").read_bytes() == b"not ours"


def test_two_processes_at_once(tmp_path):
    """pytest -n 2 처럼 두 프로세스가 같은 폴더를 동시에 만들어도 한 벌만 남고 둘 다 성공합니다."""
    root = tmp_path / "race"
    code = ("import sys; from course_utils.synthetic import make_classification_set as m; "
            "print(m(sys.argv[1], n_per_class=40, size=64, seed=5))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == [str(root)] * 2
    assert len(list((root / "Cat").glob("*.jpg"))) == len(list((root / "Dog").glob("*.jpg"))) == 40
    assert [p.name for p in tmp_path.iterdir()] == ["race"]  # 진 쪽의 임시 폴더도 지워짐
    assert _digest(root) == _digest(S.make_classification_set(tmp_path / "again", n_per_class=40, size=64, seed=5))


# ----------------------------------------------------------------------------- 검출/분할 데이터
@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = S.make_detection_set(tmp_path_factory.mktemp("det") / "pets", n_images=40, size=128, seed=0, max_pets=3)
    return root, json.loads((root / "instances.json").read_text(encoding="utf-8"))


def test_coco_layout(coco):
    root, d = coco
    assert [c["name"] for c in sorted(d["categories"], key=lambda c: c["id"])] == ["cat", "dog"]
    assert [c["id"] for c in sorted(d["categories"], key=lambda c: c["id"])] == [1, 2]
    assert len(d["images"]) == 40
    per_image: dict[int, list] = {}
    for a in d["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    counts = []
    for im in d["images"]:
        assert (root / im["file_name"]).is_file() and im["file_name"].startswith("images/")
        assert cv2.imread(str(root / im["file_name"])).shape == (im["height"], im["width"], 3)
        anns = per_image[im["id"]]
        counts.append(len(anns))
        assert im["species"] == ("cat", "dog")[anns[0]["category_id"] - 1]
    assert min(counts) >= 1 and max(counts) <= 3 and len(set(counts)) >= 2
    mixed = [ids for ids in ({a["category_id"] for a in v} for v in per_image.values()) if ids == {1, 2}]
    assert mixed, "고양이와 개가 한 이미지에 함께 나오는 경우가 있어야 합니다"


def test_boxes_tight_around_masks(coco):
    from pycocotools import mask as mask_utils

    root, d = coco
    for a in d["annotations"]:
        x, y, w, h = a["bbox"]
        rles = mask_utils.frPyObjects(a["segmentation"], 128, 128)
        m = mask_utils.decode(mask_utils.merge(rles))
        ys, xs = np.nonzero(m)
        # 다각형을 칠한 마스크의 바깥 상자 == bbox (1픽셀 이내), 넓이도 거의 같음
        assert abs(xs.min() - x) <= 1 and abs(ys.min() - y) <= 1
        assert abs(xs.max() + 1 - (x + w)) <= 1 and abs(ys.max() + 1 - (y + h)) <= 1
        assert abs(int(m.sum()) - a["area"]) <= 0.03 * a["area"]


def test_polygons_match_rendered_masks():
    rng = np.random.default_rng([0, 7, 3])
    img, pets = S.render_detection_image(rng, 128, 3)
    from pycocotools import mask as mask_utils

    for species, m in pets:
        poly = S.mask_to_polygons(m)
        pm = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(poly, 128, 128)))
        iou = (pm & m).sum() / (pm | m).sum()
        assert iou > 0.98, iou
        # 마스크 안쪽은 배경과 다르게 칠해져 있어야 함 (빈 마스크가 아님)
        assert m.sum() > 100


# ----------------------------------------------------------------------------- 학습 가능성
def _small_cnn(width: int = 16) -> nn.Module:
    def block(i: int, o: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2))

    w = width  # 64 -> 32 -> 16 -> 8 -> 4 픽셀, 그 뒤 전역 평균 풀링
    return nn.Sequential(block(3, w), block(w, 2 * w), block(2 * w, 4 * w), block(4 * w, 4 * w),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 2))


def _train_and_eval(x, y, xv, yv, steps: int, seed: int = 0, batch: int = 32, lr: float = 3e-3) -> float:
    """작은 CNN 을 Adam + OneCycle 로 steps 번 갱신한 뒤 검증 정확도를 잽니다."""
    torch.manual_seed(seed)
    model = _small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    step = 0
    while step < steps:
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - batch + 1, batch):
            idx = perm[i:i + batch]
            xb = x[idx]
            flip = torch.rand(batch, generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            loss = nn.functional.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step == steps:
                break
    model.eval()
    with torch.no_grad():
        return (model(xv).argmax(1) == yv).float().mean().item()


def test_colour_alone_is_not_enough(small64):
    """이미지의 평균색/대비만 보는 선형 분류기는 거의 찍기 수준이어야 합니다(색 지름길 없음)."""
    def feats(root):
        x, y = _load(root)
        f = torch.cat([x.mean((2, 3)), x.std((2, 3)), x[..., 16:48, 16:48].mean((2, 3))], 1)
        return f.double(), y
    f, y = feats(small64[0])
    fv, yv = feats(small64[1])
    mu, sd = f.mean(0), f.std(0)
    a = torch.cat([(f - mu) / sd, torch.ones(len(f), 1, dtype=f.dtype)], 1)
    w = torch.linalg.lstsq(a, (2 * y - 1).double()[:, None]).solution
    pred = (torch.cat([(fv - mu) / sd, torch.ones(len(fv), 1, dtype=f.dtype)], 1) @ w).squeeze(1) > 0
    acc = (pred.long() == yv).float().mean().item()
    assert acc < 0.65, acc



def test_small_cnn_needs_real_training(small64, one_thread):
    """64 px, 클래스당 1000장. 같은 작은 CNN 이 10번 갱신 뒤에는 찍기 수준, 300번(약 5 에폭) 뒤에는 85% 이상.

    한 스레드 CPU 로 약 15초(그중 300번 갱신이 약 14초).
    """
    x, y = _load(small64[0])
    xv, yv = _load(small64[1])
    early = _train_and_eval(x, y, xv, yv, steps=10)
    trained = _train_and_eval(x, y, xv, yv, steps=300)
    assert early <= 0.70, f"10번 갱신만으로 {early:.3f}: 과제가 너무 쉽습니다"
    assert trained >= 0.85, f"300번 갱신 뒤 {trained:.3f}: 합성 데이터를 배울 수 없습니다"
