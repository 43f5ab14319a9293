"""Atrous(팽창) 합성곱의 수용 영역과 계산량을 재는 교육용 함수들.

17_deeplab 노트북이 같은 계산을 직접 작성해 보이고 이 모듈과 같은 값인지 확인합니다. 테스트는 공식으로 계산한
수용 영역이 기울기(gradient)로 측정한 수용 영역과, MAC 수가 ``torch.utils.flop_counter.FlopCounterMode`` 가
센 합성곱 연산 수의 절반과 같은지 확인합니다.
"""
from __future__ import annotations

import copy
from typing import Iterable, Sequence

import torch
from torch import nn

__all__ = [
    "effective_kernel_size",
    "receptive_field",
    "conv_specs",
    "gradient_receptive_field",
    "count_conv_macs",
]


def effective_kernel_size(kernel_size: int, rate: int) -> int:
    """rate(팽창 비율) r 인 k x k 필터가 실제로 덮는 한 변의 길이: ``k + (k-1)(r-1)``."""
    if kernel_size < 1 or rate < 1:
        raise ValueError(f"kernel_size 와 rate 는 1 이상이어야 합니다 (받은 값: {kernel_size}, {rate}).")
    return kernel_size + (kernel_size - 1) * (rate - 1)


def receptive_field(specs: Iterable[Sequence[int]]) -> int:
    """(kernel, stride, dilation) 층을 차례로 쌓았을 때 출력 한 픽셀의 수용 영역 한 변의 길이.

    층마다 ``RF += (k_eff - 1) * jump``, 그다음 ``jump *= stride`` (jump: 입력에서 잰 출력 픽셀 간격).
    """
    rf, jump = 1, 1
    for kernel, stride, dilation in specs:
        rf += (effective_kernel_size(kernel, dilation) - 1) * jump
        jump *= stride
    return rf


def conv_specs(model: nn.Module) -> list[tuple[int, int, int]]:
    """모델 안 Conv2d 층들의 (kernel, stride, dilation) 목록 (정사각형 필터, 등록 순서 기준)."""
    specs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            specs.append((m.kernel_size[0], m.stride[0], m.dilation[0]))
    return specs


def gradient_receptive_field(model: nn.Module, in_channels: int = 1, size: int = 65) -> tuple[torch.Tensor, int]:
    """출력 가운데 한 픽셀에 대한 입력 기울기가 0이 아닌 영역(마스크)과 그 한 변의 길이.

    상쇄가 생기지 않도록 모델 사본의 가중치를 모두 양수 상수로, 편향을 0으로 바꾸고,
    양수 입력에서 잽니다. 최대 풀링처럼 한 위치로만 기울기를 보내는 층이 없는 합성곱 스택용입니다.
    ``size`` 는 수용 영역보다 넉넉히 크게 주세요 (영역이 가장자리에 닿으면 오류를 냅니다).
    """
    probe = copy.deepcopy(model).eval().double()
    with torch.no_grad():
        for name, p in probe.named_parameters():
            p.fill_(0.0 if name.endswith("bias") else 0.1)
    x = torch.ones(1, in_channels, size, size, dtype=torch.float64, requires_grad=True)
    out = probe(x)                                # (1, C, h, w)
    h, w = out.shape[-2:]
    out[:, :, h // 2, w // 2].sum().backward()
    mask = x.grad[0].abs().sum(0) > 0             # (size, size)
    rows = mask.any(1).nonzero().flatten()
    cols = mask.any(0).nonzero().flatten()
    if rows.numel() == 0:
        raise RuntimeError("기울기가 입력까지 오지 않았습니다. 모델이 입력에 의존하는지 확인하세요.")
    if rows[0] == 0 or rows[-1] == size - 1 or cols[0] == 0 or cols[-1] == size - 1:
        raise ValueError(f"수용 영역이 입력 가장자리({size} 픽셀)에 닿았습니다. size 를 더 크게 주세요.")
    return mask, int(rows[-1] - rows[0] + 1)


def count_conv_macs(model: nn.Module, x: torch.Tensor) -> int:
    """한 번의 순전파에서 Conv2d 층들이 하는 곱셈-덧셈(MAC) 수를 셉니다.

    층마다 ``출력 원소 수 * (입력 채널 / groups) * kh * kw``. 평가 모드로 한 번 돌리고, 오류가 나도 훅을 지우고
    층마다 원래 모드(학습/평가)로 되돌립니다. 입력이 meta 장치 텐서여도 동작합니다.
    """
    total = 0

    def hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    modes = [(m, m.training) for m in model.modules()]   # 일부만 평가 모드인 모델(얼린 BN 등)도 그대로 되돌리려고
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    model.eval()                                  # 배치 정규화 통계를 건드리지 않고, 배치 1장도 허용
    try:
        with torch.no_grad():
            model(x)
    finally:
        for m, training in modes:
            m.training = training
        for h in handles:
            h.remove()
    return total
