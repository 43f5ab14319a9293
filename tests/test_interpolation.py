"""손으로 만든 선형/양선형 보간이 F.interpolate 와 같은 값을 내는지 확인합니다."""
import pytest
import torch
import torch.nn.functional as F

from course_utils.interpolation import (
    bilinear_interpolate,
    linear_interpolate,
    output_size,
    source_coordinates,
)

SIZES = [(1, 1), (2, 3), (3, 2), (8, 8), (9, 14), (17, 5)]          # 축소, 확대, 정수가 아닌 배율
FACTORS = [0.5, 0.7, 1.5, 2.0, 2.3, 3.0, (1.7, 0.6)]
INPUTS = [(2, 2), (2, 5), (4, 4), (5, 7), (13, 6)]


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("hw", INPUTS)
@pytest.mark.parametrize("key, targets", [("size", SIZES), ("scale_factor", FACTORS)])
def test_bilinear_matches_torch(align_corners, hw, key, targets):
    x = torch.randn(2, 3, *hw, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for target in targets:  # 출력 크기로 주든 배율로 주든 같은 값이어야 합니다
        ours = bilinear_interpolate(x, align_corners=align_corners, **{key: target})
        ref = F.interpolate(x, mode="bilinear", align_corners=align_corners, **{key: target})
        assert ours.shape == ref.shape, target
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_bilinear_float32_feature_map():
    x = torch.randn(4, 8, 6, 6, generator=torch.Generator().manual_seed(2))
    for ac in (True, False):
        ours = bilinear_interpolate(x, size=(48, 40), align_corners=ac)
        ref = F.interpolate(x, size=(48, 40), mode="bilinear", align_corners=ac)
        torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("align_corners", [True, False])
def test_linear_matches_torch(align_corners):
    x = torch.randn(2, 3, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for n in (1, 3, 7, 10, 29):
        ours = linear_interpolate(x, size=n, align_corners=align_corners)
        ref = F.interpolate(x, size=n, mode="linear", align_corners=align_corners)
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    ours = linear_interpolate(x, scale_factor=1.6, align_corners=align_corners)
    ref = F.interpolate(x, scale_factor=1.6, mode="linear", align_corners=align_corners)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_worked_example_values():
    # 2x2 -> 3x3, align_corners=True: 가운데 픽셀은 네 값의 평균, 변의 가운데는 두 값의 평균
    x = torch.tensor([[[[10.0, 20.0], [30.0, 40.0]]]])
    out = bilinear_interpolate(x, size=3, align_corners=True)
    expected = torch.tensor([[10.0, 15.0, 20.0], [20.0, 25.0, 30.0], [30.0, 35.0, 40.0]])
    torch.testing.assert_close(out[0, 0], expected)
    # align_corners=False 로 2배 확대하면 모서리 값은 그대로, 안쪽은 1/4, 3/4 지점
    out = bilinear_interpolate(x, size=4, align_corners=False)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([10.0, 12.5, 17.5, 20.0]))


def test_bilinear_is_three_linear_interpolations():
    x = torch.randn(1, 1, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    rows = linear_interpolate(x, size=11, align_corners=False)                       # 가로
    both = linear_interpolate(rows.transpose(-1, -2), size=9, align_corners=False)   # 세로
    torch.testing.assert_close(both.transpose(-1, -2), bilinear_interpolate(x, size=(9, 11)))


def test_source_coordinates():
    torch.testing.assert_close(source_coordinates(4, 7, True), torch.arange(7, dtype=torch.float64) * 0.5)
    # align_corners=False, 2배 확대: (d + 0.5) / 2 - 0.5, 음수는 0
    torch.testing.assert_close(source_coordinates(2, 4, False), torch.tensor([0.0, 0.25, 0.75, 1.25], dtype=torch.float64))
    assert source_coordinates(5, 1, True).tolist() == [0.0]


def test_downscale_does_not_average_without_antialias():
    # 양선형 축소는 샘플링일 뿐이라 정수배 축소에서는 평균 풀링과 다릅니다
    x = torch.arange(16.0).view(1, 1, 4, 4)
    down = bilinear_interpolate(x, size=1, align_corners=True)
    assert down.item() == 0.0 and F.avg_pool2d(x, 4).item() == 7.5


def test_errors_are_explained():
    with pytest.raises(ValueError, match="4차원"):
        bilinear_interpolate(torch.zeros(3, 4, 4), size=2)
    with pytest.raises(TypeError, match="실수"):
        bilinear_interpolate(torch.zeros(1, 1, 4, 4, dtype=torch.long), size=2)
    with pytest.raises(ValueError, match="하나만"):
        output_size(4, 2, 2.0)
    with pytest.raises(ValueError, match="0 픽셀"):
        output_size(2, None, 0.3)
