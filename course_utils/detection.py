"""객체 인식 도구: RoI 풀링(교육용 구현)과 torchvision 방식 검출기의 학습·평가 루프.

`roi_pool` 은 11번 노트북에서 손으로 따라가는 계산을 그대로 옮긴 것이며,
tests/test_roi.py 가 torchvision.ops.roi_pool 과 값이 같은지 확인합니다.
학습 루프는 torchvision `references/detection/engine.py` 처럼 모든 의존성을 인자로 받고, 인자 순서
(model, optimizer, loader, device)와 손실 점검·옵티마이저 한 걸음은 course_utils.train 의 분류 루프와 같습니다:
검출기는 학습 모드에서 `model(images, targets) -> 손실 dict`, 평가 모드에서
`model(images) -> [{'boxes', 'scores', 'labels'}, ...]` 를 돌려주면 됩니다.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from course_utils.boxes import detection_map
from course_utils.progress import progress as progress_bar
from course_utils.train import check_finite, empty_loader_error, optimizer_step, train_mode

__all__ = ["roi_pool", "to_model_input", "train_one_epoch_detection", "evaluate_detection",
           "predict_detection"]


def _round_half_away(x: Tensor) -> int:
    """C 의 round() 처럼 .5 를 0 에서 먼 쪽으로 반올림합니다(torch.round 는 짝수 쪽으로 반올림)."""
    return int(torch.sign(x) * torch.floor(x.abs() + 0.5))


def roi_pool(features: Tensor, rois: Tensor, output_size: int | tuple[int, int],
             spatial_scale: float = 1.0) -> Tensor:
    """RoI 최대 풀링을 반복문으로 계산합니다(torchvision.ops.roi_pool 과 같은 값).

    features: (N, C, H, W) 특성 맵, rois: (K, 5) 행마다 (배치 번호, x1, y1, x2, y2) 입력 이미지 좌표.
    1) 좌표에 spatial_scale 을 곱해 특성 맵 칸으로 반올림하고(양 끝 칸 포함, 최소 1칸),
    2) 영역을 output_size 개의 구간으로 나누되 시작은 floor, 끝은 ceil 로 정해
       (그래서 이웃 구간이 한 칸 겹칠 수 있음) 3) 구간마다 최댓값을 고릅니다.
    특성 맵 밖으로 완전히 나간 구간은 0 입니다. 돌려주는 모양: (K, C, oh, ow).
    """
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    rois = torch.as_tensor(rois)
    if features.ndim != 4 or rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError("features 는 (N, C, H, W), rois 는 (K, 5) [배치 번호, x1, y1, x2, y2] 모양이어야 합니다. "
                         f"받은 모양: {tuple(features.shape)}, {tuple(rois.shape)}")
    out_h, out_w = output_size
    height, width = features.shape[-2:]
    f32 = torch.float32                                   # torchvision 커널과 같은 정밀도로 계산
    scale = torch.tensor(spatial_scale, dtype=f32)
    out = features.new_zeros((rois.shape[0], features.shape[1], out_h, out_w))  # (K, C, oh, ow)
    for k, roi in enumerate(rois.detach().cpu().to(f32)):
        b = int(roi[0])
        x1, y1, x2, y2 = (_round_half_away(v * scale) for v in roi[1:])
        bin_h = torch.tensor(max(y2 - y1 + 1, 1), dtype=f32) / out_h   # 구간 하나의 높이(실수)
        bin_w = torch.tensor(max(x2 - x1 + 1, 1), dtype=f32) / out_w
        for i in range(out_h):
            h0 = min(max(int(torch.floor(i * bin_h)) + y1, 0), height)
            h1 = min(max(int(torch.ceil((i + 1) * bin_h)) + y1, 0), height)
            for j in range(out_w):
                w0 = min(max(int(torch.floor(j * bin_w)) + x1, 0), width)
                w1 = min(max(int(torch.ceil((j + 1) * bin_w)) + x1, 0), width)
                if h1 > h0 and w1 > w0:                    # 빈 구간은 0 으로 둡니다
                    out[k, :, i, j] = features[b, :, h0:h1, w0:w1].amax(dim=(1, 2))
    return out


def to_model_input(images: Sequence[Tensor], targets: Sequence[dict] | None,
                   device: torch.device) -> tuple[list[Tensor], list[dict] | None]:
    """이미지를 [0, 1] 실수 텐서로(uint8 이면 255 로 나눔), 타깃의 텐서를 장치로 옮깁니다."""
    out_images = []
    for img in images:
        img = torch.as_tensor(img).as_subclass(Tensor)
        img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
        out_images.append(img.to(device))
    if targets is None:
        return out_images, None
    out_targets = [{k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in t.items()} for t in targets]
    return out_images, out_targets


def train_one_epoch_detection(model: nn.Module, optimizer: torch.optim.Optimizer, loader: Iterable,
                              device: torch.device, *, epoch: int = 0, scheduler=None,
                              max_norm: float | None = None,
                              log: Callable[[str], None] | None = None, progress: bool = True) -> dict[str, float]:
    """검출기를 한 에폭 학습하고 손실 항목별 평균을 돌려줍니다(키: 'loss' 와 각 손실 이름).

    인자 순서와 규칙은 분류의 course_utils.train.train_one_epoch 와 같습니다: scheduler 는 배치마다 step(),
    손실이 nan/inf 면 갱신하기 전에 멈추고(check_finite), 파라미터를 얼린 배치 정규화는 평가 모드로 둡니다(train_mode).
    """
    train_mode(model)
    sums: dict[str, float] = {}
    n_batches, start = 0, time.perf_counter()
    for step, (images, targets) in enumerate(progress_bar(loader, desc=f"에폭 {epoch + 1} 학습", enabled=progress)):
        images, targets = to_model_input(images, targets, device)
        loss_dict = model(images, targets)
        loss = sum(loss_dict.values())                      # 다중 작업 손실 = 항목별 손실의 합
        value = check_finite(loss, epoch, step, parts=loss_dict)
        optimizer_step(loss, optimizer, max_norm=max_norm, scheduler=scheduler)
        for k, v in loss_dict.items():
            sums[k] = sums.get(k, 0.0) + v.item()
        sums["loss"] = sums.get("loss", 0.0) + value
        n_batches += 1
    if n_batches == 0:
        raise empty_loader_error(loader, "학습 데이터로더")
    result = {k: v / n_batches for k, v in sums.items()}
    if log is not None:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in result.items())
        log(f"학습 {n_batches}배치, {time.perf_counter() - start:.1f}초: {parts}")
    return result


@torch.inference_mode()
def predict_detection(model: nn.Module, loader: Iterable, device: torch.device, progress: bool = True
                      ) -> tuple[list[dict], list[dict]]:
    """평가 모드로 모든 이미지를 검출하고 (예측 리스트, 정답 리스트) 를 CPU 텐서로 돌려줍니다."""
    model.eval()
    preds, gts = [], []
    for images, targets in progress_bar(loader, desc="검출", enabled=progress):
        images, _ = to_model_input(images, None, device)
        for out, tgt in zip(model(images), targets):
            preds.append({k: out[k].detach().cpu() for k in ("boxes", "scores", "labels")})
            gts.append({"boxes": torch.as_tensor(tgt["boxes"]).as_subclass(Tensor).cpu(),
                        "labels": torch.as_tensor(tgt["labels"]).cpu()})
    if not preds:
        raise empty_loader_error(loader, "평가 데이터로더")
    return preds, gts


def evaluate_detection(model: nn.Module, loader: Iterable, device: torch.device,
                       class_metrics: bool = False, progress: bool = True) -> dict[str, float]:
    """COCO 방식 mAP 를 잽니다: 'map_50'(IoU 0.5), 'map'(IoU 0.5:0.95 평균), 'map_75', 'mar_100'."""
    preds, gts = predict_detection(model, loader, device, progress)
    return detection_map(preds, gts, class_metrics=class_metrics)
