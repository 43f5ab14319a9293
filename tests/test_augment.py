"""course_utils.augment: GPU 배치 증강이 torchvision의 자르기·크기 조정과 같은 일을 하는지."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course_utils import augment


def test_crop_boxes_follow_scale_and_stay_inside():
    g = torch.Generator().manual_seed(0)
    boxes = augment.random_crop_boxes(2000, 100, 150, scale=(0.5, 1.0), generator=g)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 150 + 1e-4).all()
    assert (boxes[:, 1] >= 0).all() and (boxes[:, 3] <= 100 + 1e-4).all()
    frac = (w * h) / (100 * 150)
    assert frac.max() <= 1.0 + 1e-5 and frac.min() >= 0.3  # 비율이 잘려도 면적은 대략 범위 안
    assert 0.6 < frac.mean() < 0.8  # 평균은 (0.5+1)/2 근처


def _ramp(height: int, width: int) -> torch.Tensor:
    """채널 0 = 열 번호, 채널 1 = 행 번호인 (1, 2, H, W) 이미지. 선형이라 양선형 보간 값을 식으로 알 수 있습니다."""
    cols = torch.arange(width, dtype=torch.float32).expand(height, width)
    rows = torch.arange(height, dtype=torch.float32).unsqueeze(1).expand(height, width)
    return torch.stack([cols, rows]).unsqueeze(0)


def test_full_box_equals_bilinear_resize():
    x = _ramp(40, 60).expand(3, 2, 40, 60)
    boxes = torch.tensor([[0.0, 0.0, 60.0, 40.0]] * 3)
    out = augment.crop_resize(x, boxes, 20)
    ref = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False, antialias=False)
    # 출력 칸의 중심이 입력 픽셀 중심 좌표계에서 같은 곳을 읽어야 합니다 (반 픽셀 어긋나면 0.5 차이)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-4)


def test_crop_reads_the_box_at_pixel_centres():
    x = _ramp(50, 70)
    x1, y1, x2, y2 = 10.0, 6.0, 40.0, 36.0
    out = augment.crop_resize(x, torch.tensor([[x1, y1, x2, y2]]), 10)[0]  # (2, 10, 10)
    step = torch.arange(10, dtype=torch.float32) + 0.5  # 출력 칸의 중심 (칸 단위)
    expected_cols = x1 + step * (x2 - x1) / 10 - 0.5     # 연속 좌표 -> 픽셀 중심 좌표(-0.5)
    expected_rows = y1 + step * (y2 - y1) / 10 - 0.5
    torch.testing.assert_close(out[0], expected_cols.expand(10, 10), rtol=0, atol=1e-4)
    torch.testing.assert_close(out[1], expected_rows.unsqueeze(1).expand(10, 10), rtol=0, atol=1e-4)


def test_each_image_gets_its_own_crop():
    x = torch.zeros(2, 1, 10, 10)
    x[1] = 1.0
    boxes = torch.tensor([[0.0, 0.0, 5.0, 5.0], [5.0, 5.0, 10.0, 10.0]])
    out = augment.crop_resize(x, boxes, 4)
    assert torch.allclose(out[0], torch.zeros(1, 4, 4)) and torch.allclose(out[1], torch.ones(1, 4, 4))


def test_train_batch_is_normalised_seeded_and_flips():
    imgs = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    a = augment.gpu_train_batch(imgs, 16, mean, std, generator=torch.Generator().manual_seed(1))
    b = augment.gpu_train_batch(imgs, 16, mean, std, generator=torch.Generator().manual_seed(1))
    c = augment.gpu_train_batch(imgs, 16, mean, std, generator=torch.Generator().manual_seed(2))
    assert a.shape == (8, 3, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    ev = augment.gpu_eval_batch(imgs, mean, std)
    assert torch.allclose(ev * 0.25 + 0.5, imgs.float() / 255, atol=1e-6)
    # 뒤집기: 좌우 비대칭 이미지에서 같은 상자를 쓰면 결과가 원본 또는 거울상이어야 합니다
    ramp = torch.linspace(0, 255, 32).round().to(torch.uint8).expand(16, 3, 32, 32).contiguous()
    out = augment.gpu_train_batch(ramp, 8, (0, 0, 0), (1, 1, 1), scale=(1.0, 1.0), generator=torch.Generator().manual_seed(3))
    increasing = (out[:, 0, 0, -1] > out[:, 0, 0, 0])
    assert 0 < int(increasing.sum()) < 16  # 일부만 뒤집혔습니다
