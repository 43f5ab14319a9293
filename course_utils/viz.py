"""그림 도우미: 이미지 격자, 예측 격자, 바운딩 박스, 분할 마스크, 학습 곡선.

모든 함수는 matplotlib ``Figure`` 를 돌려줍니다(제목과 색을 테스트에서 확인할 수 있게).
이미지는 경로, PIL, (H, W, 3) 배열, (3, H, W) 텐서 어느 것이든 받습니다.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from .images import load_rgb, to_rgb
from .transforms import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["denormalize", "to_rgb_image", "show_images", "show_prediction_grid", "draw_boxes",
           "overlay_mask", "show_segmentation", "plot_history", "compare_histories", "RIGHT_COLOR", "WRONG_COLOR", "CourseFigure"]

RIGHT_COLOR, WRONG_COLOR = "green", "red"
# 클래스 번호별 색 (0 = 배경은 칠하지 않음)
_PALETTE = np.array([[0, 0, 0], [255, 64, 64], [64, 160, 255], [255, 200, 0], [0, 200, 120],
                     [200, 80, 255], [255, 128, 0], [0, 220, 220]], dtype=np.float32) / 255
_BOX_COLORS = ["lime", "red", "deepskyblue", "orange", "magenta", "yellow", "cyan"]
_font_ready = False


class CourseFigure(Figure):
    """셀의 마지막 줄에서 돌려받아도 노트북에 한 번만 그려지는 Figure.

    보통의 Figure 를 셀 마지막 줄에서 돌려주면 출력 표시가 한 번, 셀이 끝날 때 inline 백엔드가 또 한 번 그려
    그림이 두 번 나옵니다. CourseFigure 는 한 번 그려질 때 pyplot 에서 닫혀 두 번째 표시가 생기지 않습니다.
    만들어질 때 한글 글꼴을 등록하므로 이 그림의 제목과 이름은 네모로 깨지지 않습니다.
    """

    def __init__(self, *args, **kwargs) -> None:
        _korean_font()
        super().__init__(*args, **kwargs)


def _png_and_close(fig: Figure) -> bytes:
    """그림을 PNG 로 그린 뒤 pyplot 목록에서 닫습니다 (닫힌 그림도 변수로 다시 표시할 수 있습니다)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _quiet_figure_repr() -> None:
    """IPython 안이면 CourseFigure 의 PNG 표시를 '그리고 닫기'로 바꿔 한 번만 보이게 합니다."""
    try:
        from IPython import get_ipython
        ip = get_ipython()
    except ImportError:
        return
    if ip is None:
        return
    formatter = ip.display_formatter.formatters.get("image/png")
    if formatter is not None:
        formatter.for_type(CourseFigure, _png_and_close)


def _korean_font() -> None:
    """한글 제목이 네모로 깨지지 않게 글꼴을 한 번만 등록합니다."""
    global _font_ready
    if not _font_ready:
        try:
            from .setup import use_korean_font
            use_korean_font()
        except ImportError:  # 글꼴 패키지(koreanize-matplotlib)가 없어도 그림은 그립니다
            pass
        _quiet_figure_repr()
        _font_ready = True


def denormalize(t: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN,
                std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """정규화를 되돌립니다: ``x * std + mean`` 후 [0, 1] 로 자름. (C,H,W) 와 (N,C,H,W) 모두 됩니다."""
    t = torch.as_tensor(t).detach().float().cpu()
    shape = (-1, 1, 1)
    m = torch.as_tensor(mean, dtype=t.dtype).view(shape)
    s = torch.as_tensor(std, dtype=t.dtype).view(shape)
    return (t * s + m).clamp(0, 1)


def to_rgb_image(image, mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> np.ndarray:
    """무엇이든 (H, W, 3) float [0, 1] RGB 배열로 바꿉니다.

    mean/std 를 주면 정규화를 되돌립니다. 주지 않았는데 실수 텐서 값이 [0, 1] 밖이면
    ImageNet 평균/표준편차로 정규화된 것으로 보고 되돌립니다.
    """
    if isinstance(image, (str, Path)):
        image = load_rgb(image)  # 데이터셋이 읽는 것과 같게: EXIF 방향대로 세우고 투명 영역은 흰 바탕
    if isinstance(image, Image.Image):
        return np.asarray(to_rgb(image), dtype=np.float32) / 255
    if isinstance(image, torch.Tensor):
        t = image.detach().cpu().as_subclass(torch.Tensor)
        if t.dtype == torch.uint8:
            t = t.float() / 255
        t = t.float()
        if t.ndim == 2:
            t = t.unsqueeze(0)
        if mean is not None or (std is None and (t.min() < -0.01 or t.max() > 1.01)):
            t = denormalize(t, mean if mean is not None else IMAGENET_MEAN, std if std is not None else IMAGENET_STD)
        if t.shape[0] == 1:
            t = t.expand(3, -1, -1)
        return t.permute(1, 2, 0).clamp(0, 1).numpy()  # (C, H, W) -> (H, W, C)
    arr = np.asarray(image)
    arr = arr.astype(np.float32) / 255 if arr.dtype == np.uint8 else arr.astype(np.float32)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.clip(arr, 0, 1)


def _grid(n: int, cols: int, size: float = 2.4) -> tuple[Figure, np.ndarray]:
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.3), squeeze=False,
                             FigureClass=CourseFigure)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    return fig, axes.ravel()


def show_images(images, titles: Sequence[str] | None = None, cols: int = 5,
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> Figure:
    """이미지 여러 장을 격자로 그립니다."""
    images = list(images)
    fig, axes = _grid(len(images), cols)
    for i, img in enumerate(images):
        axes[i].imshow(to_rgb_image(img, mean, std))
        if titles is not None:
            axes[i].set_title(str(titles[i]), fontsize=10)
        axes[i].set_axis_off()
    fig.tight_layout()
    return fig


def _name(label, class_names) -> str:
    if class_names is not None and not isinstance(label, str):
        return str(class_names[int(label)])
    return str(label)


def show_prediction_grid(images, true_labels, pred_labels=None, class_names=None, cols: int = 5,
                         mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> Figure:
    """i 번째 칸에 i 번째 이미지와 **그 이미지의** 예측을 그립니다 (맞으면 초록, 틀리면 빨강).

    교재의 AlexNet 격자는 ``random.choice`` 로 다른 이미지의 예측을 뽑아 제목이 어긋났습니다.
    여기서는 이미지, 정답, 예측을 같은 번호로 묶어(zip) 어긋날 수 없게 합니다.
    pred_labels 가 없으면 정답을 제목으로 씁니다. 레이블은 번호(class_names 로 이름) 또는 이름.
    """
    images, true_labels = list(images), list(true_labels)
    pred_labels = true_labels if pred_labels is None else list(pred_labels)
    if not (len(images) == len(true_labels) == len(pred_labels)):
        raise ValueError(f"이미지 {len(images)}장, 정답 {len(true_labels)}개, 예측 {len(pred_labels)}개로 "
                         "개수가 다릅니다. 같은 순서, 같은 개수로 넘겨 주세요.")
    fig, axes = _grid(len(images), cols)
    for ax, img, true, pred in zip(axes, images, true_labels, pred_labels):
        true_name, pred_name = _name(true, class_names), _name(pred, class_names)
        right = true_name == pred_name
        ax.imshow(to_rgb_image(img, mean, std))
        title = pred_name if right else f"{pred_name} (정답 {true_name})"
        ax.set_title(title, color=RIGHT_COLOR if right else WRONG_COLOR, fontsize=10)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def draw_boxes(image, boxes, labels=None, scores=None, class_names=None, ax=None, color=None,
               linewidth: float = 2.0) -> Figure:
    """(x1, y1, x2, y2) 박스를 그립니다. 레이블과 점수가 있으면 박스 위에 ``cat 0.93`` 처럼 씁니다.

    color 를 주지 않으면 클래스 번호마다 다른 색을 씁니다. ax 를 주면 그 위에 겹쳐 그립니다.
    """
    _korean_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5), FigureClass=CourseFigure)
        ax.imshow(to_rgb_image(image))
    elif not ax.images:
        ax.imshow(to_rgb_image(image))
    boxes = torch.as_tensor(boxes).detach().cpu().as_subclass(torch.Tensor).float().reshape(-1, 4)
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        label = None if labels is None else labels[i]
        label = int(label) if isinstance(label, (torch.Tensor, np.integer)) else label
        c = color or _BOX_COLORS[(label if isinstance(label, int) else 0) % len(_BOX_COLORS)]
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=c, linewidth=linewidth))
        text = [] if label is None else [_name(label, class_names)]
        if scores is not None:
            text.append(f"{float(scores[i]):.2f}")
        if text:
            ax.text(x1, y1, " ".join(text), color="black", fontsize=8, va="bottom",
                    bbox=dict(facecolor=c, alpha=0.8, pad=1, edgecolor="none"))
    ax.set_axis_off()
    return ax.figure


def _mask_array(mask) -> np.ndarray:
    m = torch.as_tensor(mask).detach().cpu().as_subclass(torch.Tensor)
    if m.ndim == 3 and m.shape[0] > 1 and m.is_floating_point():  # (C, H, W) 로짓 -> 클래스 번호
        m = m.argmax(0)
    return m.reshape(m.shape[-2:]).long().numpy()


def overlay_mask(image, mask, alpha: float = 0.5, ax=None) -> Figure:
    """클래스 번호 마스크 (H, W) 를 색으로 겹칩니다. 0 = 배경(그대로), 255 = 무시(회색)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4), FigureClass=CourseFigure)
    rgb = to_rgb_image(image)
    m = _mask_array(mask)
    colours = np.zeros(m.shape + (3,), np.float32)
    weight = np.zeros(m.shape + (1,), np.float32)
    for k in np.unique(m):
        if k == 0:
            continue
        colours[m == k] = (0.6, 0.6, 0.6) if k == 255 else _PALETTE[int(k) % len(_PALETTE) or 1]
        weight[m == k] = alpha
    ax.imshow(rgb * (1 - weight) + colours * weight)
    ax.set_axis_off()
    return ax.figure


def show_segmentation(images, true_masks, pred_masks, n: int = 4,
                      mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> Figure:
    """n 장에 대해 위 줄은 정답 마스크, 아래 줄은 예측 마스크를 겹쳐 그립니다."""
    n = min(n, len(images))
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.4), squeeze=False, FigureClass=CourseFigure)
    for i in range(n):
        img = to_rgb_image(images[i], mean, std)
        for row, (masks, name) in enumerate(((true_masks, "정답"), (pred_masks, "예측"))):
            overlay_mask(img, masks[i], ax=axes[row, i])
            axes[row, i].set_title(f"{name} #{i}", fontsize=10)
    fig.tight_layout()
    return fig


_METRIC_NAMES = {"loss": "손실", "acc": "정확도", "miou": "mIoU", "lr": "학습률"}


def plot_history(history: dict, metrics: Sequence[str] = ("loss", "acc")) -> Figure:
    """``fit`` 이 돌려준 기록(리스트의 사전)에서 train_/val_ 곡선을 지표마다 한 칸에 그립니다."""
    metrics = [m for m in metrics if any(k in history for k in (f"train_{m}", f"val_{m}", m))]
    if not metrics:
        raise ValueError(f"history 에 그릴 지표가 없습니다. 키: {sorted(history)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False,
                             FigureClass=CourseFigure)
    for ax, m in zip(axes.ravel(), metrics):
        keys = [k for k in (f"train_{m}", f"val_{m}", m) if k in history and len(history[k])]
        for k in keys:
            x = history.get("epoch", range(1, len(history[k]) + 1))
            x = list(x)[: len(history[k])]
            ax.plot(x, history[k], marker="o", label={"train": "학습", "val": "검증"}.get(k.split("_")[0], k))
        ax.set_xlabel("에폭")
        ax.set_ylabel(_METRIC_NAMES.get(m, m))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def _key_title(key: str) -> str:
    """'train_loss' -> '학습 손실', 'val_acc' -> '검증 정확도'."""
    split, _, metric = key.partition("_")
    prefix = {"train": "학습", "val": "검증"}.get(split)
    return f"{prefix} {_METRIC_NAMES.get(metric, metric)}" if prefix and metric else _METRIC_NAMES.get(key, key)


def compare_histories(histories: dict[str, dict], keys: Sequence[str] = ("train_loss", "val_acc"),
                      chance: float | None = None) -> Figure:
    """여러 실험의 기록을 지표(key)마다 한 칸에 겹쳐 그립니다. 범례는 실험 이름, chance는 정확도 칸의 우연 수준 점선."""
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.5), squeeze=False, FigureClass=CourseFigure)
    for ax, key in zip(axes.ravel(), keys):
        for label, history in histories.items():
            if key not in history:
                raise ValueError(f"'{label}' 기록에 {key!r}가 없습니다. 키: {sorted(history)}")
            ax.plot(history.get("epoch", range(1, len(history[key]) + 1)), history[key], marker="o", label=label)
        if chance is not None and key.endswith("acc"):
            ax.axhline(chance, color="gray", ls="--", lw=1, label="우연 수준")
        ax.set(title=_key_title(key), xlabel="에폭")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig

