"""course_utils.segmentation: 손으로 만든 마스크와 torchmetrics로 지표를 확인합니다."""
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix, MulticlassJaccardIndex
from torchmetrics.segmentation import MeanIoU

from course_utils.segmentation import (
    compare_with_baseline,
    confusion_matrix,
    evaluate_segmentation,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
    score_table,
    segmentation_scores,
)

IGN = 255


def _hand_masks():
    """3개 클래스, 클래스 2는 정답에도 예측에도 없음, 무시 픽셀 2개."""
    target = torch.tensor([[[0, 0, 1, 1],
                            [0, 0, 1, 1],
                            [0, IGN, IGN, 1]]])
    pred = torch.tensor([[[0, 1, 1, 1],
                          [0, 0, 0, 1],
                          [0, 1, 1, 1]]])
    return pred, target


def test_confusion_matrix_by_hand():
    pred, target = _hand_masks()
    cm = confusion_matrix(pred, target, num_classes=3)
    # 정답 0: 5픽셀 중 4개를 0, 1개를 1로 예측 / 정답 1: 5픽셀 중 1개를 0, 4개를 1로 예측 (무시 2픽셀 제외)
    assert cm.tolist() == [[4, 1, 0], [1, 4, 0], [0, 0, 0]]
    assert cm.dtype == torch.long
    assert pixel_accuracy(cm) == pytest.approx(8 / 10)
    iou = iou_per_class(cm)
    assert iou[0].item() == pytest.approx(4 / 6)  # TP 4, FP 1, FN 1
    assert iou[1].item() == pytest.approx(4 / 6)
    assert math.isnan(iou[2].item())              # 어디에도 없는 클래스
    assert mean_iou(cm) == pytest.approx(4 / 6)   # NaN은 평균에서 빠짐 (0으로 세면 4/9)


def test_ignore_pixels_do_not_count_whatever_is_predicted():
    pred, target = _hand_masks()
    cm = confusion_matrix(pred, target, 3)
    pred2 = pred.clone()
    pred2[target == IGN] = 2  # 무시 픽셀에서는 무엇을 예측해도 지표가 같아야 함
    assert torch.equal(confusion_matrix(pred2, target, 3), cm)
    # ignore_index=None이면 255가 범위 밖 값이라 친절한 오류
    with pytest.raises(ValueError, match="밖의 값"):
        confusion_matrix(pred, target, 3, ignore_index=None)


def test_predicted_but_absent_class_counts_as_zero():
    target = torch.zeros(1, 2, 2, dtype=torch.long)
    pred = torch.tensor([[[0, 0], [0, 1]]])
    cm = confusion_matrix(pred, target, 2)
    iou = iou_per_class(cm)
    assert iou.tolist() == pytest.approx([3 / 4, 0.0])  # 거짓 양성만 있는 클래스는 NaN이 아니라 0
    assert mean_iou(cm) == pytest.approx(3 / 8)


def test_logits_are_argmaxed():
    pred, target = _hand_masks()
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 5.0  # (N, C, H, W)
    assert torch.equal(confusion_matrix(logits, target, 3), confusion_matrix(pred, target, 3))


def test_shape_and_range_errors():
    pred, target = _hand_masks()
    with pytest.raises(ValueError, match="크기"):
        confusion_matrix(pred[:, :2], target, 3)
    with pytest.raises(ValueError, match="예측"):
        confusion_matrix(pred + 3, target, 3)


def test_empty_matrix_gives_nan():
    cm = torch.zeros(2, 2, dtype=torch.long)
    assert math.isnan(pixel_accuracy(cm)) and math.isnan(mean_iou(cm))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_torchmetrics_over_batches(seed):
    g = torch.Generator().manual_seed(seed)
    num_classes = 5
    jac_macro = MulticlassJaccardIndex(num_classes, average="macro", ignore_index=IGN)
    jac_none = MulticlassJaccardIndex(num_classes, average="none", ignore_index=IGN)
    acc = MulticlassAccuracy(num_classes, average="micro", ignore_index=IGN)
    tm_cm = MulticlassConfusionMatrix(num_classes, ignore_index=IGN)
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for _ in range(3):
        target = torch.randint(0, 3, (2, 9, 11), generator=g)  # 클래스 3, 4는 정답에 없음
        pred = torch.randint(0, 4, (2, 9, 11), generator=g)    # 클래스 3은 예측에만, 4는 어디에도 없음
        target[torch.rand(target.shape, generator=g) < 0.1] = IGN
        cm += confusion_matrix(pred, target, num_classes)
        for metric in (jac_macro, jac_none, acc, tm_cm):
            metric.update(pred, target)
    assert torch.equal(cm, tm_cm.compute())
    assert mean_iou(cm) == pytest.approx(jac_macro.compute().item(), abs=1e-6)
    ours = iou_per_class(cm)
    theirs = jac_none.compute().double()
    assert math.isnan(ours[4].item()) and theirs[4].item() == 0.0  # torchmetrics 'none'은 없는 클래스를 0으로 돌려줌
    assert ours[3].item() == 0.0
    assert torch.allclose(ours[:4], theirs[:4], atol=1e-6)
    assert pixel_accuracy(cm) == pytest.approx(acc.compute().item(), abs=1e-6)
    # 없는 클래스를 0으로 세어 평균하면 값이 달라짐: NaN 제외 규칙이 실제로 작동하는지
    assert mean_iou(cm) > torch.nan_to_num(ours).mean().item() + 1e-3


def test_meaniou_averages_per_image_not_per_dataset():
    """torchmetrics.segmentation.MeanIoU는 영상마다 IoU를 구해 평균합니다(무시 픽셀 지원 없음).

    이 모듈의 mean_iou는 데이터 전체 혼동 행렬 하나에서 구합니다. 영상 한 장이면 둘은 같습니다.
    """
    big_t = torch.zeros(1, 8, 8, dtype=torch.long)
    big_t[:, :, :4] = 1
    big_p = big_t.clone()
    big_p[:, 0, 0] = 1                              # 큰 물체: 거의 맞힘
    small_t = torch.zeros(1, 8, 8, dtype=torch.long)
    small_t[:, 3:5, 3:5] = 1
    small_p = torch.zeros(1, 8, 8, dtype=torch.long)  # 작은 물체: 놓침
    for p, t in ((big_p, big_t), (small_p, small_t)):
        tm = MeanIoU(num_classes=2, input_format="index")
        tm.update(p, t)
        assert mean_iou(confusion_matrix(p, t, 2)) == pytest.approx(tm.compute().item(), abs=1e-6)
    preds, targets = torch.cat([big_p, small_p]), torch.cat([big_t, small_t])
    tm = MeanIoU(num_classes=2, input_format="index")
    tm.update(preds, targets)
    per_image = torch.stack([iou_per_class(confusion_matrix(p[None], t[None], 2)) for p, t in zip(preds, targets)])
    assert tm.compute().item() == pytest.approx(per_image.nanmean().item(), abs=1e-6)
    dataset_level = mean_iou(confusion_matrix(preds, targets, 2))
    assert abs(dataset_level - tm.compute().item()) > 0.05  # 두 규칙은 여러 장에서 다른 값을 냄


class _FixedModel(nn.Module):
    """입력 첫 채널을 반올림한 값을 클래스로 '예측'하는 모델 (로짓 또는 {'out': 로짓})."""

    def __init__(self, num_classes: int, as_dict: bool = False):
        super().__init__()
        self.num_classes, self.as_dict = num_classes, as_dict
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        labels = x[:, 0].round().long().clamp(0, self.num_classes - 1)
        logits = nn.functional.one_hot(labels, self.num_classes).permute(0, 3, 1, 2).float()
        return {"out": logits} if self.as_dict else logits


@pytest.mark.parametrize("as_dict", [False, True])
def test_evaluate_segmentation(as_dict):
    g = torch.Generator().manual_seed(0)
    masks = torch.randint(0, 3, (6, 8, 8), generator=g)
    preds = masks.clone()
    flip = torch.rand(masks.shape, generator=g) < 0.3
    preds[flip] = (preds[flip] + 1) % 3
    masks[torch.rand(masks.shape, generator=g) < 0.05] = IGN
    images = preds[:, None].float().repeat(1, 3, 1, 1)
    loader = DataLoader(TensorDataset(images, masks), batch_size=4)
    model = _FixedModel(3, as_dict).train()
    out = evaluate_segmentation(model, loader, "cpu", num_classes=3)
    cm = confusion_matrix(preds, masks, 3)
    assert torch.equal(out["confusion_matrix"], cm)
    assert out["miou"] == pytest.approx(mean_iou(cm))
    assert out["pixel_acc"] == pytest.approx(pixel_accuracy(cm))
    assert 0.4 < out["miou"] < 0.8 and len(out["iou_per_class"]) == 3
    assert model.training  # 원래 상태로 돌려놓음
    named = evaluate_segmentation(model, loader, "cpu", 3, class_names=["a", "b", "c"])
    assert list(named["iou_per_class"]) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="채널"):
        evaluate_segmentation(_FixedModel(2), loader, "cpu", num_classes=3)


def test_segmentation_scores_perfect():
    t = torch.randint(0, 2, (2, 5, 5), generator=torch.Generator().manual_seed(3))
    s = segmentation_scores(confusion_matrix(t, t, 2), ["background", "pet"])
    assert s["miou"] == 1.0 and s["pixel_acc"] == 1.0 and s["iou_per_class"] == {"background": 1.0, "pet": 1.0}


def test_score_table_one_column_per_model():
    target = torch.tensor([[[0, 0, 1, 1]]])
    perfect = segmentation_scores(confusion_matrix(target, target, 2), ["배경", "반려동물"])
    background = segmentation_scores(confusion_matrix(torch.zeros_like(target), target, 2), ["배경", "반려동물"])
    table = score_table({"모두 배경": background, "모델": perfect}, ["배경", "반려동물"])
    assert list(table.columns) == ["모두 배경", "모델"]
    assert list(table.index) == ["픽셀 정확도", "IoU(배경)", "IoU(반려동물)", "mIoU"]
    assert table["모델"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert table["모두 배경"].tolist() == [0.5, 0.5, 0.0, 0.25]
    with pytest.raises(ValueError, match="class_names"):
        score_table({"모델": perfect}, ["배경"])


def test_compare_with_baseline_scores_model_and_all_background():
    masks = torch.zeros(4, 6, 6, dtype=torch.long)
    masks[:, 2:5, 1:4] = 1
    images = torch.stack([torch.stack([m.float()] * 3) for m in masks])          # 이미지 = 정답이 그대로 보이는 그림
    loader = [(images[:2], masks[:2]), (images[2:], masks[2:])]

    class Copy(torch.nn.Module):                                                   # 정답을 그대로 맞히는 모델
        def forward(self, x):
            return torch.stack([1 - x[:, 0], x[:, 0]], dim=1)

    scores, baseline, table = compare_with_baseline(Copy(), loader, "cpu", ["배경", "반려동물"], name="복사")
    assert scores["miou"] == 1.0 and baseline["iou_per_class"]["반려동물"] == 0.0
    assert list(table.columns) == ["모두 배경", "복사"] and table.loc["mIoU", "복사"] == 1.0
