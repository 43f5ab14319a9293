"""학습률 비교 실험: 같은 초기 가중치, 같은 데이터 순서로 학습률만 바꿔 Adam으로 학습합니다.

교재의 VGG와 ResNet 예제는 Adam에 ``lr=1e-7`` 을 써서 가중치가 거의 움직이지 않습니다. 06_vggnet이 이 실험을
직접 작성해 보이고 이 모듈과 같은지 확인합니다. 08_resnet은 여기서 가져다 씁니다.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch import nn

from .train import LoopOptions, fit

__all__ = ["LrRun", "weight_change", "train_with_lr"]


class LrRun(NamedTuple):
    """train_with_lr의 결과: 학습한 모델, 그 옵티마이저(이어서 학습할 때), fit의 기록, 가중치의 상대 변화량."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: dict
    weight_change: float


def weight_change(model: nn.Module, initial: torch.Tensor) -> float:
    """처음 가중치(한 줄로 펼친 initial) 대비 상대 변화량 ||w - w0|| / ||w0||."""
    now = torch.cat([p.detach().flatten().cpu() for p in model.parameters()])
    return ((now - initial).norm() / initial.norm()).item()


def train_with_lr(make_model: Callable[[], nn.Module], lr: float, epochs: int,
                  make_loaders: Callable[[], tuple], device: torch.device, loss_fn: Callable, seed: int) -> LrRun:
    """seed를 고정하고 make_model()로 모델을 만들어 Adam(lr)으로 epochs 에폭 학습합니다.

    같은 seed면 초기 가중치가 같고, make_loaders()가 부를 때마다 같은 순서의 새 로더를 내면 데이터 순서도 같습니다.
    """
    torch.manual_seed(seed)  # 비교하는 실험들의 초기 가중치를 같게
    model = make_model()
    initial = torch.cat([p.detach().flatten().clone().cpu() for p in model.parameters()])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    train_loader, val_loader = make_loaders()
    print(f"--- Adam lr={lr:g} ---")
    history = fit(model, optimizer, train_loader, val_loader, device, loss_fn, epochs,
                  options=LoopOptions(progress=False))
    return LrRun(model, optimizer, history, weight_change(model, initial))
