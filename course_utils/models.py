"""여러 노트북이 함께 쓰는 작은 모델 부품: 합성곱 블록, 작은 백본, '모두 배경' 기준 모델.

부품마다 처음 가르치는 노트북이 직접 작성해 보이고 이 모듈과 같은지 확인합니다.
- ``conv_bn_relu``, ``SmallBackbone``: 11_spp_fast_rcnn (12, 13, 16, 17이 가져다 씁니다)
- ``AllBackground``: 13_fcn (15-17이 가져다 씁니다)
- ``small_alexnet``, ``small_vgg``, ``small_googlenet``, ``small_resnet``: 05-08의 모델 모양을 400장에 맞게 줄이고
  배치 정규화를 넣은 판 (각 노트북의 "400장에서 확실히 배우기" 절과 benchmarks.classification)
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception
from torchvision.models.resnet import BasicBlock

__all__ = ["conv_bn_relu", "SmallBackbone", "AllBackground", "small_alexnet", "small_vgg", "small_googlenet",
           "small_resnet"]


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


def _head(channels: int, num_classes: int, dropout: float) -> list[nn.Module]:
    """전역 평균 풀링 분류기: (N, C, h, w) -> (N, num_classes). 입력 크기와 상관없이 파라미터가 적습니다."""
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, num_classes)]


def small_alexnet(width: int = 32, num_classes: int = 2) -> nn.Sequential:
    """05의 AlexNet 모양(큰 커널의 줄기, 합성곱 5개, 최대 풀링 3개)을 폭 width로 줄이고 배치 정규화를 더한 것."""
    chans, layers, c = [width, 2 * width, 4 * width, 4 * width, 3 * width], [], 3
    for i, (v, k, stride) in enumerate(zip(chans, [7, 5, 3, 3, 3], [2, 1, 1, 1, 1])):
        layers += [nn.Conv2d(c, v, k, stride, k // 2, bias=False), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
        layers += [nn.MaxPool2d(3, 2, 1)] if i in (0, 1, 4) else []
        c = v
    return nn.Sequential(*layers, *_head(c, num_classes, 0.3))


def small_vgg(width: int = 16, num_classes: int = 2) -> nn.Sequential:
    """06의 VGG 모양(3x3 합성곱 + 배치 정규화, 'M'마다 절반)을 폭 width로 줄인 것."""
    cfg, layers, c = [width, "M", 2 * width, "M", 4 * width, 4 * width, "M", 8 * width, 8 * width, "M"], [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers.append(conv_bn_relu(c, v))
            c = v
    return nn.Sequential(*layers, *_head(c, num_classes, 0.3))


def small_googlenet(num_classes: int = 2) -> nn.Sequential:
    """07의 인셉션 모듈(1x1, 3x3, 5x5, 풀링 네 갈래를 채널로 이어 붙임) 세 개를 쌓은 작은 GoogLeNet."""
    return nn.Sequential(
        BasicConv2d(3, 32, kernel_size=3, stride=2, padding=1), BasicConv2d(32, 64, kernel_size=3, padding=1),
        nn.MaxPool2d(3, 2, 1),
        Inception(64, 32, 48, 64, 8, 16, 16), Inception(128, 64, 64, 96, 16, 48, 32), nn.MaxPool2d(3, 2, 1),
        Inception(240, 96, 48, 104, 8, 24, 32), nn.MaxPool2d(3, 2, 1),
        *_head(256, num_classes, 0.3))


def _stage(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """잔차 블록(BasicBlock) 두 개. 크기나 채널이 바뀌면 지름길에 1x1 합성곱 + 배치 정규화."""
    down = None if stride == 1 and c_in == c_out else nn.Sequential(
        nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    return nn.Sequential(BasicBlock(c_in, c_out, stride, down), BasicBlock(c_out, c_out))


def small_resnet(width: int = 32, num_classes: int = 2) -> nn.Sequential:
    """08의 ResNet-18 모양(단계마다 BasicBlock 2개)을 폭 width로 줄인 것.

    줄기는 ResNet-18처럼 '합성곱 + 최대 풀링'이되, 작은 사진에 맞게 보폭 1의 3x3 합성곱과 2x2 풀링입니다."""
    w = [width, 2 * width, 4 * width, 8 * width]
    return nn.Sequential(
        conv_bn_relu(3, w[0], stride=1), nn.MaxPool2d(2),
        _stage(w[0], w[0], 1), _stage(w[0], w[1], 2), _stage(w[1], w[2], 2), _stage(w[2], w[3], 2),
        *_head(w[3], num_classes, 0.2))
