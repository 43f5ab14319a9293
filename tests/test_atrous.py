"""Atrous 합성곱: 유효 커널 크기, 수용 영역 공식 대 기울기 측정, 파라미터 수, 출력 스트라이드."""
import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.atrous import (
    conv_specs,
    count_conv_macs,
    effective_kernel_size,
    gradient_receptive_field,
    receptive_field,
)


def test_effective_kernel_size():
    assert [effective_kernel_size(3, r) for r in (1, 2, 4, 6, 12, 18)] == [3, 5, 9, 13, 25, 37]
    assert effective_kernel_size(1, 12) == 1          # 1x1 은 rate 와 무관
    assert effective_kernel_size(5, 2) == 9
    with pytest.raises(ValueError, match="1 이상"):
        effective_kernel_size(3, 0)


def test_atrous_conv_covers_effective_kernel_with_same_parameters():
    counts = set()
    for rate in (1, 2, 4):
        conv = nn.Conv2d(1, 1, 3, padding=rate, dilation=rate)
        counts.add(sum(p.numel() for p in conv.parameters()))
        _, rf = gradient_receptive_field(nn.Sequential(conv), size=21)
        assert rf == effective_kernel_size(3, rate)
        # padding=rate 이면 크기가 그대로 유지됩니다
        assert conv(torch.zeros(1, 1, 11, 11)).shape[-1] == 11
    assert counts == {10}                            # 9 가중치 + 1 편향, rate 와 무관


def test_receptive_field_formula_examples():
    assert receptive_field([(3, 1, 1)] * 3) == 7                 # 3x3 세 번 = 7x7
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15
    assert receptive_field([(7, 2, 1), (3, 2, 1)]) == 11          # 7 + (3-1)*2
    assert receptive_field([]) == 1


@pytest.mark.parametrize("rates, strides", [
    ((1, 1, 1), (1, 1, 1)),
    ((1, 2, 4), (1, 1, 1)),
    ((1, 2, 4, 8), (1, 1, 1, 1)),
    ((1, 1, 2, 2), (2, 1, 2, 1)),
    ((1, 3, 1), (2, 1, 1)),
])
def test_formula_matches_gradient_measurement(rates, strides):
    layers = []
    for r, s in zip(rates, strides):
        layers += [nn.Conv2d(2, 2, 3, stride=s, padding=r, dilation=r), nn.BatchNorm2d(2), nn.ReLU()]
    model = nn.Sequential(*layers)
    expected = receptive_field(conv_specs(model))
    mask, measured = gradient_receptive_field(model, in_channels=2, size=2 * expected + 9)
    assert measured == expected
    assert mask.sum().item() == expected * expected   # 꽉 찬 정사각형 (구멍 없음)


def test_single_atrous_layer_has_holes():
    mask, rf = gradient_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=3, dilation=3)), size=15)
    assert rf == 7 and mask.sum().item() == 9           # 7x7 범위를 덮지만 실제로 보는 픽셀은 9개


def test_gradient_measurement_rejects_too_small_input():
    model = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=r, dilation=r) for r in (1, 2, 4)])   # RF 15
    with pytest.raises(ValueError, match="가장자리"):
        gradient_receptive_field(model, size=11)
    assert gradient_receptive_field(model, size=17)[1] == 15


def test_count_conv_macs_matches_hand_count_and_meta():
    conv = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
    x = torch.zeros(1, 8, 10, 10)
    assert count_conv_macs(conv, x) == 16 * 5 * 5 * (8 // 2) * 3 * 3
    assert count_conv_macs(conv.to("meta"), x.to("meta")) == 16 * 5 * 5 * 4 * 9


def conv_flops(model: nn.Module, x: torch.Tensor) -> int:
    """PyTorch의 FlopCounterMode가 센 합성곱 연산 수 (곱셈과 덧셈을 따로 세므로 MAC의 2배)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(x)
    return counter.get_flop_counts()["Global"].get(torch.ops.aten.convolution, 0)


@pytest.mark.parametrize("make, channels", [
    (lambda: nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2), 8),
    (lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=2, dilation=2), nn.BatchNorm2d(8), nn.ReLU(),
                           nn.Conv2d(8, 8, 1), nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1)), 3),
    (lambda: torchvision.models.resnet18(weights=None, num_classes=3), 3),
])
def test_count_conv_macs_is_half_of_flop_counter(make, channels):
    model, x = make(), torch.randn(2, channels, 32, 32)
    assert count_conv_macs(model, x) * 2 == conv_flops(model, x)


def test_count_conv_macs_restores_mode_and_hooks_even_on_error():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    model.train()
    count_conv_macs(model, torch.zeros(1, 3, 8, 8))
    assert model.training and all(m.training for m in model.modules())      # 학습 모드 그대로
    with pytest.raises(RuntimeError):
        count_conv_macs(model, torch.zeros(1, 5, 8, 8))                     # 채널 수가 틀린 입력
    assert model.training and not model[0]._forward_hooks                  # 오류가 나도 훅은 지워짐
    model[1].eval()                                                         # 일부만 평가 모드(얼린 BN)
    count_conv_macs(model, torch.zeros(1, 3, 8, 8))
    assert [m.training for m in model.modules()] == [True, True, False]     # 층마다 원래 모드


@pytest.mark.parametrize("dilate, stride, side", [
    ([False, False, False], 32, 7),
    ([False, False, True], 16, 14),
    ([False, True, True], 8, 28),
])
def test_replace_stride_with_dilation_output_stride(dilate, stride, side):
    with torch.device("meta"):
        net = torchvision.models.resnet50(weights=None, replace_stride_with_dilation=dilate)
        body = nn.Sequential(*list(net.children())[:-2])
        x = torch.empty(1, 3, 224, 224)
        out = body(x)
    assert out.shape[-1] == side == 224 // stride
    macs = count_conv_macs(body, x)
    assert 4.0e9 < macs if stride == 32 else macs > 6.0e9
    assert 2 * macs == conv_flops(body, x)                           # meta 장치에서도 FlopCounterMode와 같음
    assert sum(p.numel() for p in net.parameters()) == 25_557_032   # 파라미터 수는 그대로
