"""탐색기 계산 함수: PyTorch·torchvision 의 같은 연산과 값이 같은지, 그리고 위젯 없는 곳에서의 표시."""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.transforms import v2

from course_utils import explore as ex
from course_utils.atrous import gradient_receptive_field, receptive_field
from course_utils.segmentation import confusion_matrix, iou_per_class


@pytest.mark.parametrize("size,kernel,stride,padding,dilation",
                         [(7, 3, 1, 0, 1), (8, 3, 2, 1, 1), (9, 3, 2, 2, 2), (11, 5, 3, 1, 2), (6, 2, 2, 0, 1)])
def test_conv_output_size_and_params_match_conv2d(size, kernel, stride, padding, dilation):
    conv = nn.Conv2d(3, 8, kernel, stride, padding, dilation)
    out = conv(torch.zeros(1, 3, size, size))
    assert out.shape[-1] == ex.conv_output_size(size, kernel, stride, padding, dilation)
    assert sum(p.numel() for p in conv.parameters()) == ex.conv_param_count(3, 8, kernel)
    assert sum(p.numel() for p in nn.Conv2d(3, 8, kernel, bias=False).parameters()) == ex.conv_param_count(3, 8, kernel, bias=False)
    pool = nn.MaxPool2d(kernel, stride, min(padding, kernel // 2), dilation)
    assert pool(torch.zeros(1, 1, size, size)).shape[-1] == ex.conv_output_size(size, kernel, stride, min(padding, kernel // 2), dilation)


def test_conv_output_size_rejects_kernel_larger_than_input():
    with pytest.raises(ValueError, match="패딩을 늘리세요"):
        ex.conv_output_size(4, 3, dilation=2)


@pytest.mark.parametrize("size,kernel,stride,padding,dilation", [(6, 3, 1, 1, 1), (9, 3, 2, 2, 2), (7, 2, 3, 1, 3)])
def test_sampled_inputs_are_what_unfold_reads(size, kernel, stride, padding, dilation):
    codes = torch.arange(1.0, size * size + 1).view(1, 1, size, size)   # 칸마다 다른 번호, 패딩은 0
    cols = F.unfold(codes, kernel, dilation=dilation, padding=padding, stride=stride)  # (1, K*K, L)
    n_out = ex.conv_output_size(size, kernel, stride, padding, dilation)
    for r, c in itertools.product(range(n_out), repeat=2):
        rows, columns = ex.sampled_inputs(r, kernel, stride, padding, dilation), ex.sampled_inputs(c, kernel, stride, padding, dilation)
        expected = [y * size + x + 1 if 0 <= y < size and 0 <= x < size else 0
                    for y, x in itertools.product(rows, columns)]
        assert cols[0, :, r * n_out + c].tolist() == expected


def test_augment_preview_is_the_training_transform_with_its_box():
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8))
    for seed, scale, flip_p in [(0, (0.5, 1.0), 0.5), (3, (0.08, 1.0), 1.0), (7, (0.3, 0.6), 0.0)]:
        state = torch.get_rng_state()
        out, (x1, y1, x2, y2), flipped = ex.augment_preview(photo, 48, scale=scale, flip_p=flip_p, seed=seed)
        assert torch.equal(torch.get_rng_state(), state)             # 전역 난수는 그대로
        torch.manual_seed(seed)
        reference = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(48, scale=scale, antialias=True),
                                v2.RandomHorizontalFlip(flip_p)])(photo)
        assert torch.equal(out, reference)
        assert flipped == (flip_p == 1.0) or flip_p == 0.5
        by_box = v2.functional.resized_crop(v2.ToImage()(photo), y1, x1, y2 - y1, x2 - x1, [48, 48], antialias=True)
        assert torch.equal(out, by_box.flip(-1) if flipped else by_box)
        assert scale[0] - 0.05 <= (x2 - x1) * (y2 - y1) / (90 * 120) <= scale[1] + 0.05


def test_iou_parts_matches_torchvision():
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        xy = torch.rand(2, 2, generator=gen) * 50
        boxes = torch.cat([xy, xy + torch.rand(2, 2, generator=gen) * 40 + 1], dim=1)
        parts = ex.iou_parts(boxes[0].tolist(), boxes[1].tolist())
        assert parts["iou"] == pytest.approx(float(torchvision.ops.box_iou(boxes[:1], boxes[1:])[0, 0]), abs=1e-6)
        assert parts["iou"] == pytest.approx(parts["inter"] / parts["union"], abs=1e-9)
        assert (parts["inter_box"] is None) == (parts["inter"] == 0)
    assert ex.iou_parts((0, 0, 10, 10), (5, 0, 15, 10))["inter_box"] == (5, 0, 10, 10)


def test_nms_keep_matches_torchvision_after_score_filter():
    gen = torch.Generator().manual_seed(1)
    xy = torch.rand(120, 2, generator=gen) * 80
    boxes = torch.cat([xy, xy + torch.rand(120, 2, generator=gen) * 30 + 5], dim=1)
    scores, labels = torch.rand(120, generator=gen), torch.randint(0, 3, (120,), generator=gen)
    for iou_t, score_t in [(0.5, 0.0), (0.3, 0.5), (0.7, 0.2), (1.0, 0.9)]:
        passed = torch.nonzero(scores >= score_t).flatten()
        expected = passed[torchvision.ops.batched_nms(boxes[passed], scores[passed], labels[passed], iou_t)]
        assert torch.equal(ex.nms_keep(boxes, scores, iou_t, score_t, labels), expected)
    alone = ex.nms_keep(boxes, scores, 0.5)                          # 레이블이 없으면 클래스 하나
    assert torch.equal(alone, torchvision.ops.nms(boxes, scores, 0.5))


def test_anchors_at_match_torchvision_anchor_generator():
    sizes, ratios, (fh, fw), image = (24, 40, 64), (0.5, 1.0, 2.0), (5, 7), (80, 112)
    generator = AnchorGenerator(sizes=(sizes,), aspect_ratios=(ratios,))
    all_anchors = generator(ImageList(torch.zeros(1, 3, *image), [image]), [torch.zeros(1, 1, fh, fw)])[0]
    k = len(sizes) * len(ratios)
    for row, col in [(0, 0), (2, 3), (4, 6)]:
        pos = row * fw + col
        assert torch.allclose(ex.anchors_at(row, col, (fh, fw), image, sizes, ratios), all_anchors[pos * k:(pos + 1) * k])
    with pytest.raises(ValueError, match="밖입니다"):
        ex.anchors_at(5, 0, (fh, fw), image, sizes, ratios)


@pytest.mark.parametrize("in_size,kernel,stride,padding", [(4, 3, 2, 1), (3, 4, 2, 1), (5, 3, 1, 0), (3, 5, 3, 2)])
def test_zero_insertion_then_conv_is_conv_transpose(in_size, kernel, stride, padding):
    layout = ex.zero_insertion_layout(in_size, kernel, stride, padding)
    assert int((layout == ex.INPUT).sum()) == in_size * in_size
    assert layout[0, 0] == (ex.PADDED if padding < kernel - 1 else ex.INPUT)
    x = torch.randn(1, 1, in_size, in_size, dtype=torch.float64)
    w = torch.randn(1, 1, kernel, kernel, dtype=torch.float64)
    canvas = torch.zeros(1, 1, *layout.shape, dtype=torch.float64)
    canvas[0, 0][torch.from_numpy(layout == ex.INPUT)] = x.flatten()  # 입력 칸에 입력을 차례로 놓음
    by_layout = F.conv2d(canvas, w.flip(-1, -2))                      # 뒤집은 커널로 보통 합성곱
    assert torch.allclose(by_layout, F.conv_transpose2d(x, w, stride=stride, padding=padding))


def test_zero_insertion_crops_when_padding_exceeds_kernel_minus_one():
    wide, cropped = ex.zero_insertion_layout(4, 2, 2, 1), ex.zero_insertion_layout(4, 2, 2, 3)
    assert np.array_equal(cropped, wide[2:-2, 2:-2])                  # 패딩 k-1-p = -2: 두 칸씩 잘라 냄
    out = F.conv_transpose2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2), stride=2, padding=3)
    assert out.shape[-1] == cropped.shape[0] - 2 + 1
    with pytest.raises(ValueError, match="패딩"):
        ex.zero_insertion_layout(2, 2, 1, 3)


@pytest.mark.parametrize("in_size,kernel,stride,padding", [(4, 3, 2, 1), (4, 4, 2, 1), (5, 5, 3, 0), (3, 3, 1, 1), (6, 2, 2, 0)])
def test_overlap_counts_match_conv_transpose_on_ones(in_size, kernel, stride, padding):
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, bias=False)
    nn.init.ones_(layer.weight)
    with torch.no_grad():
        ones = layer(torch.ones(1, 1, in_size, in_size))[0, 0]
    assert np.array_equal(ex.overlap_counts(in_size, kernel, stride, padding), ones.round().long().numpy())


def test_interior_overlap_is_the_range_away_from_the_border():
    for kernel, stride in [(3, 2), (4, 2), (5, 3), (6, 3), (3, 1), (2, 3), (1, 2)]:
        inner = ex.overlap_counts(12, kernel, stride)[kernel + stride:-kernel - stride, kernel + stride:-kernel - stride]
        assert ex.interior_overlap(kernel, stride) == (inner.min(), inner.max())
        low, high = ex.interior_overlap(kernel, stride)
        assert (low == high) == (kernel % stride == 0)                # 나누어떨어질 때만 고름


@pytest.mark.parametrize("kernel,rates", [(3, (1,)), (3, (2,)), (3, (1, 2, 4)), (3, (2, 2, 2)), (5, (1, 3))])
def test_atrous_footprint_matches_gradient_and_formula(kernel, rates):
    counts = ex.atrous_footprint(kernel, rates)
    stack = nn.Sequential(*[nn.Conv2d(1, 1, kernel, dilation=r, bias=False) for r in rates])
    mask, side = gradient_receptive_field(stack, size=counts.shape[0] + 8)
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    seen = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].numpy()
    assert counts.shape[0] == side == receptive_field([(kernel, 1, r) for r in rates])
    assert np.array_equal(counts > 0, seen)
    assert counts.sum() == kernel ** (2 * len(rates))                 # 경로 수의 합 = 탭 수의 곱


def test_atrous_footprint_shows_gridding_holes():
    assert (ex.atrous_footprint(3, (2, 2, 2)) == 0).any()             # 같은 rate 를 쌓으면 구멍
    assert (ex.atrous_footprint(3, (1, 2, 4)) > 0).all()              # 1, 2, 4 는 빈틈없이


def test_threshold_iou_matches_confusion_matrix():
    gen = torch.Generator().manual_seed(2)
    prob = torch.rand(2, 16, 16, generator=gen)
    target = (torch.rand(2, 16, 16, generator=gen) < 0.4).long()
    target[:, 0, :] = 255
    for t in (0.2, 0.5, 0.8):
        cm = confusion_matrix((prob >= t).long(), target, num_classes=2)
        assert ex.threshold_iou(prob, target, t) == pytest.approx(float(iou_per_class(cm)[1]))
    assert math.isnan(ex.threshold_iou(torch.zeros(4, 4), torch.zeros(4, 4, dtype=torch.long), 0.5))


# ----------------------------------------------------------------------------- 그림과 위젯 (explore_view)
@pytest.fixture
def shown(monkeypatch):
    """IPython display 가 받은 것을 모읍니다 (커널 없이 위젯 셀을 흉내)."""
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: seen.append((obj, kw)))
    return seen


def _titles(fig) -> str:
    return " ".join([fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes])


def test_explorer_shows_a_static_figure_then_widgets_with_a_korean_fallback(shown):
    from IPython.display import Image

    from course_utils.constants import WIDGET_HINT
    from course_utils.explore_view import transposed_explorer

    transposed_explorer(in_size=3, kernel=3, stride=2, padding=0)
    (figure, _), (bundle, kw) = shown
    assert isinstance(figure, Image) and figure.data[:8] == b"\x89PNG\r\n\x1a\n"   # 읽기용 사본에 남는 그림
    assert kw == {"raw": True} and bundle["text/plain"] == WIDGET_HINT
    assert bundle["application/vnd.jupyter.widget-view+json"]["version_major"] == 2   # ipywidgets 7, 8 공통 형식


def test_explorer_redraws_on_change_and_explains_impossible_settings(shown, capsys):
    from course_utils.explore_view import _slider, build_explorer, draw_conv

    controls = {"size": _slider("W", 8, 3, 16), "kernel": _slider("K", 3, 1, 7)}
    draw = lambda size, kernel: draw_conv(size, kernel, 1, 0, 1, 3, 16, False, 0, 0)  # noqa: E731
    fig, box = build_explorer(draw, controls)
    assert "= 6" in _titles(fig) and len(box.children) == 2
    controls["size"].value = 10
    assert len(shown) == 1 and "그릴 수 없습니다" not in capsys.readouterr().out   # 출력 칸에 새 그림 하나
    controls["kernel"].value = 7
    controls["size"].value = 5                                          # 커널 7 > 입력 5: 그릴 수 없음
    assert "그릴 수 없습니다" in capsys.readouterr().out and len(shown) == 2


def test_figures_say_what_the_numbers_are():
    from course_utils import explore_view as view

    assert "448" in _titles(view.draw_conv(8, 3, 2, 1, 1, 3, 16, False, 9, 9))   # 16*3*3*3 + 16
    assert "파라미터 0" in _titles(view.draw_conv(8, 2, 2, 0, 1, 3, 16, True, 0, 0))
    with pytest.raises(ValueError, match="절반"):
        view.draw_conv(8, 2, 2, 2, 1, 3, 16, True, 0, 0)
    assert "체커보드" in _titles(view.draw_transposed(3, 3, 2, 1))
    assert "고름" in _titles(view.draw_transposed(3, 4, 2, 1))
    assert "구멍" in _titles(view.draw_atrous(3, 2, 3, False))
    assert "빈틈 없이" in _titles(view.draw_atrous(3, 1, 3, True))
    image = np.zeros((100, 100, 3), np.uint8)
    assert "못 찾음" in _titles(view.draw_iou(image, (20, 20, 60, 60), 0.6, 0.0, 1.0, 1.0))
    assert "≥ 0.5: 찾음" in _titles(view.draw_iou(image, (20, 20, 60, 60), 0.1, 0.0, 1.0, 1.0))
    boxes = torch.tensor([[10.0, 10, 50, 50], [12, 12, 52, 52], [60, 60, 90, 90]])
    assert "뒤: 2개" in _titles(view.draw_nms(image, boxes, torch.tensor([0.9, 0.8, 0.7]), None, None, 0.5, 0.0))
    assert "k = 2 크기 × 3 비율 = 6개" in _titles(view.draw_anchors(image, (5, 5), (16, 32), (0.5, 1.0, 2.0), 2, 2))


def test_filter_mosaic_stretches_each_filter_and_keeps_its_place():
    from course_utils.explore_view import _mosaic, show_feature_maps

    weight = torch.zeros(3, 3, 2, 2)
    weight[1, 0, 0, 1] = 5.0                                          # 필터 1 의 빨강, (0, 1) 칸만 큼
    canvas = _mosaic(weight, cols=2)                                  # 2열: 필터 1 은 첫 줄 둘째 칸
    assert canvas.shape == (2 * 3 + 1, 2 * 3 + 1, 3)
    assert canvas[1, 3 + 1 + 1].tolist() == [1.0, 0.0, 0.0] and canvas[1, 3 + 1].tolist() == [0.0, 0.0, 0.0]
    maps = {"층": torch.zeros(1, 4, 5, 5)}
    maps["층"][0, 2] = 1.0                                             # 가장 크게 반응한 채널이 맨 앞
    assert "층 #2" in _titles(show_feature_maps(torch.rand(3, 8, 8), maps, n=2))


def test_show_cams_titles_with_and_without_colours():
    from course_utils.explore_view import show_cams

    images, cams = torch.rand(2, 3, 8, 8), torch.rand(2, 8, 8)
    assert "고양이" in _titles(show_cams(images, cams, ["고양이", "개"]))
    fig = show_cams(images, cams, ["고양이", "개 (정답 고양이)"], colors=["green", "red"])
    assert [ax.title.get_color() for ax in fig.axes[:2]] == ["green", "red"]
