"""슬라이더 탐색기와 '신경망은 무엇을 보나' 그림: 계산은 ``explore``·``saliency``, 여기는 그림과 위젯만.

탐색기 셀은 어디서 열어도 보이게 만듭니다.
- 먼저 기본 설정의 그림을 보통 PNG 그림으로 한 번 그립니다(읽기용 사본, 위젯이 없는 실행 환경).
- 그 아래에 ipywidgets 슬라이더와 출력 칸을 둡니다. 슬라이더를 움직이면 출력 칸에 새 그림이 그려집니다.
- 위젯을 그릴 수 없는 곳에서는 위젯 대신 짧은 한국어 안내(WIDGET_HINT) 한 줄이 보입니다.

이미지를 다루는 그림만 ``viz``(torchvision 을 부름)를 함수 안에서 가져옵니다. 격자만 그리는 탐색기(14, 17)는
torchvision 없이 빨리 뜹니다.
"""
from __future__ import annotations

import io
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import explore as ex
from .constants import WIDGET_HINT

__all__ = ["build_explorer", "show_explorer", "conv_explorer", "augment_explorer", "iou_explorer",
           "nms_explorer", "anchor_explorer", "transposed_explorer", "atrous_explorer", "threshold_explorer",
           "show_feature_maps", "show_filters", "show_cams"]

_COLORS = ["tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:green", "tab:purple"]


# ----------------------------------------------------------------------------- 공통: 그림, 위젯
def _figure(ncols: int, width: float, height: float, nrows: int = 1) -> tuple[Figure, np.ndarray]:
    """pyplot 밖의 Figure: 셀이 끝날 때 저절로 한 번 더 그려지지 않습니다."""
    try:
        from .setup import use_korean_font
        use_korean_font()
    except Exception:  # 글꼴 패키지가 없어도 그림은 그립니다
        pass
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _png(fig: Figure):
    """그림을 PNG 표시 객체로: 노트북, 읽기용 사본, Colab 어디서나 같은 그림입니다."""
    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")


def build_explorer(draw: Callable[..., Figure], controls: Mapping[str, Any]) -> tuple[Figure, Any]:
    """기본값으로 그린 그림과, 슬라이더 + 출력 칸 위젯(VBox)을 만듭니다. 슬라이더가 바뀌면 출력 칸을 다시 그립니다."""
    import ipywidgets as widgets
    from IPython.display import display

    def values() -> dict[str, Any]:
        return {name: control.value for name, control in controls.items()}

    out = widgets.Output()

    def redraw(_change=None) -> None:
        with out:
            out.clear_output(wait=True)
            try:
                display(_png(draw(**values())))
            except ValueError as err:                   # 불가능한 조합: 오류 추적 대신 이유 한 줄
                print(f"이 설정으로는 그릴 수 없습니다: {err}")

    for control in controls.values():
        control.observe(redraw, names="value")
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    return draw(**values()), widgets.VBox([row, out])


def show_explorer(draw: Callable[..., Figure], controls: Mapping[str, Any], hint: str = WIDGET_HINT) -> None:
    """기본 설정의 보통 그림을 먼저 보이고, 그 아래에 슬라이더를 둡니다 (위젯의 글자 대체 표시는 hint)."""
    from IPython.display import display

    fig, box = build_explorer(draw, controls)
    display(_png(fig))
    # 위젯 표시를 직접 만듭니다: ipywidgets 7(Colab)과 8에 같은 형식이고, 글자 대체 표시는 repr 대신 안내 한 줄
    view = {"version_major": 2, "version_minor": 0, "model_id": box.model_id}
    display({"text/plain": hint, "application/vnd.jupyter.widget-view+json": view}, raw=True)


def _slider(description: str, value: float, low: float, high: float, step: float | None = None):
    import ipywidgets as widgets

    kind = widgets.IntSlider if step is None else widgets.FloatSlider
    extra = {} if step is None else {"step": step}
    return kind(value=value, min=low, max=high, description=description, continuous_update=False,
                style={"description_width": "initial"}, layout=widgets.Layout(width="250px"), **extra)


def _grid_axes(ax, codes: np.ndarray, colors: Sequence[str], title: str) -> None:
    """칸 종류 번호 배열을 색 칸으로 그리고 칸 경계선을 긋습니다."""
    ax.imshow(codes, cmap=ListedColormap(colors), vmin=0, vmax=len(colors) - 1)
    h, w = codes.shape
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.grid(which="minor", color="black", linewidth=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)


# ----------------------------------------------------------------------------- 합성곱·풀링 (04)
def draw_conv(size: int, kernel: int, stride: int, padding: int, dilation: int, in_channels: int,
              out_channels: int, pool: bool, row: int, col: int) -> Figure:
    """패딩을 넣은 입력 격자 위에 출력 (row, col) 칸이 읽는 입력 칸, 오른쪽에 출력 격자와 크기·파라미터 수."""
    if pool and padding > kernel // 2:
        raise ValueError(f"최대 풀링의 패딩({padding})은 커널의 절반({kernel // 2}) 이하여야 합니다 (PyTorch 규칙).")
    n_out = ex.conv_output_size(size, kernel, stride, padding, dilation)
    row, col = min(row, n_out - 1), min(col, n_out - 1)
    codes = np.zeros((size + 2 * padding,) * 2, dtype=int)             # 0 패딩, 1 입력
    codes[padding:padding + size, padding:padding + size] = 1
    for y in ex.sampled_inputs(row, kernel, stride, padding, dilation):
        for x in ex.sampled_inputs(col, kernel, stride, padding, dilation):
            codes[y + padding, x + padding] += 2                        # 2 읽는 패딩, 3 읽는 입력
    out_codes = np.zeros((n_out, n_out), dtype=int)
    out_codes[row, col] = 1
    fig, axes = _figure(2, 9, 4.6)
    _grid_axes(axes[0, 0], codes, ["#d0d0d0", "white", "#f6c48f", "tab:orange"],
               f"입력 {size}×{size} + 패딩 {padding} (회색)\n출력 칸 ({row}, {col})이 읽는 칸 (주황)")
    _grid_axes(axes[0, 1], out_codes, ["#e8f0ff", "tab:orange"], f"출력 {n_out}×{n_out}")
    formula = f"floor(({size} + 2·{padding} - {dilation}·({kernel}-1) - 1) / {stride}) + 1 = {n_out}"
    if pool:
        params = "최대 풀링: 파라미터 0개 (채널마다 따로, 채널 수 그대로)"
    else:
        params = (f"파라미터 {out_channels}·{in_channels}·{kernel}·{kernel} + {out_channels} = "
                  f"{ex.conv_param_count(in_channels, out_channels, kernel):,}개")
    fig.suptitle(f"{formula}    |    {params}", fontsize=11)
    return fig


def conv_explorer(size: int = 8, kernel: int = 3, stride: int = 1, padding: int = 0, dilation: int = 1,
                  in_channels: int = 3, out_channels: int = 16) -> None:
    """합성곱·최대 풀링의 출력 크기와 파라미터 수 탐색기."""
    import ipywidgets as widgets

    controls = {"size": _slider("입력 크기 W", size, 3, 16), "kernel": _slider("커널 K", kernel, 1, 7),
                "stride": _slider("스트라이드 S", stride, 1, 4), "padding": _slider("패딩 P", padding, 0, 3),
                "dilation": _slider("팽창 D", dilation, 1, 3),
                "in_channels": _slider("입력 채널", in_channels, 1, 64),
                "out_channels": _slider("출력 채널(필터 수)", out_channels, 1, 64),
                "pool": widgets.ToggleButtons(options=[("합성곱", False), ("최대 풀링", True)], value=False),
                "row": _slider("출력 행", 0, 0, 15), "col": _slider("출력 열", 0, 0, 15)}
    show_explorer(draw_conv, controls)


# ----------------------------------------------------------------------------- 데이터 증강 (03)
def draw_augment(image, size: int, scale_min: float, max_ratio: float, flip_p: float, seed: int,
                 n: int = 4) -> Figure:
    """원본 위에 무작위로 자른 상자 n개, 오른쪽에 그 결과 (seed, seed+1, ...)."""
    from .viz import to_rgb_image

    fig, axes = _figure(n + 1, 2.4 * (n + 1) + 0.6, 3.0)
    rgb = to_rgb_image(image)
    axes[0, 0].imshow(rgb)
    for i in range(n):
        out, (x1, y1, x2, y2), flipped = ex.augment_preview(image, size, (scale_min, 1.0), (1 / max_ratio, max_ratio),
                                                            flip_p, seed + i)
        color = _COLORS[i % len(_COLORS)]
        axes[0, 0].add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, linewidth=2))
        axes[0, 0].text(x1 + 2, y1 + 2, f"#{i + 1}", color=color, fontsize=9, va="top", fontweight="bold")
        axes[0, i + 1].imshow(out.permute(1, 2, 0).numpy())                 # (3, S, S) -> (S, S, 3)
        axes[0, i + 1].set_title(f"#{i + 1}" + (" (뒤집음)" if flipped else ""), color=color, fontsize=10)
    axes[0, 0].set_title("원본과 자를 상자", fontsize=10)
    for ax in axes[0]:
        ax.set_axis_off()
    fig.suptitle(f"RandomResizedCrop({size}, scale=({scale_min:.2f}, 1.0), ratio=(1/{max_ratio:.2f}, {max_ratio:.2f}))"
                 f" + RandomHorizontalFlip(p={flip_p:.2f})", fontsize=10)
    return fig


def augment_explorer(image, size: int = 224, scale_min: float = 0.5, max_ratio: float = 4 / 3,
                     flip_p: float = 0.5) -> None:
    """훈련 전처리(무작위 자르기 + 좌우 뒤집기)를 사진 한 장에 적용해 보는 탐색기."""
    controls = {"scale_min": _slider("최소 넓이 비율", scale_min, 0.08, 1.0, 0.02),
                "max_ratio": _slider("최대 가로세로 비율", max_ratio, 1.0, 2.0, 0.05),
                "flip_p": _slider("뒤집기 확률", flip_p, 0.0, 1.0, 0.1), "seed": _slider("시드", 0, 0, 50)}
    show_explorer(lambda **v: draw_augment(image, size, **v), controls)


# ----------------------------------------------------------------------------- IoU (09), NMS·앵커 (12)
def draw_iou(image, box: Sequence[float], dx: float, dy: float, scale_w: float, scale_h: float) -> Figure:
    """정답 박스 A 와, A 를 (dx, dy) 만큼 옮기고 너비·높이를 바꾼 박스 B 의 IoU."""
    from .viz import draw_boxes

    x1, y1, x2, y2 = [float(v) for v in box]
    w, h = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 + dx * w, (y1 + y2) / 2 + dy * h
    other = (cx - w * scale_w / 2, cy - h * scale_h / 2, cx + w * scale_w / 2, cy + h * scale_h / 2)
    parts = ex.iou_parts((x1, y1, x2, y2), other)
    fig, axes = _figure(1, 5.2, 5.0)
    ax = axes[0, 0]
    draw_boxes(image, torch.tensor([[x1, y1, x2, y2], other]), ax=ax, color="white")
    ax.patches[-1].set_edgecolor("tab:orange")
    if parts["inter_box"] is not None:
        ix1, iy1, ix2, iy2 = parts["inter_box"]
        ax.add_patch(Rectangle((ix1, iy1), ix2 - ix1, iy2 - iy1, color="deepskyblue", alpha=0.45))
    found = parts["iou"] >= 0.5
    ax.set_title(f"흰색 A(정답), 주황 B, 파랑 교집합\nIoU = 교집합 {parts['inter']:.0f} / 합집합 {parts['union']:.0f} = "
                 f"{parts['iou']:.2f} ({'≥ 0.5: 찾음' if found else '< 0.5: 못 찾음'})",
                 color="green" if found else "red", fontsize=10)
    return fig


def iou_explorer(image, box: Sequence[float]) -> None:
    """정답 박스 하나와 옮기고 늘릴 수 있는 박스 하나의 IoU 탐색기."""
    controls = {"dx": _slider("가로 이동(너비의 몇 배)", 0.3, -1.2, 1.2, 0.05),
                "dy": _slider("세로 이동(높이의 몇 배)", 0.0, -1.2, 1.2, 0.05),
                "scale_w": _slider("너비 배율", 1.0, 0.3, 2.0, 0.05),
                "scale_h": _slider("높이 배율", 1.0, 0.3, 2.0, 0.05)}
    show_explorer(lambda **v: draw_iou(image, box, **v), controls)


def draw_nms(image, boxes, scores, labels, class_names, iou_threshold: float, score_threshold: float) -> Figure:
    """왼쪽: 점수 임계값을 넘은 검출 전부, 오른쪽: NMS 뒤에 남은 검출."""
    from .viz import draw_boxes

    boxes, scores = torch.as_tensor(boxes).float(), torch.as_tensor(scores).float()
    labels = torch.zeros(len(scores), dtype=torch.int64) if labels is None else torch.as_tensor(labels)
    passed = scores >= score_threshold
    kept = ex.nms_keep(boxes, scores, iou_threshold, score_threshold, labels)
    fig, axes = _figure(2, 10, 5.2)
    draw_boxes(image, boxes[passed], ax=axes[0, 0], color="tab:cyan", linewidth=1)
    draw_boxes(image, boxes[kept], labels=labels[kept], scores=scores[kept], class_names=class_names, ax=axes[0, 1])
    axes[0, 0].set_title(f"점수 ≥ {score_threshold:.2f}: {int(passed.sum())}개 (전체 {len(scores)}개)", fontsize=10)
    axes[0, 1].set_title(f"NMS(IoU > {iou_threshold:.2f} 이면 지움) 뒤: {len(kept)}개", fontsize=10)
    return fig


def nms_explorer(image, boxes, scores, labels=None, class_names=None, iou_threshold: float = 0.5,
                 score_threshold: float = 0.05) -> None:
    """검출기의 NMS 전 출력에 IoU 임계값과 점수 임계값을 바꿔 가며 NMS 를 적용해 보는 탐색기."""
    controls = {"iou_threshold": _slider("IoU 임계값", iou_threshold, 0.05, 1.0, 0.05),
                "score_threshold": _slider("점수 임계값", score_threshold, 0.0, 0.95, 0.05)}
    show_explorer(lambda **v: draw_nms(image, boxes, scores, labels, class_names, **v), controls)


def draw_anchors(image, feature_size: tuple[int, int], sizes: Sequence[float], aspect_ratios: Sequence[float],
                 row: int, col: int) -> Figure:
    """이미지 위에 특성 맵 격자, 고른 칸, 그 칸 중심의 앵커 k 개."""
    from .viz import draw_boxes, to_rgb_image

    if not sizes or not aspect_ratios:
        raise ValueError("크기와 비율을 하나 이상 고르세요.")
    rgb = to_rgb_image(image)
    (fh, fw), (height, width) = feature_size, rgb.shape[:2]
    row, col = min(row, fh - 1), min(col, fw - 1)
    anchors = ex.anchors_at(row, col, (fh, fw), (height, width), sizes, aspect_ratios)
    sy, sx = height // fh, width // fw
    fig, axes = _figure(1, 5.6, 5.8)
    ax = axes[0, 0]
    ax.imshow(rgb)
    for i in range(1, fw):
        ax.axvline(i * sx - 0.5, color="white", linewidth=0.4, alpha=0.6)
    for i in range(1, fh):
        ax.axhline(i * sy - 0.5, color="white", linewidth=0.4, alpha=0.6)
    ax.add_patch(Rectangle((col * sx - 0.5, row * sy - 0.5), sx, sy, color="red", alpha=0.35))
    draw_boxes(rgb, anchors, ax=ax, color="yellow", linewidth=1.5)
    ax.plot(col * sx, row * sy, "o", color="red", markersize=6)      # 앵커 중심 = 칸 번호 x 스트라이드
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_title(f"특성 맵 {fh}×{fw} (한 칸 = {sy}×{sx}px), 칸 ({row}, {col}), 중심 ({col * sx}, {row * sy})\n"
                 f"앵커 k = {len(sizes)} 크기 × {len(aspect_ratios)} 비율 = {len(anchors)}개", fontsize=10)
    return fig


def anchor_explorer(image, feature_size: tuple[int, int], sizes: Sequence[float],
                    aspect_ratios: Sequence[float]) -> None:
    """특성 맵의 고른 칸에 놓이는 앵커를 크기와 비율을 골라 가며 보는 탐색기."""
    import ipywidgets as widgets

    fh, fw = feature_size
    pick = lambda options, name: widgets.SelectMultiple(options=list(options), value=list(options),  # noqa: E731
                                                       description=name, rows=len(options),
                                                       style={"description_width": "initial"})
    controls = {"row": _slider("행", fh // 2, 0, fh - 1), "col": _slider("열", fw // 2, 0, fw - 1),
                "sizes": pick(sizes, "크기(px)"), "aspect_ratios": pick(aspect_ratios, "비율(높이/너비)")}
    show_explorer(lambda **v: draw_anchors(image, feature_size, **v), controls)


# ----------------------------------------------------------------------------- 전치 합성곱 (14)
def draw_transposed(in_size: int, kernel: int, stride: int, padding: int) -> Figure:
    """왼쪽: 0 끼워 넣기 + 패딩으로 넓힌 입력, 오른쪽: 출력 칸마다 겹친 도장 수 (체커보드)."""
    layout = ex.zero_insertion_layout(in_size, kernel, stride, padding)
    counts = ex.overlap_counts(in_size, kernel, stride, padding)
    fig, axes = _figure(2, 10, 5.0)
    _grid_axes(axes[0, 0], layout, ["#d0d0d0", "white", "tab:blue"],
               f"넓힌 입력 {layout.shape[0]}×{layout.shape[0]}: 파랑 입력, 흰색 끼운 0 ({stride - 1}칸씩), "
               f"회색 패딩 {kernel - 1 - padding}")
    axes[0, 0].add_patch(Rectangle((-0.5, -0.5), kernel, kernel, fill=False, edgecolor="red", linewidth=2))
    ax = axes[0, 1]
    ax.imshow(counts, cmap="viridis", vmin=0, vmax=max(1, counts.max()))
    if counts.shape[0] <= 16:
        for (y, x), v in np.ndenumerate(counts):
            ax.text(x, y, str(v), ha="center", va="center", fontsize=8, color="white" if v < counts.max() else "black")
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    low, high = ex.interior_overlap(kernel, stride)
    even = low == high
    ax.set_title(f"출력 {counts.shape[0]}×{counts.shape[0]}: 칸마다 겹친 도장 수\n"
                 + (f"안쪽은 모두 {low}번: 고름" if even else f"안쪽이 {low}~{high}번으로 고르지 않음: 체커보드"),
                 fontsize=10, color="green" if even else "red")
    fig.suptitle(f"k={kernel}, s={stride}, p={padding}: 빨간 틀 k×k 창을 한 칸씩 옮기며 보통 합성곱 "
                 f"(k % s = {kernel % stride})", fontsize=11)
    return fig


def transposed_explorer(in_size: int = 3, kernel: int = 3, stride: int = 2, padding: int = 0) -> None:
    """전치 합성곱의 0 끼워 넣기와 겹침 수(체커보드) 탐색기."""
    controls = {"in_size": _slider("입력 크기", in_size, 2, 5), "kernel": _slider("커널 k", kernel, 1, 6),
                "stride": _slider("스트라이드 s", stride, 1, 4), "padding": _slider("패딩 p", padding, 0, 4)}
    show_explorer(draw_transposed, controls)


# ----------------------------------------------------------------------------- Atrous 합성곱 (17)
def draw_atrous(kernel: int, rate: int, layers: int, doubling: bool) -> Figure:
    """왼쪽: rate 의 k×k 필터 하나가 읽는 칸, 오른쪽: 층을 쌓았을 때 가운데 출력의 수용 영역(경로 수)."""
    rates = [rate * (2 ** i if doubling else 1) for i in range(layers)]
    one = ex.atrous_footprint(kernel, [rate])
    stack = ex.atrous_footprint(kernel, rates)
    fig, axes = _figure(2, 10, 5.2)
    _grid_axes(axes[0, 0], (one > 0).astype(int), ["white", "tab:orange"],
               f"한 층: {kernel}×{kernel} 필터, rate {rate}, 덮는 넓이 {one.shape[0]}×{one.shape[0]}\n"
               f"(파라미터는 그대로 {kernel * kernel}개)")
    ax = axes[0, 1]
    shown = np.ma.masked_equal(stack, 0)
    ax.imshow(np.zeros_like(stack), cmap=ListedColormap(["#ffdddd"]))
    ax.imshow(shown, cmap="viridis")
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    holes = int((stack == 0).sum())
    ax.set_title(f"rate {rates} 쌓기: 수용 영역 {stack.shape[0]}×{stack.shape[0]}\n"
                 + (f"분홍 구멍 {holes}칸: 한 번도 보지 않는 입력" if holes else "빈틈 없이 모든 칸을 봄"),
                 fontsize=10, color="red" if holes else "green")
    return fig


def atrous_explorer(kernel: int = 3, rate: int = 2, layers: int = 2, doubling: bool = False) -> None:
    """Atrous rate 와 층 수에 따른 샘플 위치와 수용 영역 탐색기."""
    import ipywidgets as widgets

    controls = {"kernel": widgets.ToggleButtons(options=[("3×3", 3), ("5×5", 5)], value=kernel),
                "rate": _slider("rate", rate, 1, 6), "layers": _slider("층 수", layers, 1, 3),
                "doubling": widgets.Checkbox(value=doubling, description="층마다 rate 두 배 (r, 2r, 4r)",
                                             style={"description_width": "initial"})}
    show_explorer(draw_atrous, controls)


# ----------------------------------------------------------------------------- 분할 마스크 임계값 (13, 15)
def draw_threshold(images, probs, targets, index: int, threshold: float) -> Figure:
    """정답 마스크, 임계값으로 자른 예측 마스크, 그리고 임계값에 따른 IoU 곡선."""
    from .viz import overlay_mask

    prob, target = torch.as_tensor(probs[index]), torch.as_tensor(targets[index])
    fig, axes = _figure(3, 12, 4.2)
    overlay_mask(images[index], target, ax=axes[0, 0])
    overlay_mask(images[index], (prob >= threshold).long(), ax=axes[0, 1])
    iou = ex.threshold_iou(prob, target, threshold)
    axes[0, 0].set_title("정답", fontsize=10)
    axes[0, 1].set_title(f"예측(확률 ≥ {threshold:.2f}): IoU {iou:.3f}", fontsize=10)
    grid = np.linspace(0.05, 0.95, 19)
    curve = [ex.threshold_iou(prob, target, t) for t in grid]
    ax = axes[0, 2]
    ax.plot(grid, curve, marker="o", markersize=3)
    ax.axvline(threshold, color="red", linestyle="--")
    ax.set(xlabel="임계값", ylabel="반려동물 IoU", ylim=(0, 1), title="이 이미지의 임계값별 IoU")
    ax.grid(alpha=0.3)
    return fig


def threshold_explorer(images, probs, targets, threshold: float = 0.5) -> None:
    """분할 모델의 전경 확률에 임계값을 바꿔 가며 마스크와 IoU 를 보는 탐색기."""
    controls = {"index": _slider("이미지 번호", 0, 0, len(images) - 1),
                "threshold": _slider("임계값", threshold, 0.05, 0.95, 0.05)}
    show_explorer(lambda **v: draw_threshold(images, probs, targets, **v), controls)


# ----------------------------------------------------------------------------- 신경망은 무엇을 보나 (04, 08)
def show_feature_maps(image, maps: Mapping[str, torch.Tensor], n: int = 8) -> Figure:
    """입력 한 장과, 층마다 가장 크게 반응한 n 채널의 특성 맵 (maps: 이름 -> (1, C, H, W))."""
    from .viz import to_rgb_image

    fig, axes = _figure(n + 1, 1.5 * (n + 1), 1.6 * len(maps) + 0.3, nrows=len(maps))
    axes[0, 0].imshow(to_rgb_image(image))
    axes[0, 0].set_title("입력", fontsize=9)
    for r, (name, fmap) in enumerate(maps.items()):
        strongest = fmap[0].mean(dim=(1, 2)).argsort(descending=True)[:n].tolist()   # 평균 반응이 큰 채널
        for ax, c in zip(axes[r, 1:], strongest):
            ax.imshow(fmap[0, c].cpu().numpy(), cmap="gray")
            ax.set_title(f"{name} #{c}", fontsize=8)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(bool(ax.images))
    return fig


def _mosaic(weight: torch.Tensor, cols: int) -> np.ndarray:
    """필터 (C_out, 3, k, k) 를 필터마다 [0, 1] 로 늘여, 1칸 흰 테두리를 둔 한 장의 RGB 격자로 붙입니다."""
    w = weight.detach().cpu().float()
    lo, hi = w.amin(dim=(1, 2, 3), keepdim=True), w.amax(dim=(1, 2, 3), keepdim=True)
    w = ((w - lo) / (hi - lo).clamp_min(1e-12)).permute(0, 2, 3, 1).numpy()   # (C_out, k, k, 3)
    n, k = len(w), w.shape[1]
    rows = -(-n // cols)
    canvas = np.ones((rows * (k + 1) + 1, cols * (k + 1) + 1, 3), np.float32)
    for i in range(n):
        y, x = (i // cols) * (k + 1) + 1, (i % cols) * (k + 1) + 1
        canvas[y:y + k, x:x + k] = w[i]
    return canvas


def show_filters(weights: Mapping[str, torch.Tensor], cols: int = 8) -> Figure:
    """첫 합성곱 층의 필터 (C_out, 3, k, k) 들을 이름마다 한 칸에 RGB 격자로 그립니다 (예: 학습 전, 학습 후)."""
    fig, axes = _figure(len(weights), 4.6 * len(weights), 2.8)
    for ax, (name, weight) in zip(axes[0], weights.items()):
        ax.imshow(_mosaic(weight, cols), interpolation="nearest")
        ax.set_title(f"{name}: 필터 {weight.shape[0]}개 ({weight.shape[-1]}×{weight.shape[-1]})", fontsize=10)
        ax.set_axis_off()
    return fig


def show_cams(images, cams: torch.Tensor, titles: Sequence[str], colors: Sequence[str] | None = None,
              cols: int = 4) -> Figure:
    """이미지 위에 Grad-CAM 을 겹쳐 그립니다 (빨강일수록 그 클래스 점수에 크게 기여한 곳)."""
    from .viz import to_rgb_image

    rows = -(-len(titles) // cols)
    fig, axes = _figure(cols, 2.6 * cols, 2.8 * rows, nrows=rows)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < len(titles):
            ax.imshow(to_rgb_image(images[i]))
            ax.imshow(cams[i].cpu().numpy(), cmap="jet", alpha=0.45, vmin=0, vmax=1)
            ax.set_title(titles[i], fontsize=9, color="black" if colors is None else colors[i])
    return fig
