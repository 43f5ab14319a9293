"""분류 지표: 정확도, top-k 정확도, 파라미터 수.

분류 로짓은 (N, C), 정답은 (N,) 입니다. 분할(세그멘테이션)의 픽셀 정확도도 같은 함수로 셉니다:
로짓 (N, C, H, W), 정답 (N, H, W), 그리고 ignore_index(보통 255)인 픽셀은 세지 않습니다.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["count_correct", "accuracy", "topk_correct", "topk_accuracy", "count_parameters", "model_logits"]


def _check_shapes(logits: torch.Tensor, targets: torch.Tensor) -> None:
    """로짓과 정답의 모양이 (N, C, ...) 와 (N, ...) 로 맞는지 확인합니다."""
    if logits.ndim != targets.ndim + 1 or logits.shape[0] != targets.shape[0] \
            or logits.shape[2:] != targets.shape[1:]:
        raise ValueError(
            f"로짓 {tuple(logits.shape)}과 정답 {tuple(targets.shape)}의 모양이 맞지 않습니다. "
            "분류는 (N, C)와 (N,), 분할은 (N, C, H, W)와 (N, H, W)여야 합니다.")


def count_correct(logits: torch.Tensor, targets: torch.Tensor,
                  ignore_index: int | None = None) -> tuple[int, int]:
    """맞힌 개수와 센 개수를 돌려줍니다 (ignore_index인 정답은 빼고 셉니다)."""
    _check_shapes(logits, targets)
    preds = logits.argmax(dim=1)  # (N,) 또는 (N, H, W)
    valid = torch.ones_like(targets, dtype=torch.bool)
    if ignore_index is not None:
        valid = targets != ignore_index
    correct = ((preds == targets) & valid).sum()
    return int(correct), int(valid.sum())


def accuracy(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int | None = None) -> float:
    """정확도(0~1). 분할이면 ignore_index를 뺀 픽셀 정확도입니다. 셀 것이 없으면 nan."""
    correct, total = count_correct(logits, targets, ignore_index)
    return correct / total if total else float("nan")


def topk_correct(logits: torch.Tensor, targets: torch.Tensor, ks: Sequence[int] = (1,)) -> list[int]:
    """k마다 '정답이 점수 상위 k개 안에 든' 표본 수를 돌려줍니다 (분류 전용)."""
    if logits.ndim != 2:
        raise ValueError(f"top-k 정확도는 분류 로짓 (N, C)에만 씁니다. 받은 모양: {tuple(logits.shape)}")
    _check_shapes(logits, targets)
    num_classes = logits.shape[1]
    if max(ks) > num_classes or min(ks) < 1:
        raise ValueError(f"k={tuple(ks)}는 1 이상, 클래스 수 {num_classes} 이하여야 합니다.")
    top = logits.topk(max(ks), dim=1).indices  # (N, max_k), 점수 높은 순
    hit = top.eq(targets.unsqueeze(1))  # (N, max_k): 정답 위치만 True
    return [int(hit[:, :k].any(dim=1).sum()) for k in ks]


def topk_accuracy(logits: torch.Tensor, targets: torch.Tensor, ks: Sequence[int] = (1,)) -> list[float]:
    """top-k 정확도를 ks 순서의 리스트로 돌려줍니다. 예: top1, top5 = topk_accuracy(x, y, (1, 5)).

    k가 클래스 수와 같으면 정답은 언제나 상위 k개 안에 있으므로 값은 항상 1.0입니다
    (클래스가 2개인 문제의 top-2 정확도가 그 예입니다).
    """
    n = targets.shape[0]
    return [c / n if n else float("nan") for c in topk_correct(logits, targets, ks)]


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """모델의 파라미터(원소) 개수. trainable_only면 requires_grad인 것만 셉니다."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def model_logits(outputs: Any) -> torch.Tensor:
    """모델 출력에서 로짓 텐서를 꺼내는 강의 전체의 규칙.

    텐서면 그대로, 사전이면 'out'(torchvision 분할 모델), 튜플·리스트면 첫 원소(GoogLeNet·Inception의
    보조 출력이 붙은 학습 모드 출력)입니다.
    """
    if isinstance(outputs, Mapping):
        return outputs["out"]
    if isinstance(outputs, (tuple, list)):
        return outputs[0]
    return outputs
