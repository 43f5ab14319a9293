"""course_utils.gpu_data: 한 번 디코딩한 uint8 묶음과, 장치 위에서 증강하며 배치를 내는 반복자."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.gpu_data import DeviceBatches, decode_all


def test_decode_all_resizes_short_side_and_centre_crops(tmp_path):
    wide = np.zeros((20, 40, 3), dtype=np.uint8)
    wide[:, 4:36] = 255                                     # 가장자리 4열씩만 검은색
    Image.fromarray(wide).save(tmp_path / "wide.png")
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(tmp_path / "clear.png")   # 투명 = 흰 바탕 (images.to_rgb)
    x, y = decode_all([(tmp_path / "wide.png", 1), (tmp_path / "clear.png", 0)], size=8)
    assert x.shape == (2, 3, 8, 8) and x.dtype == torch.uint8 and y.tolist() == [1, 0]
    assert (x[0] == 255).all()                              # 짧은 변 8로 줄인 뒤 (8, 16) 가운데 8x8 = 흰 부분
    assert (x[1] == 255).all()
    with pytest.raises(ValueError, match="없습니다"):
        decode_all([], size=8)


def test_device_batches_cover_each_image_once():
    x = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 8, 8).contiguous()
    y = torch.arange(10)
    train = DeviceBatches(x, y, batch=4, size=6, train=True)
    seen = torch.cat([yb for _, yb in train])
    assert len(train) == 2 and len(seen) == 8 and len(set(seen.tolist())) == 8  # 나머지 2장은 버림(drop_last)
    xb, yb = next(iter(train))
    assert xb.shape == (4, 3, 6, 6) and xb.dtype == torch.float32
    val = DeviceBatches(x, y, batch=4, size=6, train=False, mean=(0, 0, 0), std=(1, 1, 1))
    batches = list(val)
    assert len(val) == 3 and torch.equal(torch.cat([yb for _, yb in batches]), y)  # 검증은 전부, 순서대로
    # 증강 없는 검증: 한 값으로 채운 이미지는 정규화(0~1)만 된 같은 값
    assert torch.allclose(batches[0][0][1], torch.full((3, 6, 6), 1 / 255))


def test_device_batches_same_seed_same_batches_and_label_mismatch():
    x = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    y = torch.arange(8)
    a = [b for b in DeviceBatches(x, y, batch=4, size=8, train=True, seed=5)]
    b = [b for b in DeviceBatches(x, y, batch=4, size=8, train=True, seed=5)]
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    with pytest.raises(ValueError, match="수가 다릅니다"):
        DeviceBatches(x, y[:7], batch=4, size=8, train=True)
