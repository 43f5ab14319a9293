"""course_utils.models: 노트북들이 함께 쓰는 합성곱 블록, 작은 백본, '모두 배경' 기준 모델."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.metrics import count_parameters
from course_utils.models import (
    AllBackground,
    SmallBackbone,
    conv_bn_relu,
    small_alexnet,
    small_googlenet,
    small_resnet,
    small_vgg,
)


@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_conv_bn_relu_keeps_size_at_stride_one_and_halves_at_two(dilation):
    x = torch.randn(2, 3, 17, 16)
    assert conv_bn_relu(3, 5, dilation=dilation)(x).shape == (2, 5, 17, 16)
    assert conv_bn_relu(3, 5, stride=2, dilation=dilation)(x).shape == (2, 5, 9, 8)


def test_conv_bn_relu_has_no_conv_bias_and_ends_non_negative():
    block = conv_bn_relu(4, 6)
    conv, bn, relu = block
    assert conv.bias is None and conv.kernel_size == (3, 3)
    assert count_parameters(block) == 4 * 6 * 9 + 2 * 6          # 합성곱 가중치 + BN의 γ, β
    assert (block(torch.randn(2, 4, 5, 5)) >= 0).all()


def test_small_backbone_divides_by_eight():
    net = SmallBackbone(8)
    out = net(torch.randn(2, 3, 64, 48))
    assert out.shape == (2, net.out_channels, 64 // net.stride, 48 // net.stride) == (2, 32, 8, 6)
    strides = [m.stride[0] for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert strides == [2, 1, 2, 1, 2, 1]


def test_all_background_predicts_class_zero_everywhere():
    model = AllBackground(num_classes=3)
    logits = model(torch.randn(2, 3, 7, 5))
    assert logits.shape == (2, 3, 7, 5)
    assert (logits.argmax(1) == 0).all()
    assert count_parameters(model) == 0
    with pytest.raises(ValueError, match="2개 이상"):
        AllBackground(num_classes=1)


@pytest.mark.parametrize("make", [small_alexnet, small_vgg, small_googlenet, small_resnet])
@pytest.mark.parametrize("size", [64, 96])
def test_small_classifiers_give_one_logit_per_class_at_any_size(make, size):
    model = make(num_classes=3).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, size, size)).shape == (2, 3)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert count_parameters(model) < 3_000_000  # 400장에 맞춘 크기: 교재의 AlexNet은 4,230만 개
