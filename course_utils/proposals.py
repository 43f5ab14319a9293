"""후보 영역(region proposal) 도구: 슬라이딩 윈도우, OpenCV 선택적 탐색, 직접 쓴 선택적 탐색.

선택적 탐색(Uijlings et al., 2013)의 세 단계를 그대로 따릅니다.
1. 초기 영역: 그래프 기반 분할(Felzenszwalb-Huttenlocher, OpenCV 구현)로 이미지를 작은 영역 여러 개로 나눕니다.
2. 작은 영역의 통합: 이웃한 두 영역 가운데 색·질감·크기·채움 유사도가 가장 큰 쌍을 탐욕적으로 합치기를
   영역이 하나가 될 때까지 되풀이합니다.
3. 후보 영역: 합치는 동안 나온 모든 영역(처음 영역 포함)의 바운딩 박스를 후보로 씁니다.
09번 노트북이 같은 코드를 한 단계씩 풀어 쓰고, 10번 노트북(R-CNN)은 여기서 가져다 씁니다.
모든 박스는 (x1, y1, x2, y2) 픽셀 좌표입니다.
"""
from __future__ import annotations

import heapq
from typing import Sequence

import cv2
import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .images import to_rgb

__all__ = [
    "to_rgb_array", "sliding_windows", "opencv_selective_search", "initial_regions",
    "region_features", "adjacent_pairs", "similarity", "hierarchical_grouping", "selective_search",
]

COLOUR_BINS = 25      # 채널마다 색 히스토그램 칸 수 (논문 값)
TEXTURE_BINS = 10     # 방향마다 질감 히스토그램 칸 수 (논문 값)
ORIENTATIONS = 8      # 질감: 가우시안 미분의 방향 수 (논문 값)


def to_rgb_array(image) -> np.ndarray:
    """PIL 이미지, (3, H, W) 텐서, (H, W, 3) 배열을 (H, W, 3) uint8 RGB 배열로 바꿉니다.

    PIL 이미지는 어떤 모드든 images.to_rgb 의 규칙으로 바꿉니다(투명 영역은 흰 바탕).
    """
    if isinstance(image, Image.Image):
        image = to_rgb(image)
    if isinstance(image, Tensor):
        arr = image.detach().cpu()
        if arr.is_floating_point():
            arr = (arr.clamp(0, 1) * 255).round()
        arr = arr.to(torch.uint8).permute(1, 2, 0).numpy()         # (3, H, W) -> (H, W, 3)
    else:
        arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"RGB 이미지가 필요합니다 (H, W, 3). 받은 모양: {arr.shape}. 흑백이나 RGBA 배열이면 PIL 이미지로 넘기세요(Image.fromarray).")
    return np.ascontiguousarray(arr.astype(np.uint8))


def sliding_windows(image_size: tuple[int, int], window_sizes: Sequence[int] = (32, 64, 128),
                    aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0), stride_fraction: float = 0.25) -> Tensor:
    """슬라이딩 윈도우: 크기 x 비율(높이/너비)마다 윈도우를 stride = 윈도우 변 x stride_fraction 간격으로 옮깁니다."""
    H, W = image_size
    out = []
    for size in window_sizes:
        for ratio in aspect_ratios:
            w, h = round(size / ratio ** 0.5), round(size * ratio ** 0.5)
            if w > W or h > H:
                continue
            sx, sy = max(1, round(w * stride_fraction)), max(1, round(h * stride_fraction))
            xs, ys = torch.arange(0, W - w + 1, sx), torch.arange(0, H - h + 1, sy)
            yy, xx = torch.meshgrid(ys, xs, indexing="ij")
            out.append(torch.stack([xx, yy, xx + w, yy + h], dim=-1).reshape(-1, 4))
    return torch.cat(out).float() if out else torch.zeros(0, 4)


def _resize_for_search(rgb: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    scale = 1.0
    if max_side and max(rgb.shape[:2]) > max_side:
        scale = max_side / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    return rgb, scale


def opencv_selective_search(image, mode: str = "fast", max_side: int | None = None,
                            max_boxes: int | None = None) -> Tensor:
    """OpenCV(contrib)의 선택적 탐색. mode='fast' 또는 'quality'. 원본 좌표의 (N, 4) XYXY 박스를 돌려줍니다.

    OpenCV 는 BGR 이미지를 받고 (x, y, w, h) 를 돌려주므로 둘 다 여기서 바꿉니다.
    """
    if not hasattr(cv2, "ximgproc"):
        raise ImportError("cv2.ximgproc 가 없습니다. opencv-contrib-python-headless 를 설치하세요 (opencv-python 과 함께 두지 마세요).")
    rgb, scale = _resize_for_search(to_rgb_array(image), max_side)
    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    ss.setBaseImage(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if mode == "fast":
        ss.switchToSelectiveSearchFast()
    elif mode == "quality":
        ss.switchToSelectiveSearchQuality()
    else:
        raise ValueError(f"mode 는 'fast' 또는 'quality' 입니다. 받은 값: {mode!r}")
    xywh = torch.as_tensor(ss.process(), dtype=torch.float32).reshape(-1, 4)
    boxes = torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], dim=1) / scale
    return boxes[:max_boxes] if max_boxes else boxes


# ---------- 직접 쓴 선택적 탐색 ----------

def initial_regions(rgb: np.ndarray, k: float = 100, sigma: float = 0.8, min_size: int = 50) -> np.ndarray:
    """1단계: 그래프 기반 분할로 초기 영역을 만듭니다. (H, W) int32 라벨 (0 .. R-1).

    k 가 클수록 영역이 커지고 개수는 줄어듭니다. min_size 픽셀보다 작은 영역은 이웃과 합쳐집니다.
    """
    seg = cv2.ximgproc.segmentation.createGraphSegmentation(sigma, float(k), int(min_size))
    return seg.processImage(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)).astype(np.int32)


def _convert(rgb: np.ndarray, colour_space: str) -> np.ndarray:
    if colour_space == "rgb":
        return rgb
    code = {"hsv": cv2.COLOR_RGB2HSV_FULL, "lab": cv2.COLOR_RGB2Lab}.get(colour_space)
    if code is None:
        raise ValueError(f"colour_space 는 'hsv', 'lab', 'rgb' 중 하나입니다. 받은 값: {colour_space!r}")
    return cv2.cvtColor(rgb, code)


def _grouped_hist(labels: np.ndarray, bins: np.ndarray, n_regions: int, n_bins: int) -> np.ndarray:
    """영역마다 bins 값의 히스토그램 (R, n_bins)."""
    flat = labels.ravel().astype(np.int64) * n_bins + bins.ravel()
    return np.bincount(flat, minlength=n_regions * n_bins).reshape(n_regions, n_bins).astype(np.float64)


def region_features(rgb: np.ndarray, labels: np.ndarray, colour_space: str = "hsv") -> dict[str, np.ndarray]:
    """영역마다 크기(픽셀 수), 박스, 색 히스토그램(3 x 25), 질감 히스토그램(3 x 8 x 10)을 구합니다.

    히스토그램은 합이 1 이 되도록(L1) 정규화합니다.
    """
    img = _convert(rgb, colour_space)
    R = int(labels.max()) + 1
    H, W = labels.shape
    size = np.bincount(labels.ravel(), minlength=R).astype(np.float64)
    ys, xs = np.mgrid[0:H, 0:W]
    box = np.empty((R, 4), dtype=np.float64)
    box[:, :2] = (W, H)                           # 최솟값을 구할 x1, y1 은 가장 큰 값에서
    box[:, 2:] = 0                                # 최댓값을 구할 x2, y2 는 0에서 시작
    np.minimum.at(box[:, 0], labels.ravel(), xs.ravel())
    np.minimum.at(box[:, 1], labels.ravel(), ys.ravel())
    np.maximum.at(box[:, 2], labels.ravel(), xs.ravel() + 1)
    np.maximum.at(box[:, 3], labels.ravel(), ys.ravel() + 1)

    colour, texture = [], []
    angles = np.arange(ORIENTATIONS) * (2 * np.pi / ORIENTATIONS)
    for c in range(3):
        chan = img[..., c].astype(np.float32)
        colour.append(_grouped_hist(labels, (chan.astype(np.int64) * COLOUR_BINS) // 256, R, COLOUR_BINS))
        smooth = cv2.GaussianBlur(chan, (0, 0), 1.0)                  # 가우시안(σ=1) 미분
        gx, gy = cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
        for a in angles:
            resp = np.maximum(np.cos(a) * gx + np.sin(a) * gy, 0)  # 그 방향으로의 밝기 변화
            top = float(resp.max()) or 1.0
            bins = np.minimum((resp / top * TEXTURE_BINS).astype(np.int64), TEXTURE_BINS - 1)
            texture.append(_grouped_hist(labels, bins, R, TEXTURE_BINS))
    colour, texture = np.concatenate(colour, 1), np.concatenate(texture, 1)
    colour /= colour.sum(1, keepdims=True)
    texture /= texture.sum(1, keepdims=True)
    return {"size": size, "box": box, "colour": colour, "texture": texture}


def adjacent_pairs(labels: np.ndarray) -> np.ndarray:
    """맞닿은(상하좌우·대각선) 영역 쌍 (P, 2), i < j."""
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel(), labels[:-1, :-1].ravel(), labels[:-1, 1:].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel(), labels[1:, 1:].ravel(), labels[1:, :-1].ravel()])
    diff = a != b
    pairs = np.stack([np.minimum(a[diff], b[diff]), np.maximum(a[diff], b[diff])], 1)
    return np.unique(pairs, axis=0)


def similarity(ri: dict, rj: dict, image_area: float, use: str = "CTSF") -> float:
    """두 영역의 유사도 = 색(C) + 질감(T) + 크기(S) + 채움(F) 중 use 에 든 것의 합 (각각 0..1)."""
    s = 0.0
    if "C" in use:
        s += np.minimum(ri["colour"], rj["colour"]).sum()           # 히스토그램 교집합
    if "T" in use:
        s += np.minimum(ri["texture"], rj["texture"]).sum()
    if "S" in use:
        s += 1.0 - (ri["size"] + rj["size"]) / image_area             # 작은 영역끼리 먼저 합치기
    if "F" in use:
        bw = max(ri["box"][2], rj["box"][2]) - min(ri["box"][0], rj["box"][0])
        bh = max(ri["box"][3], rj["box"][3]) - min(ri["box"][1], rj["box"][1])
        s += 1.0 - (bw * bh - ri["size"] - rj["size"]) / image_area   # 서로 빈틈을 메우는 영역끼리
    return float(s)


def _merge(ri: dict, rj: dict) -> dict:
    n = ri["size"] + rj["size"]
    return {"size": n,
            "box": np.array([min(ri["box"][0], rj["box"][0]), min(ri["box"][1], rj["box"][1]),
                             max(ri["box"][2], rj["box"][2]), max(ri["box"][3], rj["box"][3])]),
            "colour": (ri["size"] * ri["colour"] + rj["size"] * rj["colour"]) / n,   # 크기 가중 평균
            "texture": (ri["size"] * ri["texture"] + rj["size"] * rj["texture"]) / n}


def hierarchical_grouping(features: dict[str, np.ndarray], pairs: np.ndarray, image_area: float,
                          use: str = "CTSF") -> tuple[np.ndarray, np.ndarray]:
    """2단계: 가장 비슷한 이웃 쌍을 합치기를 영역이 하나 남을 때까지 되풀이합니다(탐욕 알고리즘).

    돌려주는 값: 모든 영역의 박스 (처음 R개 + 합친 R-1개, 만들어진 순서) 와 각 박스의 계층 순위
    (1 = 맨 마지막에 합쳐진 가장 큰 영역; 값이 작을수록 위층).
    """
    R = len(features["size"])
    regions = {i: {k: features[k][i] for k in ("size", "box", "colour", "texture")} for i in range(R)}
    neighbours: dict[int, set[int]] = {i: set() for i in range(R)}
    heap = []
    for i, j in pairs.tolist():
        neighbours[i].add(j)
        neighbours[j].add(i)
        heap.append((-similarity(regions[i], regions[j], image_area, use), i, j))
    heapq.heapify(heap)
    boxes = [features["box"][i] for i in range(R)]
    alive = set(range(R))
    while heap:
        _, i, j = heapq.heappop(heap)
        if i not in alive or j not in alive:          # 이미 합쳐져 사라진 영역의 낡은 항목
            continue
        t = len(boxes)
        regions[t] = _merge(regions.pop(i), regions.pop(j))
        alive -= {i, j}
        neighbours[t] = (neighbours.pop(i) | neighbours.pop(j)) - {i, j}
        for n in neighbours[t]:
            neighbours[n] -= {i, j}
            neighbours[n].add(t)
            heapq.heappush(heap, (-similarity(regions[t], regions[n], image_area, use), n, t))
        alive.add(t)
        boxes.append(regions[t]["box"])
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    rank = np.arange(len(boxes), 0, -1)               # 늦게 만들어진 영역일수록 위층(순위 1)
    return boxes, rank


def selective_search(image, ks: Sequence[float] = (100,), colour_spaces: Sequence[str] = ("hsv",),
                     sims: Sequence[str] = ("CTSF",), sigma: float = 0.8, min_size: int = 50,
                     max_side: int | None = None, max_boxes: int | None = None, seed: int = 0) -> Tensor:
    """직접 쓴 선택적 탐색. 여러 전략(k x 색 공간 x 유사도 조합)의 결과를 합쳐 순위대로 돌려줍니다.

    순위는 논문처럼 (계층 순위 x 0..1 난수) 가 작은 순서이며, 같은 박스는 한 번만 남깁니다.
    돌려주는 값: 원본 좌표의 (N, 4) XYXY float 텐서.
    """
    rgb, scale = _resize_for_search(to_rgb_array(image), max_side)
    rng = np.random.default_rng(seed)
    all_boxes, all_keys = [], []
    area = float(rgb.shape[0] * rgb.shape[1])
    for k in ks:
        labels = initial_regions(rgb, k=k, sigma=sigma, min_size=min_size)
        pairs = adjacent_pairs(labels)
        for cs in colour_spaces:
            feats = region_features(rgb, labels, cs)
            for use in sims:
                boxes, rank = hierarchical_grouping(feats, pairs, area, use)
                all_boxes.append(boxes)
                all_keys.append(rank * rng.random(len(rank)))
    boxes, keys = np.concatenate(all_boxes), np.concatenate(all_keys)
    boxes = boxes[np.argsort(keys, kind="stable")]
    _, first = np.unique(boxes, axis=0, return_index=True)          # 같은 박스는 순위가 가장 높은 것 하나
    boxes = boxes[np.sort(first)]
    out = torch.as_tensor(boxes, dtype=torch.float32) / scale
    return out[:max_boxes] if max_boxes else out
