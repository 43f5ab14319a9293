"""이미지 분할 평가: 혼동 행렬, 픽셀 정확도, 클래스별 IoU, mIoU, 모델별 점수 표와 '모두 배경' 기준선 비교.

모든 지표는 데이터 전체에 걸쳐 누적한 혼동 행렬 하나에서 계산합니다(PASCAL VOC, Cityscapes와 같은 방식).
- 행은 정답 클래스, 열은 예측 클래스입니다.
- 정답이 ``ignore_index``(기본 255, 경계나 '모름' 픽셀)인 픽셀은 어느 지표에도 들어가지 않습니다.
- 정답에도 예측에도 한 번도 나오지 않은 클래스의 IoU는 0/0이므로 NaN으로 두고, mIoU 평균에서 뺍니다.
  이것은 ``torchmetrics.classification.MulticlassJaccardIndex(average='macro')``와 같은 규칙입니다.
  (그 클래스의 ``average='none'`` 출력은 NaN 대신 ``zero_division``(기본 0)을 돌려줍니다.)
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import pandas as pd
import torch
from torch import Tensor, nn

from course_utils.constants import IGNORE_INDEX
from course_utils.metrics import model_logits
from course_utils.models import AllBackground

__all__ = [
    "confusion_matrix",
    "pixel_accuracy",
    "iou_per_class",
    "mean_iou",
    "segmentation_scores",
    "evaluate_segmentation",
    "score_table",
    "compare_with_baseline",
]


def _as_labels(pred: Tensor, target: Tensor) -> Tensor:
    """예측이 로짓 (N, C, H, W)이면 채널 축 argmax로 (N, H, W) 레이블을 만듭니다."""
    if pred.ndim == target.ndim + 1:
        return pred.argmax(dim=1)
    return pred


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> Tensor:
    """(num_classes, num_classes) int64 혼동 행렬을 만듭니다. 행 = 정답, 열 = 예측.

    pred는 레이블 (N, H, W) 또는 로짓 (N, C, H, W), target은 레이블 (N, H, W)입니다.
    정답이 ignore_index인 픽셀은 세지 않습니다.
    """
    pred = _as_labels(pred, target)
    if pred.shape != target.shape:
        raise ValueError(
            f"예측 {tuple(pred.shape)}과 정답 {tuple(target.shape)}의 크기가 다릅니다. "
            "모델 출력을 정답 마스크 크기로 맞추세요(예: F.interpolate)."
        )
    pred = pred.reshape(-1).long()
    target = target.reshape(-1).long()
    keep = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    pred, target = pred[keep], target[keep]
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(
            f"정답에 0..{num_classes - 1} 밖의 값 {sorted(set(target.unique().tolist()) - set(range(num_classes)))}이 있습니다. "
            f"num_classes나 ignore_index({ignore_index})를 확인하세요."
        )
    if pred.numel() and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f"예측에 0..{num_classes - 1} 밖의 클래스 번호가 있습니다. 모델의 출력 채널 수를 확인하세요.")
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def pixel_accuracy(cm: Tensor) -> float:
    """맞힌 픽셀 / 센 픽셀 (무시 픽셀 제외). 센 픽셀이 없으면 NaN."""
    total = cm.sum().item()
    return cm.diag().sum().item() / total if total else math.nan


def iou_per_class(cm: Tensor) -> Tensor:
    """클래스별 IoU = TP / (TP + FP + FN), float64 (C,). 정답·예측 어디에도 없는 클래스는 NaN."""
    cm = cm.double()
    tp = cm.diag()
    union = cm.sum(dim=0) + cm.sum(dim=1) - tp  # 예측 픽셀 + 정답 픽셀 - 교집합
    return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, math.nan))


def mean_iou(cm: Tensor) -> float:
    """NaN(없는 클래스)을 뺀 클래스별 IoU의 평균. 모든 클래스가 NaN이면 NaN."""
    iou = iou_per_class(cm)
    valid = ~torch.isnan(iou)
    return iou[valid].mean().item() if valid.any() else math.nan


def segmentation_scores(cm: Tensor, class_names: Iterable[str] | None = None) -> dict[str, Any]:
    """혼동 행렬 하나에서 miou, pixel_acc, iou_per_class(리스트 또는 이름→값 사전)를 모읍니다."""
    iou = iou_per_class(cm).tolist()
    per_class: Any = dict(zip(class_names, iou)) if class_names is not None else iou
    return {"miou": mean_iou(cm), "pixel_acc": pixel_accuracy(cm), "iou_per_class": per_class, "confusion_matrix": cm}


@torch.inference_mode()
def evaluate_segmentation(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str,
    num_classes: int,
    ignore_index: int | None = IGNORE_INDEX,
    class_names: Iterable[str] | None = None,
) -> dict[str, Any]:
    """데이터 로더 전체로 혼동 행렬을 누적해 miou, pixel_acc, iou_per_class, confusion_matrix를 돌려줍니다.

    로더는 (images, masks) 배치를 내야 하고, 모델 출력은 로짓 (N, C, H, W) 또는 {'out': 로짓} 사전
    (torchvision 분할 모델)이며 공간 크기가 마스크와 같아야 합니다. 모델의 train/eval 상태는 끝나면 되돌립니다.
    """
    was_training = model.training
    model.eval()
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    try:
        for batch in loader:
            images, masks = batch[0].to(device), batch[1]
            logits = model_logits(model(images))
            if logits.shape[1] != num_classes:
                raise ValueError(f"모델 출력 채널 {logits.shape[1]}개가 num_classes={num_classes}와 다릅니다.")
            cm += confusion_matrix(logits.argmax(dim=1).cpu(), masks.cpu(), num_classes, ignore_index)
    finally:
        model.train(was_training)
    return segmentation_scores(cm, class_names)


def score_table(scores: dict[str, dict[str, Any]], class_names: Iterable[str]) -> pd.DataFrame:
    """모델 이름마다 evaluate_segmentation 결과 한 열: 픽셀 정확도, 클래스별 IoU, mIoU (소수 셋째 자리)."""
    names = list(class_names)
    index = ["픽셀 정확도", *[f"IoU({c})" for c in names], "mIoU"]
    columns = {}
    for model_name, s in scores.items():
        per_class = s["iou_per_class"]
        ious = list(per_class.values()) if isinstance(per_class, dict) else list(per_class)
        if len(ious) != len(names):
            raise ValueError(f"'{model_name}'의 클래스 {len(ious)}개가 class_names {len(names)}개와 다릅니다.")
        columns[model_name] = [s["pixel_acc"], *ious, s["miou"]]
    return pd.DataFrame(columns, index=index).round(3)


def compare_with_baseline(model: nn.Module, loader: Iterable, device: torch.device | str, class_names: Iterable[str],
                          name: str = "모델") -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame]:
    """model과 '모두 배경' 기준 모델(AllBackground)을 같은 로더로 평가: (모델 점수, 기준선 점수, 두 열의 score_table)."""
    names = list(class_names)
    baseline = evaluate_segmentation(AllBackground(len(names)), loader, device, len(names), class_names=names)
    scores = evaluate_segmentation(model, loader, device, len(names), class_names=names)
    return scores, baseline, score_table({"모두 배경": baseline, name: scores}, names)
