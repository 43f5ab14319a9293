"""course_utils.boxes: 직접 쓴 박스 연산이 torchvision / torchmetrics 와 같은 값을 내는지 확인합니다."""
import math

import pytest
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from course_utils import boxes as B


def random_boxes(n: int, size: float = 100.0, seed: int = 0, min_wh: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2 + min_wh
    return torch.cat([xy, xy + wh], dim=1)


@pytest.mark.parametrize("n,m", [(0, 0), (0, 5), (7, 0), (1, 1), (30, 40)])
def test_box_iou_matches_torchvision(n, m):
    a, b = random_boxes(n, seed=1), random_boxes(m, seed=2)
    ours, ref = B.box_iou(a, b), torchvision.ops.box_iou(a, b)
    assert ours.shape == (n, m)
    torch.testing.assert_close(ours, ref)


def test_box_iou_known_values_and_degenerate():
    a = torch.tensor([[0., 0., 10., 10.]])
    b = torch.tensor([[5., 5., 15., 15.], [0., 0., 10., 10.], [20., 20., 30., 30.], [3., 3., 3., 8.]])
    torch.testing.assert_close(B.box_iou(a, b), torch.tensor([[25 / 175, 1.0, 0.0, 0.0]]))
    # 넓이 0 인 박스끼리: torchvision 처럼 0/0 = nan
    z = torch.tensor([[1., 1., 1., 1.]])
    torch.testing.assert_close(B.box_iou(z, z), torchvision.ops.box_iou(z, z), equal_nan=True)
    # 정수 박스도 받는다
    torch.testing.assert_close(B.box_iou(a.long(), b.long()), B.box_iou(a, b))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_torchvision_random(seed, thr):
    boxes = random_boxes(80, size=60, seed=seed)
    scores = torch.rand(80, generator=torch.Generator().manual_seed(100 + seed))
    keep = B.nms(boxes, scores, thr)
    assert keep.dtype == torch.int64
    assert torch.equal(keep, torchvision.ops.nms(boxes, scores, thr))


def test_nms_score_ties_and_duplicates():
    boxes = random_boxes(40, size=30, seed=7)
    boxes = torch.cat([boxes, boxes[:10]])                    # 똑같은 박스 10 쌍
    scores = torch.rand(50, generator=torch.Generator().manual_seed(3)).mul(4).round() / 4  # 점수 동점 많음
    for thr in (0.2, 0.5, 0.9):
        assert torch.equal(B.nms(boxes, scores, thr), torchvision.ops.nms(boxes, scores, thr))
    # 모든 점수가 같으면 앞 인덱스가 먼저 남는다
    same = torch.ones(50)
    assert torch.equal(B.nms(boxes, same, 0.5), torchvision.ops.nms(boxes, same, 0.5))


def test_nms_empty_and_single():
    empty = torch.zeros(0, 4)
    assert B.nms(empty, torch.zeros(0), 0.5).shape == (0,)
    assert torch.equal(B.nms(empty, torch.zeros(0), 0.5), torchvision.ops.nms(empty, torch.zeros(0), 0.5))
    assert B.nms(torch.tensor([[0., 0., 1., 1.]]), torch.tensor([0.3]), 0.5).tolist() == [0]


def test_nms_suppresses_overlapping_box():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [50., 50., 60., 60.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    assert B.nms(boxes, scores, 0.5).tolist() == [0, 2]      # IoU(0,1)=0.68 > 0.5
    assert B.nms(boxes, scores, 0.7).tolist() == [0, 1, 2]


@pytest.mark.parametrize("seed", range(3))
def test_batched_nms_matches_torchvision(seed):
    boxes = random_boxes(60, size=50, seed=seed)
    g = torch.Generator().manual_seed(seed)
    scores, labels = torch.rand(60, generator=g), torch.randint(0, 3, (60,), generator=g)
    assert torch.equal(B.batched_nms(boxes, scores, labels, 0.4),
                       torchvision.ops.batched_nms(boxes, scores, labels, 0.4))
    assert B.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long), 0.5).numel() == 0


@pytest.mark.parametrize("feat,img,sizes,ratios", [
    ((4, 5), (64, 80), (32, 64, 128), (0.5, 1.0, 2.0)),
    ((7, 7), (224, 224), (16,), (1.0,)),
    ((3, 6), (100, 190), (20, 40), (0.5, 1.0, 2.0, 3.0)),   # 나누어떨어지지 않는 크기
])
def test_generate_anchors_matches_anchor_generator(feat, img, sizes, ratios):
    ours = B.generate_anchors(feat, img, sizes, ratios)
    k = len(sizes) * len(ratios)
    assert ours.shape == (feat[0] * feat[1] * k, 4)            # w x h x k 개의 앵커
    gen = AnchorGenerator(sizes=(tuple(sizes),), aspect_ratios=(tuple(ratios),))
    assert gen.num_anchors_per_location() == [k]
    images = ImageList(torch.zeros(1, 3, *img), [img])
    ref = gen(images, [torch.zeros(1, 8, *feat)])[0]
    torch.testing.assert_close(ours, ref)


def test_anchor_shapes_keep_area_and_ratio():
    a = B.generate_anchors((1, 1), (16, 16), sizes=(64,), aspect_ratios=(0.5, 1.0, 2.0))
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    torch.testing.assert_close(h / w, torch.tensor([0.5, 1.0, 2.0]), rtol=0.03, atol=0)  # 꼭짓점 반올림 오차
    torch.testing.assert_close(w * h, torch.full((3,), 64.0 ** 2), rtol=0.02, atol=0)


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_encode_decode_match_boxcoder(weights):
    anchors, gt = random_boxes(50, seed=4), random_boxes(50, seed=5)
    coder = BoxCoder(weights)
    t = B.encode_boxes(gt, anchors, weights)
    torch.testing.assert_close(t, coder.encode_single(gt, anchors))
    back = B.decode_boxes(t, anchors, weights)
    torch.testing.assert_close(back, coder.decode_single(t, anchors))
    torch.testing.assert_close(back, gt, atol=1e-3, rtol=1e-4)                # 왕복하면 원래 박스


def test_encode_known_targets_and_clip():
    anchor = torch.tensor([[0., 0., 10., 20.]])               # 중심 (5, 10), w=10, h=20
    gt = torch.tensor([[5., 10., 25., 30.]])                  # 중심 (15, 20), w=20, h=20
    t = B.encode_boxes(gt, anchor)
    torch.testing.assert_close(t, torch.tensor([[1.0, 0.5, math.log(2.0), 0.0]]))
    huge = B.decode_boxes(torch.tensor([[0., 0., 100., 100.]]), anchor)
    assert torch.isfinite(huge).all()
    torch.testing.assert_close(huge, BoxCoder((1., 1., 1., 1.)).decode_single(torch.tensor([[0., 0., 100., 100.]]), anchor))


def test_proposal_recall():
    gt = torch.tensor([[0., 0., 10., 10.], [50., 50., 70., 70.]])
    props = torch.tensor([[1., 1., 10., 10.], [0., 0., 30., 30.]])   # 첫째만 IoU 0.81
    assert B.proposal_recall(props, gt) == 0.5
    assert B.proposal_recall(props, gt, iou=0.9) == 0.0
    assert B.proposal_recall(torch.zeros(0, 4), gt) == 0.0
    assert B.proposal_recall([props, gt], [gt, gt]) == 0.75               # 여러 이미지: (1 + 2) / 4
    assert math.isnan(B.proposal_recall(props, torch.zeros(0, 4)))


def test_detection_map_perfect_and_wrong():
    gt = [{"boxes": torch.tensor([[10., 10., 50., 50.], [60., 20., 90., 80.]]), "labels": torch.tensor([1, 2])}]
    perfect = [{"boxes": gt[0]["boxes"].clone(), "scores": torch.tensor([0.9, 0.8]), "labels": torch.tensor([1, 2])}]
    res = B.detection_map(perfect, gt)
    assert res["map_50"] == pytest.approx(1.0) and res["map"] == pytest.approx(1.0)
    wrong_class = [{**perfect[0], "labels": torch.tensor([2, 1])}]
    assert B.detection_map(wrong_class, gt)["map_50"] == pytest.approx(0.0)
    # IoU 가 0.5 와 0.95 사이인 박스: map_50 은 1 이지만 COCO map 은 1 보다 작다
    shifted = [{**perfect[0], "boxes": gt[0]["boxes"] + torch.tensor([4., 0., 4., 0.])}]
    res = B.detection_map(shifted, gt, class_metrics=True)
    assert res["map_50"] == pytest.approx(1.0) and 0.0 < res["map"] < 0.9
    assert set(res["map_per_class"]) == {1, 2}


def test_detection_map_matches_torchmetrics_and_accepts_tv_tensors():
    from torchmetrics.detection import MeanAveragePrecision
    from torchvision import tv_tensors

    g = torch.Generator().manual_seed(0)
    preds, targets = [], []
    for i in range(5):
        gtb = random_boxes(3, seed=10 + i)
        targets.append({"boxes": tv_tensors.BoundingBoxes(gtb, format="XYXY", canvas_size=(200, 200)),
                        "labels": torch.randint(1, 3, (3,), generator=g)})
        pb = torch.cat([gtb + torch.randn(3, 4, generator=g) * 3, random_boxes(4, seed=50 + i)])
        preds.append({"boxes": pb, "scores": torch.rand(7, generator=g), "labels": torch.randint(1, 3, (7,), generator=g)})
    ours = B.detection_map(preds, targets)
    ref = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    ref.update(preds, [{"boxes": t["boxes"].as_subclass(torch.Tensor), "labels": t["labels"]} for t in targets])
    r = ref.compute()
    assert ours["map_50"] == pytest.approx(float(r["map_50"]))
    assert ours["map"] == pytest.approx(float(r["map"]))
    assert 0.0 < ours["map"] < ours["map_50"] <= 1.0


def test_bad_shape_message():
    with pytest.raises(ValueError, match="\\(N, 4\\)"):
        B.box_iou(torch.zeros(3, 5), torch.zeros(2, 4))


def test_nms_many_dense_boxes_matches_torchvision():
    boxes = random_boxes(1500, size=200, seed=11)
    scores = torch.rand(1500, generator=torch.Generator().manual_seed(12))
    for thr in (0.3, 0.7):
        assert torch.equal(B.nms(boxes, scores, thr), torchvision.ops.nms(boxes, scores, thr))
    assert torch.equal(B.nms(boxes.double(), scores.double(), 0.5), torchvision.ops.nms(boxes.double(), scores.double(), 0.5))
