"""바운딩 박스 도구: IoU, 비최대 억제(NMS), 앵커, 박스 회귀 인코딩, 후보 영역 재현율, mAP.

`box_iou`, `nms`, `generate_anchors`, `encode_boxes`/`decode_boxes` 는 수업에서 보여 주려고 직접 쓴
교육용 구현이며, tests/test_boxes.py 가 torchvision 의 같은 연산과 값이 같은지 확인합니다.
모든 박스는 (x1, y1, x2, y2) 형식(XYXY, 픽셀 좌표)입니다.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "box_area", "box_iou", "nms", "batched_nms", "generate_anchors", "encode_boxes",
    "decode_boxes", "proposal_recall", "detection_map", "BBOX_XFORM_CLIP",
]

# decode 에서 exp() 가 폭주하지 않도록 너비/높이 보정값을 자르는 한계 (torchvision 과 같은 값)
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def _as_boxes(boxes: Tensor, name: str = "boxes") -> Tensor:
    """(N, 4) 실수 텐서로 바꾸고 모양을 확인합니다."""
    boxes = torch.as_tensor(boxes)
    if boxes.numel() == 0:
        return boxes.reshape(0, 4).float() if not boxes.is_floating_point() else boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} 는 (N, 4) 모양의 (x1, y1, x2, y2) 텐서여야 합니다. 받은 모양: {tuple(boxes.shape)}")
    return boxes if boxes.is_floating_point() else boxes.float()


def box_area(boxes: Tensor) -> Tensor:
    """박스 넓이 (N,) = (x2 - x1) * (y2 - y1)."""
    boxes = _as_boxes(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """두 박스 집합의 IoU 행렬 (N, M) = 교집합 넓이 / 합집합 넓이.

    torchvision.ops.box_iou 와 같은 정의입니다(넓이 0 인 박스끼리는 0/0 = nan).
    """
    boxes1, boxes2 = _as_boxes(boxes1, "boxes1"), _as_boxes(boxes2, "boxes2")
    area1, area2 = box_area(boxes1), box_area(boxes2)                 # (N,), (M,)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])     # (N, M, 2)
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    wh = (bottom_right - top_left).clamp(min=0)                        # 겹치지 않으면 0
    inter = wh[..., 0] * wh[..., 1]                                     # (N, M)
    union = area1[:, None] + area2[None, :] - inter
    return inter / union


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """탐욕적 비최대 억제: 점수가 높은 박스부터 남기고, 그 박스와 IoU > iou_threshold 인 박스를 지웁니다.

    남은 박스의 인덱스를 점수 내림차순으로 돌려줍니다(torchvision.ops.nms 와 같음; 점수가 같으면 앞 인덱스 먼저).
    """
    boxes = _as_boxes(boxes)
    scores = torch.as_tensor(scores)
    if boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"boxes({boxes.shape[0]}개)와 scores({scores.shape[0]}개)의 개수가 같아야 합니다.")
    order = torch.sort(scores, descending=True, stable=True).indices   # 점수 내림차순
    b = boxes[order].detach().cpu().numpy()
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    alive = np.ones(len(b), dtype=bool)
    keep = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(len(b)):
            if not alive[i]:
                continue
            keep.append(i)                                      # 남은 것 중 점수가 가장 높은 박스는 남긴다
            w = np.clip(np.minimum(x2[i], x2[i + 1:]) - np.maximum(x1[i], x1[i + 1:]), 0, None)
            h = np.clip(np.minimum(y2[i], y2[i + 1:]) - np.maximum(y1[i], y1[i + 1:]), 0, None)
            inter = w * h
            iou = inter / (areas[i] + areas[i + 1:] - inter)    # 이 박스와 뒤의(점수가 낮은) 박스들의 IoU
            alive[i + 1:] &= ~(iou > iou_threshold)             # 많이 겹친 박스는 지운다 (nan 은 남김)
    return order[torch.as_tensor(keep, dtype=torch.int64, device=order.device)]


def batched_nms(boxes: Tensor, scores: Tensor, labels: Tensor, iou_threshold: float) -> Tensor:
    """클래스별 NMS: 다른 클래스의 박스끼리는 서로 지우지 않습니다(torchvision.ops.batched_nms 와 같음)."""
    boxes = _as_boxes(boxes)
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    # 클래스마다 박스를 멀리 떨어뜨려 놓으면 한 번의 NMS 로 클래스별 NMS 가 됩니다
    offsets = labels.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def generate_anchors(feature_size: tuple[int, int], image_size: tuple[int, int],
                     sizes: Sequence[float] = (32, 64, 128),
                     aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0)) -> Tensor:
    """특성 맵의 모든 위치에 k = len(sizes) * len(aspect_ratios) 개의 앵커를 놓습니다.

    feature_size=(h, w), image_size=(H, W). 돌려주는 모양은 (h * w * k, 4) 이고 순서는
    위치(행 우선) -> 비율 -> 크기 입니다. aspect_ratio 는 높이/너비, 넓이는 size**2 로 유지합니다.
    torchvision 의 AnchorGenerator(sizes=(sizes,), aspect_ratios=(aspect_ratios,)) 와 같은 값입니다.
    """
    fh, fw = feature_size
    stride_y, stride_x = image_size[0] // fh, image_size[1] // fw     # 특성 맵 한 칸 = 입력 몇 픽셀
    scales = torch.as_tensor(sizes, dtype=torch.float32)
    ratios = torch.as_tensor(aspect_ratios, dtype=torch.float32)
    h_ratios = torch.sqrt(ratios)
    w_ratios = 1.0 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)           # (k,)
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)           # (k,)
    base = (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()      # (k, 4), (0, 0) 중심의 기준 박스
    shift_x = torch.arange(fw, dtype=torch.float32) * stride_x
    shift_y = torch.arange(fh, dtype=torch.float32) * stride_y
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")          # (h, w)
    shifts = torch.stack([xx, yy, xx, yy], dim=-1).reshape(-1, 1, 4)  # (h*w, 1, 4)
    return (shifts + base[None]).reshape(-1, 4)                       # (h*w*k, 4)


def _centers(boxes: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode_boxes(boxes: Tensor, anchors: Tensor,
                 weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> Tensor:
    """정답 박스를 앵커(또는 후보 영역) 기준의 회귀 목표 (t_x, t_y, t_w, t_h) 로 바꿉니다.

    t_x = wx * (x - x_a) / w_a,  t_y = wy * (y - y_a) / h_a,
    t_w = ww * log(w / w_a),     t_h = wh * log(h / h_a)      (x, y 는 중심)
    torchvision BoxCoder(weights).encode_single(boxes, anchors) 와 같습니다.
    """
    boxes, anchors = _as_boxes(boxes), _as_boxes(anchors, "anchors")
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centers(anchors)
    gx, gy, gw, gh = _centers(boxes)
    return torch.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah,
                        ww * torch.log(gw / aw), wh * torch.log(gh / ah)], dim=1)


def decode_boxes(deltas: Tensor, anchors: Tensor,
                 weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
                 clip: float = BBOX_XFORM_CLIP) -> Tensor:
    """encode_boxes 의 역변환: (t_x, t_y, t_w, t_h) 와 앵커로 (x1, y1, x2, y2) 박스를 복원합니다.

    t_w, t_h 는 clip 으로 잘라 exp 폭주를 막습니다. torchvision BoxCoder.decode_single 과 같습니다.
    """
    deltas, anchors = torch.as_tensor(deltas), _as_boxes(anchors, "anchors")
    anchors = anchors.to(deltas.dtype)
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centers(anchors)
    dx, dy = deltas[:, 0] / wx, deltas[:, 1] / wy
    dw = (deltas[:, 2] / ww).clamp(max=clip)
    dh = (deltas[:, 3] / wh).clamp(max=clip)
    cx, cy = dx * aw + ax, dy * ah + ay
    w, h = torch.exp(dw) * aw, torch.exp(dh) * ah
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=1)


def proposal_recall(proposals: Tensor | Sequence[Tensor], gt: Tensor | Sequence[Tensor],
                    iou: float = 0.5) -> float:
    """후보 영역 재현율: 정답 박스 가운데 IoU >= iou 인 후보 영역이 하나라도 있는 비율.

    한 이미지(텐서 두 개) 또는 여러 이미지(텐서 리스트 두 개)를 받습니다. 정답이 없으면 nan.
    """
    if isinstance(gt, Tensor) or (len(gt) > 0 and not isinstance(gt[0], (Tensor, list, tuple))):
        proposals, gt = [proposals], [gt]
    if len(proposals) != len(gt):
        raise ValueError(f"이미지 수가 다릅니다: proposals {len(proposals)}개, gt {len(gt)}개")
    found, total = 0, 0
    for props, boxes in zip(proposals, gt):
        props, boxes = _as_boxes(props, "proposals"), _as_boxes(boxes, "gt")
        total += boxes.shape[0]
        if boxes.shape[0] and props.shape[0]:
            found += int((box_iou(boxes, props.to(boxes)).max(dim=1).values >= iou).sum())
    return found / total if total else float("nan")


def _plain(t: Tensor) -> Tensor:
    """tv_tensors(BoundingBoxes 등)를 일반 CPU 텐서로 바꿉니다."""
    return torch.as_tensor(t).as_subclass(Tensor).detach().cpu()


def detection_map(preds: Sequence[dict], targets: Sequence[dict],
                  class_metrics: bool = False) -> dict[str, float]:
    """COCO 방식 mAP (torchmetrics MeanAveragePrecision, pycocotools 백엔드).

    preds: 이미지마다 {'boxes' (N,4) XYXY, 'scores' (N,), 'labels' (N,)},
    targets: 이미지마다 {'boxes', 'labels'}. 돌려주는 dict: 'map_50'(IoU 0.5), 'map'(IoU .5:.95 평균),
    'map_75', 'mar_100' 과, class_metrics=True 이면 'map_per_class'(클래스 번호 -> AP[.5:.95]).
    """
    from torchmetrics.detection import MeanAveragePrecision

    if len(preds) != len(targets):
        raise ValueError(f"preds({len(preds)}개)와 targets({len(targets)}개)의 이미지 수가 같아야 합니다.")
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", class_metrics=class_metrics,
                                  backend="pycocotools")
    p = [{"boxes": _as_boxes(_plain(d["boxes"])).float(), "scores": _plain(d["scores"]).float(),
          "labels": _plain(d["labels"]).long()} for d in preds]
    t = [{"boxes": _as_boxes(_plain(d["boxes"])).float(), "labels": _plain(d["labels"]).long()} for d in targets]
    metric.update(p, t)
    res = metric.compute()
    out = {k: float(res[k]) for k in ("map", "map_50", "map_75", "mar_100")}
    if class_metrics:
        classes = res["classes"].reshape(-1).tolist()
        per = res["map_per_class"].reshape(-1).tolist()
        out["map_per_class"] = dict(zip(classes, per))
    return out
