"""course_utils.metrics: 손으로 만든 로짓으로 정확도, top-k 정확도, 파라미터 수를 확인합니다."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.metrics import accuracy, count_correct, count_parameters, topk_accuracy, topk_correct

# 표본 4개, 클래스 3개. 점수 순위: 0번 [0>1>2], 1번 [2>1>0], 2번 [1>2>0], 3번 [0>2>1]
LOGITS = torch.tensor([[3.0, 2.0, 1.0],
                       [0.1, 0.5, 0.9],
                       [0.0, 5.0, 4.0],
                       [2.0, -1.0, 1.0]])
TARGETS = torch.tensor([0, 1, 2, 1])  # 1위 적중: 0번만 / 2위 안: 0,1,2번 / 3위 안: 전부


def test_accuracy_hand_made():
    assert accuracy(LOGITS, TARGETS) == pytest.approx(1 / 4)
    assert count_correct(LOGITS, TARGETS) == (1, 4)


def test_topk_accuracy_hand_made():
    assert topk_correct(LOGITS, TARGETS, ks=(1, 2, 3)) == [1, 3, 4]
    top1, top2, top3 = topk_accuracy(LOGITS, TARGETS, ks=(1, 2, 3))
    assert (top1, top2, top3) == (0.25, 0.75, 1.0)
    assert top1 == accuracy(LOGITS, TARGETS)


def test_top2_on_two_classes_is_always_one():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(100, 2, generator=gen)
    targets = torch.randint(0, 2, (100,), generator=gen)
    top1, top2 = topk_accuracy(logits, targets, ks=(1, 2))
    assert 0.3 < top1 < 0.7  # 무작위 로짓이므로 우연 수준
    assert top2 == 1.0  # 클래스가 둘뿐이면 정답은 언제나 상위 2개 안에 있습니다


def test_topk_rejects_k_larger_than_classes():
    with pytest.raises(ValueError, match="클래스 수"):
        topk_accuracy(LOGITS, TARGETS, ks=(5,))


def test_pixel_accuracy_ignores_255():
    logits = torch.zeros(1, 2, 2, 2)  # (N, C, H, W)
    logits[0, 1, 0, :] = 1.0  # 윗줄은 클래스 1, 아랫줄은 클래스 0으로 예측
    targets = torch.tensor([[[1, 0], [255, 1]]])  # 맞음, 틀림, 무시, 틀림
    assert count_correct(logits, targets, ignore_index=255) == (1, 3)
    assert accuracy(logits, targets, ignore_index=255) == pytest.approx(1 / 3)
    filled = torch.where(targets == 255, 0, targets)  # 무시하던 픽셀을 클래스 0으로 채우면
    assert count_correct(logits, filled) == (2, 4)  # 그 픽셀도 세어 분모가 4


def test_shape_mismatch_has_korean_message():
    with pytest.raises(ValueError, match="모양이 맞지 않습니다"):
        accuracy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))


def test_count_parameters():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8, 2))
    assert count_parameters(model) == (3 * 8 * 9 + 8) + (8 * 2 + 2)
    model[0].requires_grad_(False)
    assert count_parameters(model) == 8 * 2 + 2
    assert count_parameters(model, trainable_only=False) == 3 * 8 * 9 + 8 + 8 * 2 + 2
