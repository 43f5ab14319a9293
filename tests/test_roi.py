"""손으로 쓴 RoI 풀링(course_utils.detection.roi_pool)이 torchvision.ops.roi_pool 과 같은지 확인합니다."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import roi_pool as tv_roi_pool

from course_utils.detection import roi_pool


def _random_rois(n_rois: int, n_images: int, height: int, width: int, scale: float,
                 generator: torch.Generator, margin: float = 0.3) -> torch.Tensor:
    """입력 이미지 좌표의 무작위 박스(일부는 특성 맵 밖으로 조금 나감)."""
    size = torch.tensor([width, height, width, height]) / scale
    pts = torch.rand(n_rois, 4, generator=generator) * size * (1 + 2 * margin) - size * margin
    x1, x2 = torch.minimum(pts[:, 0], pts[:, 2]), torch.maximum(pts[:, 0], pts[:, 2])
    y1, y2 = torch.minimum(pts[:, 1], pts[:, 3]), torch.maximum(pts[:, 1], pts[:, 3])
    batch = torch.randint(0, n_images, (n_rois,), generator=generator).float()
    return torch.stack([batch, x1, y1, x2, y2], dim=1)


def test_notes_example_8x8_map_7x5_region_2x2_output():
    features = torch.arange(64, dtype=torch.float32).reshape(1, 1, 8, 8)
    features = features[..., torch.randperm(8, generator=torch.Generator().manual_seed(0)), :]
    rois = torch.tensor([[0.0, 0, 3, 6, 7]])                 # 폭 7칸(x 0..6), 높이 5칸(y 3..7)
    ours = roi_pool(features, rois, (2, 2))
    assert ours.shape == (1, 1, 2, 2)
    assert torch.equal(ours, tv_roi_pool(features, rois, (2, 2)))
    # floor/ceil 구간: 가로 [0,4) [3,7), 세로 [3,6) [5,8)
    f = features[0, 0]
    expected = torch.tensor([[f[3:6, 0:4].max(), f[3:6, 3:7].max()],
                             [f[5:8, 0:4].max(), f[5:8, 3:7].max()]])
    assert torch.equal(ours[0, 0], expected)


@pytest.mark.parametrize("scale", [1.0, 0.5, 0.25, 1 / 16, 0.3])
@pytest.mark.parametrize("output_size", [(1, 1), (2, 2), (3, 3), (2, 3), (7, 7)])
def test_equals_torchvision_on_random_inputs(scale, output_size):
    g = torch.Generator().manual_seed(hash((scale, output_size)) % 1000)
    for _ in range(4):
        height, width = (int(v) for v in torch.randint(3, 20, (2,), generator=g))
        features = torch.randn(2, 3, height, width, generator=g)
        rois = _random_rois(8, 2, height, width, scale, g)
        ours = roi_pool(features, rois, output_size, spatial_scale=scale)
        assert ours.shape == (8, 3, *output_size)
        assert torch.equal(ours, tv_roi_pool(features, rois, output_size, spatial_scale=scale))


def test_half_pixel_coordinates_round_like_c():
    # x * scale 가 정확히 .5 로 끝나면 C 의 round()(0 에서 먼 쪽)를 따라야 합니다. torch.round 는 2.5 -> 2.
    features = torch.randn(1, 2, 10, 10, generator=torch.Generator().manual_seed(1))
    rois = torch.tensor([[0, 2.5, 0.5, 6.5, 4.5], [0, 1.5, 3.5, 8.5, 9.5], [0, -0.5, -1.5, 3.5, 2.5]])
    ours = roi_pool(features, rois, (3, 2))
    assert torch.equal(ours, tv_roi_pool(features, rois, (3, 2)))
    wrong = rois.clone()
    wrong[:, 1:] = torch.round(wrong[:, 1:])                 # 짝수 쪽 반올림이면 결과가 달라짐
    assert not torch.equal(roi_pool(features, wrong, (3, 2)), ours)


def test_boxes_at_and_beyond_edges():
    g = torch.Generator().manual_seed(2)
    features = torch.randn(1, 4, 6, 9, generator=g)
    rois = torch.tensor([
        [0, 0, 0, 8, 5],          # 특성 맵 전체
        [0, 7, 4, 8, 5],          # 오른쪽 아래 구석 2x2
        [0, 6, 3, 30, 20],        # 오른쪽 아래로 크게 삐져나감
        [0, -10, -10, 1, 1],      # 왼쪽 위로 삐져나감
        [0, 20, 20, 30, 30],      # 완전히 밖 -> 모든 구간이 비어 0
        [0, 5, 5, 2, 2],          # x2 < x1: 1x1 영역으로 취급
        [0, 3, 3, 3, 3],          # 한 점
    ], dtype=torch.float32)
    ours = roi_pool(features, rois, (2, 2))
    assert torch.equal(ours, tv_roi_pool(features, rois, (2, 2)))
    assert torch.count_nonzero(ours[4]) == 0


def test_whole_map_roi_equals_adaptive_max_pool():
    # 특성 맵 전체를 덮는 RoI 풀링 = 한 단계 공간 피라미드 풀링(적응형 최대 풀링)
    features = torch.randn(1, 5, 13, 11, generator=torch.Generator().manual_seed(3))
    rois = torch.tensor([[0, 0, 0, 10, 12]], dtype=torch.float32)
    for n in (1, 2, 3, 4):
        assert torch.equal(roi_pool(features, rois, n)[0], F.adaptive_max_pool2d(features, n)[0])


def test_gradient_free_and_batch_index_respected():
    features = torch.randn(3, 1, 5, 5, generator=torch.Generator().manual_seed(4))
    rois = torch.tensor([[2, 0, 0, 4, 4], [0, 0, 0, 4, 4]], dtype=torch.float32)
    out = roi_pool(features, rois, 1)
    assert out[0, 0, 0, 0] == features[2].max() and out[1, 0, 0, 0] == features[0].max()


def test_bad_shapes_raise_korean_message():
    with pytest.raises(ValueError, match="rois"):
        roi_pool(torch.zeros(1, 1, 4, 4), torch.zeros(2, 4), 2)
