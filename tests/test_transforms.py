"""전처리: 교재 ImageTransform 과의 일치, 검출/분할 변환에서 박스와 마스크가 이미지를 따라가는지."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision import tv_tensors

from course_utils.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageTransform,
    detection_transforms,
    segmentation_transforms,
)


@pytest.fixture
def photo() -> Image.Image:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)  # 가로로 긴 사진
    return Image.fromarray(arr)


def test_imagenet_constants():
    assert IMAGENET_MEAN == (0.485, 0.456, 0.406) and IMAGENET_STD == (0.229, 0.224, 0.225)


def test_val_matches_textbook_pipeline(photo):
    book = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    ours = ImageTransform(224, IMAGENET_MEAN, IMAGENET_STD)(photo, "val")
    assert ours.shape == (3, 224, 224) and ours.dtype == torch.float32
    assert torch.allclose(ours, book(photo), atol=1e-5)


def test_train_matches_textbook_pipeline_with_same_seed(photo):
    book = T.Compose([T.RandomResizedCrop(224, scale=(0.5, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    t = ImageTransform(224, IMAGENET_MEAN, IMAGENET_STD)
    outs = []
    for seed in range(4):
        torch.manual_seed(seed)
        expected = book(photo)
        torch.manual_seed(seed)
        got = t(photo, "train")
        assert torch.allclose(got, expected, atol=1e-5)
        outs.append(got)
    assert not torch.allclose(outs[0], outs[1])  # 매번 다른 자르기/뒤집기


def test_strong_augmentation_matches_the_same_pipeline_written_out(photo):
    """scale과 color_jitter를 주면 넓은 자르기 + 뒤집기 + 밝기·대비·채도 흔들기. 검증 단계는 그대로."""
    written = T.Compose([T.RandomResizedCrop(64, scale=(0.25, 1.0)), T.RandomHorizontalFlip(),
                         T.ColorJitter(0.3, 0.3, 0.3), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    strong, plain = ImageTransform(64, scale=(0.25, 1.0), color_jitter=0.3), ImageTransform(64)
    for seed in range(3):
        torch.manual_seed(seed)
        expected = written(photo)
        torch.manual_seed(seed)
        assert torch.allclose(strong(photo, "train"), expected, atol=1e-5)
    torch.manual_seed(0)
    a = strong(photo, "train")
    torch.manual_seed(0)
    assert not torch.allclose(a, plain(photo, "train"), atol=1e-3)
    assert torch.equal(strong(photo, "val"), plain(photo, "val"))
    assert "color_jitter=0.3" in repr(strong) and "color_jitter" not in repr(plain)


def test_val_size_scales_with_resize(photo):
    t = ImageTransform(64)
    assert t.resize_val == 73  # 256/224 비율
    assert t(photo, "val").shape == (3, 64, 64)
    assert t(photo, "train").shape == (3, 64, 64)
    assert ImageTransform(64, resize_val=64)(photo, "val").shape == (3, 64, 64)


def test_accepts_gray_array_and_tensor(photo):
    t = ImageTransform(32)
    gray = photo.convert("L")
    assert t(gray, "val").shape == (3, 32, 32)
    arr = np.asarray(photo)
    assert torch.allclose(t(arr, "val"), t(photo, "val"))
    chw = torch.from_numpy(arr.copy()).permute(2, 0, 1)
    assert t(chw, "val").shape == (3, 32, 32)
    with pytest.raises(ValueError, match="phase"):
        t(photo, "test")


def _det_sample():
    img = torch.zeros(3, 100, 200, dtype=torch.uint8)
    img[:, 10:30, 20:60] = 255  # 박스 하나에 해당하는 흰 사각형
    masks = torch.zeros(2, 100, 200, dtype=torch.uint8)
    masks[0, 10:30, 20:60] = 1
    masks[1, 50:90, 150:190] = 1
    target = {
        "boxes": tv_tensors.BoundingBoxes([[20.0, 10, 60, 30], [150, 50, 190, 90]], format="XYXY",
                                          canvas_size=(100, 200)),
        "labels": torch.tensor([1, 2]),
        "masks": tv_tensors.Mask(masks),
    }
    return tv_tensors.Image(img), target


def _mask_box(m: torch.Tensor) -> list[float]:
    ys, xs = torch.nonzero(m, as_tuple=True)
    return [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]


def test_detection_resize_moves_boxes_and_masks():
    img, target = _det_sample()
    out_img, out = detection_transforms(train=False, size=50)(img, target)
    assert out_img.shape == (3, 50, 50) and out_img.dtype == torch.float32 and out_img.max() <= 1
    # 가로 200 -> 50 (1/4), 세로 100 -> 50 (1/2)
    assert torch.allclose(out["boxes"].as_subclass(torch.Tensor),
                          torch.tensor([[5.0, 5, 15, 15], [37.5, 25, 47.5, 45]]))
    assert out["masks"].shape == (2, 50, 50)
    for box, m in zip(out["boxes"].tolist(), out["masks"]):
        assert np.allclose(_mask_box(m), box, atol=1)


def test_detection_flip_moves_boxes_and_masks():
    torch.manual_seed(0)
    t = detection_transforms(train=True, size=100)
    flipped = 0
    for _ in range(12):
        img, target = _det_sample()
        out_img, out = t(img, target)
        box = out["boxes"][0].tolist()
        assert np.allclose(_mask_box(out["masks"][0]), box, atol=1)
        if box[0] > 50:  # 뒤집힘: x 가 50 - x 로
            flipped += 1
            assert np.allclose(box, [70.0, 10, 90, 30], atol=0.5)
        else:
            assert np.allclose(box, [10.0, 10, 30, 30], atol=0.5)
        # 흰 사각형(이미지 내용)도 박스 자리로 같이 움직임
        x1, y1, x2, y2 = map(int, box)
        assert out_img[:, y1 + 2:y2 - 2, x1 + 2:x2 - 2].mean() > 0.6
    assert 0 < flipped < 12


def test_detection_sanitize_drops_degenerate_boxes():
    img, target = _det_sample()
    target["boxes"] = tv_tensors.BoundingBoxes([[20.0, 10, 60, 30], [150, 50, 150.5, 90]], format="XYXY",
                                               canvas_size=(100, 200))
    _, out = detection_transforms(train=False, size=100)(img, target)
    assert len(out["boxes"]) == len(out["labels"]) == len(out["masks"]) == 1
    assert out["labels"].tolist() == [1]


def test_segmentation_moves_mask_with_image():
    img = torch.zeros(3, 80, 120, dtype=torch.uint8)
    img[:, :, :30] = 255                       # 왼쪽 띠가 흰색
    mask = torch.zeros(80, 120, dtype=torch.int64)
    mask[:, :30] = 1
    mask[0, 0] = 255                           # 무시 값
    out_img, out_mask = segmentation_transforms(train=False, size=64)(tv_tensors.Image(img), tv_tensors.Mask(mask))
    assert out_img.shape == (3, 64, 64) and out_img.dtype == torch.float32
    assert out_mask.shape == (64, 64) and out_mask.dtype == torch.int64
    assert set(out_mask.unique().tolist()) <= {0, 1, 255}  # 최근접 보간: 새 값이 생기지 않음
    white = out_img.mean(0) > 1.0              # 정규화 뒤 흰색은 > 1
    agree = (white == (out_mask == 1)) | (out_mask == 255)
    assert agree.float().mean() > 0.97
    torch.manual_seed(1)
    t = segmentation_transforms(train=True, size=48)
    for _ in range(8):
        ti, tm = t(tv_tensors.Image(img), tv_tensors.Mask(mask))
        assert ti.shape == (3, 48, 48) and tm.shape == (48, 48)
        white = ti.mean(0) > 0.8
        assert ((white == (tm == 1)) | (tm == 255)).float().mean() > 0.9


def test_transparent_pixels_become_white_like_load_rgb():
    # 완전히 투명한 빨강: convert("RGB")는 빨강을 남기지만, 데이터셋처럼 흰 바탕에 합성해야 합니다
    t = ImageTransform(8, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    for image in (rgba, np.asarray(rgba)):  # PIL 이미지와 (H, W, 4) 배열
        assert torch.allclose(t(image, "val"), torch.ones(3, 8, 8))
