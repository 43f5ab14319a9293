"""그림 도우미: 제목이 제 이미지의 것인지, 색, 박스/마스크/곡선이 실제로 그려지는지."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from PIL import Image

from course_utils import viz
from course_utils.transforms import IMAGENET_MEAN, IMAGENET_STD


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _solid(value: int, size: int = 8) -> torch.Tensor:
    """값이 모두 value/255 인 (3, size, size) 이미지: 그림에서 어느 이미지인지 알아볼 수 있게."""
    return torch.full((3, size, size), value / 255.0)


def test_denormalize_inverts_normalize():
    x = torch.rand(2, 3, 5, 5)
    m = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    s = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    assert torch.allclose(viz.denormalize((x - m) / s), x, atol=1e-6)
    assert torch.allclose(viz.denormalize((x[0] - m) / s, IMAGENET_MEAN, IMAGENET_STD), x[0], atol=1e-6)
    assert viz.denormalize(torch.full((3, 2, 2), 10.0)).max() == 1.0  # [0, 1] 로 자름


def test_prediction_grid_titles_belong_to_their_image():
    # 이미지 i 의 밝기로 i 를 알아볼 수 있고, 정답/예측도 i 에 따라 다르게 만듭니다.
    n = 10
    images = [_solid(20 * i + 5) for i in range(n)]
    classes = ["cat", "dog"]
    true = [i % 2 for i in range(n)]
    pred = [(i // 3) % 2 for i in range(n)]          # 일부는 맞고 일부는 틀림
    fig = viz.show_prediction_grid(images, true, pred, class_names=classes, cols=5)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == n
    for i, ax in enumerate(axes):
        shown = np.asarray(ax.images[0].get_array())
        assert np.allclose(shown, (20 * i + 5) / 255.0, atol=1e-6), f"칸 {i} 에 다른 이미지가 있습니다"
        title = ax.title
        assert title.get_text().split()[0] == classes[pred[i]]
        right = true[i] == pred[i]
        assert to_rgba(title.get_color()) == to_rgba(viz.RIGHT_COLOR if right else viz.WRONG_COLOR)
        if not right:
            assert f"정답 {classes[true[i]]}" in title.get_text()


def test_prediction_grid_reads_paths_and_checks_lengths(tmp_path):
    paths = []
    for i, v in enumerate((30, 200)):
        p = tmp_path / f"{i}.png"
        Image.fromarray(np.full((6, 6, 3), v, np.uint8)).save(p)
        paths.append(p)
    fig = viz.show_prediction_grid(paths, ["cat", "dog"], ["cat", "cat"], cols=5)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.title.get_text().split()[0] for ax in axes] == ["cat", "cat"]
    assert np.allclose(np.asarray(axes[1].images[0].get_array()), 200 / 255)
    assert to_rgba(axes[1].title.get_color()) == to_rgba("red")
    # 예측이 없으면 정답을 초록 제목으로
    fig = viz.show_prediction_grid(paths, [0, 1], class_names=["cat", "dog"])
    assert [ax.title.get_text() for ax in fig.axes if ax.images] == ["cat", "dog"]
    with pytest.raises(ValueError, match="개수"):
        viz.show_prediction_grid(paths, [0, 1], [0])


def test_normalized_tensor_is_shown_denormalized():
    x = torch.rand(3, 4, 4)
    norm = (x - torch.tensor(IMAGENET_MEAN).view(3, 1, 1)) / torch.tensor(IMAGENET_STD).view(3, 1, 1)
    fig = viz.show_images([norm], titles=["x"], mean=IMAGENET_MEAN, std=IMAGENET_STD)
    assert np.allclose(np.asarray(fig.axes[0].images[0].get_array()), x.permute(1, 2, 0).numpy(), atol=1e-5)
    assert np.allclose(viz.to_rgb_image(norm), x.permute(1, 2, 0).numpy(), atol=1e-5)  # 범위 밖이면 자동


def test_korean_title_has_glyphs():
    viz.show_images([_solid(100)], titles=["고양이"])
    from matplotlib import font_manager
    family = matplotlib.rcParams["font.family"][0]
    font = font_manager.findfont(family, fallback_to_default=False)
    from matplotlib.ft2font import FT2Font
    assert FT2Font(font).get_char_index(ord("고")) != 0, f"{family} 글꼴에 한글이 없습니다"


def test_draw_boxes_labels_and_scores():
    img = np.zeros((50, 80, 3), np.uint8)
    fig = viz.draw_boxes(img, torch.tensor([[5.0, 6, 25, 30], [40, 10, 70, 45]]), labels=torch.tensor([1, 2]),
                         scores=torch.tensor([0.93, 0.5]), class_names=["background", "cat", "dog"])
    ax = fig.axes[0]
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(r.get_x(), r.get_y(), r.get_width(), r.get_height()) for r in rects] == [(5, 6, 20, 24), (40, 10, 30, 35)]
    assert [t.get_text() for t in ax.texts] == ["cat 0.93", "dog 0.50"]
    assert rects[0].get_edgecolor() != rects[1].get_edgecolor()  # 클래스마다 다른 색
    # 같은 축에 겹쳐 그리기 + 고정 색
    viz.draw_boxes(img, [[1, 1, 3, 3]], ax=ax, color="yellow")
    assert len(ax.images) == 1 and len(ax.patches) == 3
    assert to_rgba(ax.patches[-1].get_edgecolor()) == to_rgba("yellow")


def test_overlay_mask_colours_only_the_mask():
    img = torch.zeros(3, 10, 10)
    mask = torch.zeros(10, 10, dtype=torch.int64)
    mask[2:5, 2:5] = 1
    mask[8, 8] = 255
    fig = viz.overlay_mask(img, mask, alpha=0.5)
    shown = np.asarray(fig.axes[0].images[0].get_array())
    assert np.allclose(shown[0, 0], 0)            # 배경은 그대로
    assert shown[3, 3].sum() > 0.3                 # 클래스 1 은 색이 입혀짐
    assert np.allclose(shown[8, 8], 0.3)           # 무시(255)는 회색


def test_show_segmentation_layout():
    images = torch.randn(3, 3, 16, 16)
    true = torch.randint(0, 2, (3, 16, 16))
    pred_logits = torch.randn(3, 2, 16, 16)
    fig = viz.show_segmentation(images, true, pred_logits.argmax(1), n=2)
    titled = [ax.title.get_text() for ax in fig.axes]
    assert titled == ["정답 #0", "정답 #1", "예측 #0", "예측 #1"]


def test_plot_history_curves():
    history = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.7, 0.5], "val_loss": [1.1, 0.8, 0.7],
               "train_acc": [0.5, 0.7, 0.8], "val_acc": [0.5, 0.65, 0.75], "lr": [0.1] * 3, "seconds": [1.0] * 3}
    fig = viz.plot_history(history)
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert [list(line.get_ydata()) for line in loss_ax.lines] == [history["train_loss"], history["val_loss"]]
    assert [line.get_label() for line in acc_ax.lines] == ["학습", "검증"]
    assert list(acc_ax.lines[1].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="지표"):
        viz.plot_history({"epoch": [1]}, metrics=("miou",))


def test_returned_figure_is_not_drawn_twice_in_notebooks():
    fig = viz.show_images([_solid(10)])
    assert isinstance(fig, viz.CourseFigure)


def test_notebook_display_draws_png_once_and_closes_figure():
    """노트북 표시용 함수: PNG 바이트를 만들고 pyplot 에서 닫아, 셀 끝의 자동 표시가 다시 그리지 않게 합니다."""
    import matplotlib.pyplot as plt

    fig = viz.show_images([torch.rand(3, 8, 8) for _ in range(2)])
    assert fig.number in plt.get_fignums()
    png = viz._png_and_close(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.number not in plt.get_fignums()
    assert viz._png_and_close(fig)[:4] == b"\x89PNG"  # 닫힌 그림도 다시 표시할 수 있습니다


def test_transparent_pixels_are_white_like_the_dataset(tmp_path):
    # 완전히 투명한 빨강은 images.to_rgb 처럼 흰색으로 보여야 합니다 (데이터셋이 학습에 쓰는 색과 같게)
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.save(tmp_path / "clear.png")
    for source in (rgba, tmp_path / "clear.png"):
        assert np.array_equal(viz.to_rgb_image(source), np.ones((4, 4, 3), dtype=np.float32))


def test_compare_histories_overlays_runs_and_chance_line():
    a = {"epoch": [1, 2], "train_loss": [0.9, 0.5], "val_acc": [0.6, 0.8]}
    b = {"epoch": [1, 2], "train_loss": [0.7, 0.7], "val_acc": [0.5, 0.5]}
    fig = viz.compare_histories({"lr=1e-3": a, "lr=1e-7": b}, chance=0.5)
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["lr=1e-3", "lr=1e-7"]
    assert [list(line.get_ydata()) for line in acc_ax.lines[:2]] == [a["val_acc"], b["val_acc"]]
    assert list(acc_ax.lines[2].get_ydata()) == [0.5, 0.5] and len(loss_ax.lines) == 2   # 점선은 정확도 칸에만
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("학습 손실", "검증 정확도")
    with pytest.raises(ValueError, match="val_miou"):
        viz.compare_histories({"a": a}, keys=("val_miou",))
