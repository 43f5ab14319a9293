"""GPU에서 배치 단위로 하는 증강: 이미지마다 다른 RandomResizedCrop과 좌우 뒤집기를 한 번에.

디코딩해 둔 uint8 이미지 묶음(N, 3, H, W)을 GPU에 올려 두면, 에포크마다 CPU에서 JPEG를 풀고
PIL로 자르는 대신 `roi_align` 한 번으로 이미지마다 다른 상자를 잘라 크기를 맞출 수 있습니다.
"""
from __future__ import annotations

import math

import torch
from torchvision.ops import roi_align

__all__ = ["random_crop_boxes", "crop_resize", "gpu_train_batch", "gpu_eval_batch"]


def random_crop_boxes(n: int, height: int, width: int, scale: tuple[float, float] = (0.5, 1.0),
                      ratio: tuple[float, float] = (3 / 4, 4 / 3), generator: torch.Generator | None = None,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """RandomResizedCrop과 같은 분포(면적 비율, 가로세로 비율)의 상자 n개를 (x1, y1, x2, y2)로 뽑습니다."""
    area = torch.empty(n).uniform_(*scale, generator=generator) * height * width
    log_r = torch.empty(n).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)
    r = torch.exp(log_r)
    w = torch.sqrt(area * r).clamp(max=width)
    h = torch.sqrt(area / r).clamp(max=height)
    x1 = torch.rand(n, generator=generator) * (width - w)
    y1 = torch.rand(n, generator=generator) * (height - h)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1).to(device)


def crop_resize(images: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """이미지 i에서 상자 i를 잘라 (size, size)로 양선형 보간합니다. images: (N, C, H, W) 실수."""
    index = torch.arange(len(boxes), device=boxes.device, dtype=boxes.dtype).unsqueeze(1)
    rois = torch.cat([index, boxes], dim=1)  # (N, 5): 배치 번호, x1, y1, x2, y2
    return roi_align(images, rois, output_size=(size, size), spatial_scale=1.0, sampling_ratio=2, aligned=True)


def gpu_train_batch(images_uint8: torch.Tensor, size: int, mean: tuple[float, ...], std: tuple[float, ...],
                    scale: tuple[float, float] = (0.5, 1.0), generator: torch.Generator | None = None) -> torch.Tensor:
    """uint8 배치에 RandomResizedCrop + 좌우 뒤집기 + 정규화를 장치 위에서 한 번에 적용합니다."""
    n, _, height, width = images_uint8.shape
    x = images_uint8.float().div_(255)
    boxes = random_crop_boxes(n, height, width, scale, generator=generator, device=x.device)
    x = crop_resize(x, boxes, size)  # (N, 3, size, size)
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    m = torch.tensor(mean, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def gpu_eval_batch(images_uint8: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """검증용: 증강 없이 [0, 1]로 바꾸고 정규화만 합니다."""
    x = images_uint8.float().div_(255)
    m = torch.tensor(mean, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s
