"""여러 노트북이 함께 쓰는 작은 모델 부품: 합성곱 블록, 작은 백본, '모두 배경' 기준 모델.

부품마다 처음 가르치는 노트북이 직접 작성해 보이고 이 모듈과 같은지 확인합니다.
- ``conv_bn_relu``, ``SmallBackbone``: 11_spp_fast_rcnn (12, 13, 16, 17이 가져다 씁니다)
- ``AllBackground``: 13_fcn (15-17이 가져다 씁니다)
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["conv_bn_relu", "SmallBackbone", "AllBackground"]


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 합성곱 + 배치 정규화 + ReLU. padding=dilation이라 stride 1이면 크기가 그대로입니다.

    합성곱 바로 뒤의 배치 정규화가 평균을 빼고 β를 더하므로 합성곱의 편향은 두지 않습니다(bias=False).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallBackbone(nn.Sequential):
    """처음부터 학습하는 작은 백본: (N, 3, S, S) -> (N, 4 * width, S/8, S/8).

    ``conv_bn_relu`` 여섯 개, 두 개마다 앞의 것이 stride 2로 크기를 절반으로 줄입니다.
    검출 모델이 읽는 ``out_channels`` 와 ``stride`` 를 속성으로 가집니다.
    """

    def __init__(self, width: int) -> None:
        super().__init__(conv_bn_relu(3, width, 2), conv_bn_relu(width, width),
                         conv_bn_relu(width, 2 * width, 2), conv_bn_relu(2 * width, 2 * width),
                         conv_bn_relu(2 * width, 4 * width, 2), conv_bn_relu(4 * width, 4 * width))
        self.out_channels, self.stride = 4 * width, 8


class AllBackground(nn.Module):
    """어떤 입력에도 모든 픽셀을 배경(클래스 0)으로 예측하는 분할 기준 모델: (N, 3, H, W) -> (N, C, H, W) 로짓."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"클래스는 배경을 포함해 2개 이상이어야 합니다 (받은 값: {num_classes}).")
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], self.num_classes, *x.shape[-2:], device=x.device)  # (N, C, H, W)
        logits[:, 0] = 1.0
        return logits
