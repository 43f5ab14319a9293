"""검출기 학습·평가 루프(course_utils.detection)를 아주 작은 Faster R-CNN 으로 확인합니다."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

from course_utils.detection import evaluate_detection, predict_detection, to_model_input, train_one_epoch_detection

SIZE = 64


def _toy_set(n: int, seed: int) -> list[tuple[torch.Tensor, dict]]:
    """회색 바탕에 주황 사각형(1) 또는 파란 사각형(2) 하나가 있는 uint8 이미지."""
    g = torch.Generator().manual_seed(seed)
    items = []
    for _ in range(n):
        img = torch.full((3, SIZE, SIZE), 110, dtype=torch.uint8)
        w, h = (int(v) for v in torch.randint(16, 36, (2,), generator=g))
        x, y = int(torch.randint(0, SIZE - w, (1,), generator=g)), int(torch.randint(0, SIZE - h, (1,), generator=g))
        label = int(torch.randint(1, 3, (1,), generator=g))
        img[:, y:y + h, x:x + w] = torch.tensor([230, 120, 20] if label == 1 else [40, 60, 220],
                                                dtype=torch.uint8)[:, None, None]
        items.append((img, {"boxes": torch.tensor([[x, y, x + w, y + h]], dtype=torch.float32),
                            "labels": torch.tensor([label])}))
    return items


def _tiny_faster_rcnn() -> FasterRCNN:
    def block(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
    backbone = nn.Sequential(block(3, 16, 2), block(16, 32, 2), block(32, 32, 2))
    backbone.out_channels = 32
    return FasterRCNN(
        backbone, min_size=SIZE, max_size=SIZE, image_mean=[0.5] * 3, image_std=[0.25] * 3,
        rpn_anchor_generator=AnchorGenerator(((16, 32),), ((0.5, 1.0, 2.0),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], 5, 2), box_head=TwoMLPHead(32 * 25, 64),
        box_predictor=FastRCNNPredictor(64, 3),
        rpn_pre_nms_top_n_train=100, rpn_post_nms_top_n_train=50, rpn_pre_nms_top_n_test=50,
        rpn_post_nms_top_n_test=20, rpn_batch_size_per_image=32, box_batch_size_per_image=32)


def _loader(items, batch_size=4, shuffle=False):
    return torch.utils.data.DataLoader(items, batch_size=batch_size, shuffle=shuffle,
                                       collate_fn=lambda b: tuple(zip(*b)),
                                       generator=torch.Generator().manual_seed(0))


def test_to_model_input_scales_uint8_and_moves_targets():
    img = torch.full((3, 4, 4), 255, dtype=torch.uint8)
    images, targets = to_model_input([img], [{"boxes": torch.zeros(0, 4), "image_id": 3}], torch.device("cpu"))
    assert images[0].dtype == torch.float32 and images[0].max() == 1.0
    assert targets[0]["image_id"] == 3 and targets[0]["boxes"].shape == (0, 4)



def test_training_lowers_loss_and_learns_to_detect(one_thread):
    torch.manual_seed(0)
    model = _tiny_faster_rcnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    train = _loader(_toy_set(32, seed=0), shuffle=True)
    history = [train_one_epoch_detection(model, optimizer, train, torch.device("cpu")) for _ in range(12)]
    assert set(history[0]) >= {"loss", "loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}
    assert abs(history[0]["loss"] - sum(v for k, v in history[0].items() if k != "loss")) < 1e-4
    # RPN 의 객체/배경 손실은 곧바로 줄고, 전체 손실도 분명히 줄어야 합니다
    assert history[-1]["loss_objectness"] < 0.3 * history[0]["loss_objectness"]
    assert history[-1]["loss"] < 0.8 * history[0]["loss"]
    scores = evaluate_detection(model, _loader(_toy_set(16, seed=1)), torch.device("cpu"))
    assert scores["map_50"] > 0.5, scores          # 무작위 모델은 0 근처
    assert 0.0 <= scores["map"] <= scores["map_50"]


class _Echo(nn.Module):
    """정답(또는 일부러 틀린 답)을 그대로 돌려주는 가짜 검출기."""

    def __init__(self, answers: list[dict]):
        super().__init__()
        self.answers, self.i = answers, 0

    def forward(self, images):
        out = self.answers[self.i:self.i + len(images)]
        self.i += len(images)
        return out


def test_evaluate_perfect_and_wrong_class_predictions():
    items = _toy_set(6, seed=2)
    perfect = [{"boxes": t["boxes"], "labels": t["labels"], "scores": torch.ones(1)} for _, t in items]
    assert evaluate_detection(_Echo(perfect), _loader(items), torch.device("cpu"))["map_50"] == pytest.approx(1.0)
    swapped = [{**p, "labels": 3 - p["labels"]} for p in perfect]   # 고양이 <-> 개
    assert evaluate_detection(_Echo(swapped), _loader(items), torch.device("cpu"))["map_50"] == pytest.approx(0.0)
    preds, gts = predict_detection(_Echo(perfect), _loader(items), torch.device("cpu"))
    assert len(preds) == len(gts) == 6


class _Exploding(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, images, targets):
        return {"loss_a": self.w * 1.0, "loss_b": self.w * float("nan")}


def test_non_finite_loss_stops_training():
    model = _Exploding()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match=r"에폭 3의 1번째 배치.*'loss_b': nan.*박스 좌표"):
        train_one_epoch_detection(model, optimizer, _loader(_toy_set(4, seed=3)), torch.device("cpu"), epoch=2)
    assert model.w.item() == 1.0                      # 멈추기 전에 가중치를 건드리지 않음


class _Quadratic(nn.Module):
    """손실 dict 를 돌려주는 가장 작은 '검출기' (배치 정규화 하나 포함)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.bn = nn.BatchNorm1d(1)

    def forward(self, images, targets):
        x = torch.stack([img.float().mean() for img in images])[:, None]   # (N, 1)
        return {"loss_a": (self.w - 0.5).pow(2).sum(), "loss_b": self.bn(x).pow(2).mean() * 0}


def test_scheduler_steps_every_batch_and_frozen_batch_norm_is_kept():
    model = _Quadratic()
    model.bn.requires_grad_(False)                    # 얼린 배치 정규화: 통계가 움직이면 안 됩니다
    optimizer = torch.optim.SGD([model.w], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** step)
    loader = _loader(_toy_set(8, seed=4), batch_size=2)
    train_one_epoch_detection(model, optimizer, loader, torch.device("cpu"), scheduler=scheduler)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** len(loader))
    assert torch.equal(model.bn.running_mean, torch.zeros(1)) and model.bn.num_batches_tracked == 0


def test_empty_loader_names_itself():
    empty = _loader([], batch_size=2)
    with pytest.raises(ValueError, match="학습 데이터로더: 데이터셋이 비어"):
        train_one_epoch_detection(_Quadratic(), torch.optim.SGD(_Quadratic().parameters(), lr=0.1), empty,
                                  torch.device("cpu"))
    with pytest.raises(ValueError, match="평가 데이터로더"):
        evaluate_detection(_Echo([]), empty, torch.device("cpu"))
