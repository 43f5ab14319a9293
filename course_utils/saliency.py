"""신경망은 무엇을 보나: 층의 특성 맵, 첫 층의 필터, Grad-CAM, 그리고 CAM 이 동물 위에 있는 정도.

모두 torch 의 훅(hook)만 씁니다. 모델의 파라미터 기울기(.grad)와 학습/평가 모드는 건드리지 않고 돌려 놓습니다.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["feature_maps", "grad_cam", "cam_on_mask"]


def feature_maps(model: nn.Module, images: Tensor, layers: Mapping[str, nn.Module]) -> dict[str, Tensor]:
    """images 를 한 번 통과시키며 layers(이름 -> 층)의 출력을 모읍니다: 이름 -> (N, C, H, W)."""
    found: dict[str, Tensor] = {}
    handles = [layer.register_forward_hook(lambda m, i, out, name=name: found.__setitem__(name, out.detach().clone()))
               for name, layer in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(images)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return found


def grad_cam(model: nn.Module, layer: nn.Module, images: Tensor, classes: Sequence[int] | Tensor | None = None) -> Tensor:
    """Grad-CAM (Selvaraju et al., 2017): 클래스 점수에 대한 layer 출력 기울기의 채널 평균으로 특성 맵을 가중합.

    ``cam = ReLU(sum_c mean_xy(d score / d A_c) * A_c)`` 를 입력 크기로 양선형 보간하고, 이미지마다 최댓값 1 로
    나눕니다 (모두 0 이면 0). classes 가 없으면 모델이 예측한 클래스를 씁니다. 돌려주는 모양: (N, H, W).
    """
    captured: list[Tensor] = []

    def keep(module: nn.Module, inputs, output: Tensor) -> Tensor:
        captured.append(output)
        return output.clone()        # 뒤따르는 inplace ReLU 가 잡아 둔 특성 맵을 바꾸지 못하게

    handle = layer.register_forward_hook(keep)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            x = images.detach().requires_grad_(True)     # 얼린 층 뒤의 특성 맵에도 기울기가 흐르게
            logits = model(x)                            # (N, num_classes)
            if classes is None:
                classes = logits.argmax(dim=1)
            classes = torch.as_tensor(classes, device=logits.device).view(-1, 1)
            score = logits.gather(1, classes).sum()      # 이미지마다 자기 클래스의 점수
            (grads,) = torch.autograd.grad(score, captured[0])   # 파라미터의 .grad 는 그대로
    finally:
        handle.remove()
        model.train(was_training)
    acts = captured[0].detach()                          # (N, C, h, w)
    weights = grads.mean(dim=(2, 3), keepdim=True)       # (N, C, 1, 1): 채널의 중요도
    cam = F.relu((weights * acts).sum(dim=1, keepdim=True))                  # (N, 1, h, w)
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    return cam / cam.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)       # (N, H, W), [0, 1]


def cam_on_mask(cams: Tensor, masks: Tensor, ignore_index: int = 255) -> Tensor:
    """이미지마다 '동물 위 CAM 의 몫 / 동물 넓이의 몫' (1 이면 고르게 퍼진 지도와 같고, 클수록 동물에 모임).

    cams: (N, H, W) 0 이상, masks: (N, H, W) 1 = 동물, 0 = 배경, ignore_index = 경계(양쪽 모두에서 뺌).
    CAM 이 모두 0 인 이미지는 nan 입니다.
    """
    valid = (masks != ignore_index).float()
    animal = (masks == 1).float()
    cams = cams.float() * valid
    share = (cams * animal).sum(dim=(1, 2)) / cams.sum(dim=(1, 2))           # CAM 중 동물 위의 몫
    area = animal.sum(dim=(1, 2)) / valid.sum(dim=(1, 2)).clamp_min(1)        # 동물이 차지하는 넓이의 몫
    return share / area
