"""슬라이더 탐색기(explorer)가 그리는 값을 계산하는 순수 함수들.

그림과 위젯은 ``explore_view`` 가 맡고, 여기의 함수는 숫자만 돌려줍니다. 그래서 위젯 없이도
테스트할 수 있고, tests/test_explore.py 가 각 함수를 PyTorch·torchvision 의 같은 연산과 맞춰 봅니다.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from .boxes import batched_nms, box_iou, generate_anchors

__all__ = [
    "conv_output_size", "conv_param_count", "sampled_inputs", "augment_preview", "iou_parts", "nms_keep",
    "anchors_at", "zero_insertion_layout", "overlap_counts", "interior_overlap", "atrous_footprint", "threshold_iou",
]


# ----------------------------------------------------------------------------- 합성곱·풀링
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """합성곱·풀링 출력 한 변: ``floor((W + 2P - D(K-1) - 1) / S) + 1`` (D=1 이면 04의 공식)."""
    span = dilation * (kernel - 1) + 1                       # 팽창까지 넣은 커널이 덮는 길이
    if min(size, kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError("크기, 커널, 스트라이드, 팽창은 1 이상, 패딩은 0 이상이어야 합니다.")
    if size + 2 * padding < span:
        raise ValueError(f"커널이 덮는 길이 {span} 가 패딩까지 넣은 입력 {size + 2 * padding} 보다 큽니다. "
                         "커널이나 팽창을 줄이거나 패딩을 늘리세요.")
    return (size + 2 * padding - span) // stride + 1


def conv_param_count(in_channels: int, out_channels: int, kernel: int, bias: bool = True) -> int:
    """Conv2d 의 파라미터 수: 필터 ``out x in x K x K`` + 편향 ``out``. 스트라이드·패딩·팽창과는 무관합니다."""
    return out_channels * in_channels * kernel * kernel + (out_channels if bias else 0)


def sampled_inputs(out_index: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[int]:
    """출력 out_index 번째 칸이 읽는 입력 칸의 번호 (한 축). 0 보다 작거나 W 이상이면 패딩 칸입니다."""
    start = out_index * stride - padding
    return [start + t * dilation for t in range(kernel)]


# ----------------------------------------------------------------------------- 데이터 증강
def augment_preview(image, size: int, scale: tuple[float, float] = (0.5, 1.0),
                    ratio: tuple[float, float] = (3 / 4, 4 / 3), flip_p: float = 0.5,
                    seed: int = 0) -> tuple[Tensor, tuple[int, int, int, int], bool]:
    """RandomResizedCrop + RandomHorizontalFlip 을 seed 로 한 번 적용하고, 자른 상자와 뒤집었는지도 돌려줍니다.

    ``torch.manual_seed(seed)`` 뒤의 ``v2.Compose([RandomResizedCrop(size, scale, ratio),
    RandomHorizontalFlip(flip_p)])(image)`` 와 같은 결과입니다. 전역 난수 상태는 건드리지 않습니다.
    돌려주는 값: (uint8 텐서 (3, size, size), 원본 좌표의 상자 (x1, y1, x2, y2), 뒤집었는지).
    """
    from torchvision.transforms import v2  # 여기서만 씀: 14·17 노트북의 가져오기를 가볍게
    from torchvision.transforms.v2 import functional as TF

    img = v2.ToImage()(image)                                # (3, H, W) uint8
    crop = v2.RandomResizedCrop(size, scale=scale, ratio=ratio, antialias=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        p = crop.make_params([img])                          # 변환이 쓰는 것과 같은 순서로 난수를 뽑습니다
        flipped = bool(torch.rand(1) < flip_p)               # RandomHorizontalFlip 과 같은 판정
    out = TF.resized_crop(img, p["top"], p["left"], p["height"], p["width"], [size, size], antialias=True)
    if flipped:
        out = TF.horizontal_flip(out)
    box = (p["left"], p["top"], p["left"] + p["width"], p["top"] + p["height"])
    return out.as_subclass(Tensor), box, flipped


# ----------------------------------------------------------------------------- IoU, NMS, 앵커
def iou_parts(box_a: Sequence[float], box_b: Sequence[float]) -> dict:
    """두 박스 (x1, y1, x2, y2) 의 교집합 박스(없으면 None), 교집합·합집합 넓이, IoU."""
    a = torch.as_tensor(box_a, dtype=torch.float64).reshape(1, 4)
    b = torch.as_tensor(box_b, dtype=torch.float64).reshape(1, 4)
    x1, y1 = torch.max(a[0, :2], b[0, :2]).tolist()
    x2, y2 = torch.min(a[0, 2:], b[0, 2:]).tolist()
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = lambda t: float((t[0, 2] - t[0, 0]) * (t[0, 3] - t[0, 1]))  # noqa: E731
    union = area(a) + area(b) - inter
    return {"inter_box": (x1, y1, x2, y2) if inter > 0 else None, "inter": inter, "union": union,
            "iou": float(box_iou(a, b)[0, 0])}


def nms_keep(boxes: Tensor, scores: Tensor, iou_threshold: float, score_threshold: float = 0.0,
             labels: Tensor | None = None) -> Tensor:
    """점수 score_threshold 이상인 검출만 남긴 뒤 (클래스별) NMS: 살아남은 원래 인덱스, 점수 내림차순.

    torchvision 검출기의 후처리(``box_score_thresh`` 다음 ``batched_nms``)와 같은 순서입니다.
    """
    scores = torch.as_tensor(scores)
    labels = torch.zeros(len(scores), dtype=torch.int64) if labels is None else torch.as_tensor(labels)
    passed = torch.nonzero(scores >= score_threshold).flatten()
    kept = batched_nms(torch.as_tensor(boxes)[passed], scores[passed], labels[passed], iou_threshold)
    return passed[kept]


def anchors_at(row: int, col: int, feature_size: tuple[int, int], image_size: tuple[int, int],
               sizes: Sequence[float], aspect_ratios: Sequence[float]) -> Tensor:
    """특성 맵 (row, col) 칸의 앵커 k 개 (k, 4). ``generate_anchors`` 의 그 위치 몫과 같습니다."""
    fh, fw = feature_size
    if not (0 <= row < fh and 0 <= col < fw):
        raise ValueError(f"위치 ({row}, {col}) 가 특성 맵 {fh} x {fw} 밖입니다.")
    stride_y, stride_x = image_size[0] // fh, image_size[1] // fw
    base = generate_anchors((1, 1), (1, 1), sizes, aspect_ratios)    # (k, 4), (0, 0) 중심
    return base + torch.tensor([col * stride_x, row * stride_y] * 2, dtype=base.dtype)


# ----------------------------------------------------------------------------- 전치 합성곱
INPUT, INSERTED, PADDED = 2, 1, 0                            # zero_insertion_layout 의 칸 종류


def zero_insertion_layout(in_size: int, kernel: int, stride: int, padding: int = 0) -> np.ndarray:
    """전치 합성곱을 '0 끼워 넣기 + 패딩 k-1-p + 보통 합성곱'으로 볼 때의 넓힌 입력 (한 변 n, n).

    칸 값: INPUT(원래 입력), INSERTED(사이에 끼운 0), PADDED(바깥 패딩 0). p > k-1 이면 패딩 대신
    가장자리를 잘라 냅니다. 그 위에 k x k 보통 합성곱(스트라이드 1)을 하면 출력 한 변은
    ``(in-1)s - 2p + k`` 로, 전치 합성곱의 출력 크기와 같습니다.
    """
    if min(in_size, kernel, stride) < 1 or padding < 0:
        raise ValueError("입력 크기, 커널, 스트라이드는 1 이상, 패딩은 0 이상이어야 합니다.")
    line = np.full((in_size - 1) * stride + 1, INSERTED)
    line[::stride] = INPUT
    grid = np.minimum.outer(line, line)                      # 두 축 모두 입력일 때만 INPUT
    pad = kernel - 1 - padding
    if pad >= 0:
        grid = np.pad(grid, pad, constant_values=PADDED)
    else:
        grid = grid[-pad:pad, -pad:pad]
    if grid.shape[0] < kernel:
        raise ValueError(f"패딩 {padding} 이 너무 커서 출력이 없습니다 (출력 한 변 {grid.shape[0] - kernel + 1}).")
    return grid


def overlap_counts(in_size: int, kernel: int, stride: int, padding: int = 0) -> np.ndarray:
    """입력 픽셀마다 k x k 도장을 s 칸 간격으로 찍을 때, 출력 칸마다 겹친 도장 수 (한 변 (in-1)s - 2p + k).

    모두 1인 입력과 모두 1인 커널의 ``nn.ConvTranspose2d`` 출력과 같습니다. 고르지 않으면 체커보드가 생깁니다.
    """
    full = (in_size - 1) * stride + kernel                   # 패딩으로 자르기 전의 한 변
    line = np.zeros(full, dtype=np.int64)
    for i in range(in_size):
        line[i * stride:i * stride + kernel] += 1            # 입력 칸 i 의 도장이 덮는 곳
    counts = np.multiply.outer(line, line)                   # 두 축이 따로 겹치므로 곱
    if full - 2 * padding < 1:
        raise ValueError(f"패딩 {padding} 이 너무 커서 출력이 없습니다.")
    return counts[padding:full - padding, padding:full - padding]


def interior_overlap(kernel: int, stride: int) -> tuple[int, int]:
    """가장자리에서 먼 출력 칸이 받는 도장 수의 (최소, 최대): 한 축은 floor(k/s) 또는 ceil(k/s) 번 겹칩니다.

    둘이 다르면(k 가 s 로 나누어떨어지지 않으면) 겹침이 칸마다 달라 체커보드가 생깁니다.
    """
    low, high = kernel // stride, -(-kernel // stride)
    return low * low, high * high


# ----------------------------------------------------------------------------- Atrous 합성곱
def atrous_footprint(kernel: int, rates: Sequence[int]) -> np.ndarray:
    """k x k Atrous 합성곱(스트라이드 1)을 rates 순서로 쌓았을 때, 가운데 출력 한 칸에 닿는 입력 칸마다 경로 수.

    돌려주는 정사각 배열의 한 변이 수용 영역이고, 0 인 칸은 수용 영역 안에 있어도 보지 않는 '구멍'입니다.
    """
    if kernel < 1 or not rates or min(rates) < 1:
        raise ValueError("kernel 과 rates 의 값은 1 이상이어야 하고 rates 는 비어 있으면 안 됩니다.")
    counts = np.ones(1, dtype=np.int64)                      # 한 축의 경로 수 (두 축은 독립이라 바깥곱)
    for rate in rates:
        taps = np.zeros((kernel - 1) * rate + 1, dtype=np.int64)
        taps[::rate] = 1                                     # 탭 사이에 rate-1 칸이 빕니다
        counts = np.convolve(counts, taps)
    return np.multiply.outer(counts, counts)


# ----------------------------------------------------------------------------- 분할 마스크 임계값
def threshold_iou(prob: Tensor, target: Tensor, threshold: float, ignore_index: int | None = 255) -> float:
    """전경 확률 prob >= threshold 를 전경으로 볼 때 전경 클래스의 IoU (무시 픽셀은 뺌). 둘 다 비면 nan."""
    prob, target = torch.as_tensor(prob), torch.as_tensor(target)
    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None else target != ignore_index
    pred, truth = (prob >= threshold) & valid, (target == 1) & valid
    union = int((pred | truth).sum())
    return int((pred & truth).sum()) / union if union else math.nan
