"""이미지 전처리: 교재의 ImageTransform 과 검출/분할용 변환 (torchvision.transforms.v2).

v2 변환은 이미지와 함께 ``tv_tensors.BoundingBoxes``, ``tv_tensors.Mask`` 도 같은 방식으로
옮기므로(뒤집기, 크기 조정, 자르기) 박스와 마스크가 이미지에서 어긋나지 않습니다.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from .constants import IMAGENET_MEAN, IMAGENET_STD  # 한 곳(constants)에서 정하고 여기서도 내보냅니다
from .images import to_rgb

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "ImageTransform", "detection_transforms", "segmentation_transforms"]


def _to_rgb(img):
    """PIL 이미지와 HWC uint8 배열은 images.to_rgb 의 규칙으로 RGB PIL 로(투명 영역은 흰 바탕), 텐서는 그대로."""
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    return to_rgb(img) if isinstance(img, Image.Image) else img


class ImageTransform:
    """교재의 ``ImageTransform`` 을 v2 로 옮긴 것. ``t(img, 'train')`` / ``t(img, 'val')``.

    - train: RandomResizedCrop(resize, scale) -> 수평 뒤집기 -> (color_jitter > 0이면 밝기·대비·채도 흔들기)
      -> [0, 1] 실수 텐서 -> 정규화. 기본 scale=(0.5, 1.0)은 원래 면적의 50-100%를 잘라 씁니다.
    - val:   Resize(resize_val) -> CenterCrop(resize) -> [0, 1] 실수 텐서 -> 정규화
      (resize_val 을 주지 않으면 교재의 256/224 비율을 그대로 씁니다: 224 -> 256)

    ``ToImage() + ToDtype(float32, scale=True)`` 가 예전 ``ToTensor()`` 와 같은 일을 합니다
    (HWC uint8 -> CHW float, 값을 255 로 나눔).
    """

    def __init__(self, resize: int = 224, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, resize_val: int | None = None,
                 scale: tuple[float, float] = (0.5, 1.0), color_jitter: float = 0.0):
        self.resize, self.scale, self.color_jitter = int(resize), tuple(scale), float(color_jitter)
        self.resize_val = int(resize_val) if resize_val else round(self.resize * 256 / 224)
        to_float = v2.ToDtype(torch.float32, scale=True)  # ToImage 와 함께 예전 ToTensor 역할
        normalize = v2.Normalize(list(mean), list(std))
        self.data_transform = {
            "train": v2.Compose([
                v2.RandomResizedCrop(self.resize, scale=self.scale, antialias=True),
                v2.RandomHorizontalFlip(),
                *([v2.ColorJitter(*[self.color_jitter] * 3)] if self.color_jitter else []),  # 밝기·대비·채도
                v2.ToImage(),
                to_float,
                normalize,
            ]),
            "val": v2.Compose([
                v2.Resize(self.resize_val, antialias=True),
                v2.CenterCrop(self.resize),
                v2.ToImage(),
                to_float,
                normalize,
            ]),
        }

    def __call__(self, img, phase: str = "train") -> torch.Tensor:
        if phase not in self.data_transform:
            raise ValueError(f"phase 는 'train' 또는 'val' 이어야 합니다 (받은 값: {phase!r}).")
        return self.data_transform[phase](_to_rgb(img))

    def __repr__(self) -> str:
        extra = "" if (self.scale, self.color_jitter) == ((0.5, 1.0), 0.0) else \
            f", scale={self.scale}, color_jitter={self.color_jitter}"
        return f"ImageTransform(resize={self.resize}, resize_val={self.resize_val}{extra})"


def detection_transforms(train: bool, size: int) -> v2.Compose:
    """검출용 변환: ``t(image, target)`` -> (float [0, 1] 이미지, target).

    target 은 ``{'boxes': BoundingBoxes, 'labels': ..., 'masks': Mask (N, H, W), ...}``.
    학습 때는 수평 뒤집기와 약한 색 변화를 더하고, 둘 다 ``size x size`` 로 맞춘 뒤
    이미지 밖으로 나간 박스를 잘라내고(ClampBoundingBoxes), 너무 작아진 박스는
    레이블·마스크와 함께 지웁니다(SanitizeBoundingBoxes). torchvision 검출 모델은 정규화를
    모델 안에서 하므로 여기서는 정규화하지 않습니다.
    """
    steps: list = [v2.ToImage()]
    if train:
        steps += [v2.RandomHorizontalFlip(0.5), v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)]
    steps += [
        v2.Resize((size, size), antialias=True),
        v2.ClampBoundingBoxes(),
        v2.SanitizeBoundingBoxes(min_size=2.0),
        v2.ToDtype(torch.float32, scale=True),
    ]
    return v2.Compose(steps)


def segmentation_transforms(train: bool, size: int, mean: Sequence[float] = IMAGENET_MEAN,
                            std: Sequence[float] = IMAGENET_STD) -> v2.Compose:
    """분할용 변환: ``t(image, mask)`` -> (정규화된 float 이미지 (3, S, S), Mask (.., S, S)).

    mask 는 ``tv_tensors.Mask`` 로 감싸 넘겨야 최근접 보간으로 함께 움직입니다(값 0/1/255 유지).
    학습: RandomResizedCrop(size, scale=(0.5, 1.0)) + 수평 뒤집기 + 약한 색 변화,
    검증: ``size x size`` 로 크기 조정. 이미지만 실수로 바꾸고 정규화합니다.
    """
    steps: list = [v2.ToImage()]
    if train:
        steps += [
            v2.RandomResizedCrop(size, scale=(0.5, 1.0), antialias=True),
            v2.RandomHorizontalFlip(0.5),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        ]
    else:
        steps += [v2.Resize((size, size), antialias=True)]
    steps += [
        v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True),  # 마스크는 정수 그대로
        v2.Normalize(list(mean), list(std)),
    ]
    return v2.Compose(steps)
