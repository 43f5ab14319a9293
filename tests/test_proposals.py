"""course_utils.proposals: 슬라이딩 윈도우, 선택적 탐색(OpenCV, 직접 구현)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import proposals as P
from course_utils.boxes import proposal_recall


def toy_image(size: int = 96, seed: int = 0) -> tuple[np.ndarray, torch.Tensor]:
    """잡음 낀 회색 배경 위에 색이 다른 사각형 두 개. 정답 박스도 돌려줍니다."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal(120, 6, (size, size, 3)), 0, 255).astype(np.uint8)
    img[10:50, 8:40] = (220, 40, 40)
    img[55:90, 50:92] = (30, 60, 200)
    return img, torch.tensor([[8., 10., 40., 50.], [50., 55., 92., 90.]])


def test_to_rgb_array_accepts_tensor_pil_array():
    img, _ = toy_image()
    chw = torch.from_numpy(img).permute(2, 0, 1)
    assert np.array_equal(P.to_rgb_array(chw), img)
    assert np.array_equal(P.to_rgb_array(chw.float() / 255), img)
    assert np.array_equal(P.to_rgb_array(Image.fromarray(img)), img)
    with pytest.raises(ValueError, match="RGB"):
        P.to_rgb_array(np.zeros((5, 5)))


def test_sliding_windows_count_matches_formula():
    H, W = 100, 160
    win = P.sliding_windows((H, W), window_sizes=(32,), aspect_ratios=(1.0,), stride_fraction=0.25)
    assert len(win) == ((W - 32) // 8 + 1) * ((H - 32) // 8 + 1)
    assert (win[:, 2] - win[:, 0] == 32).all() and (win[:, 2] <= W).all() and (win[:, 3] <= H).all()
    many = P.sliding_windows((H, W), (32, 64), (0.5, 1.0, 2.0), 0.25)
    h_over_w = (many[:, 3] - many[:, 1]) / (many[:, 2] - many[:, 0])
    assert set(torch.round(h_over_w, decimals=1).tolist()) == {0.5, 1.0, 2.0}
    assert len(P.sliding_windows((10, 10), (64,))) == 0                  # 이미지보다 큰 윈도우는 없음


def test_initial_regions_and_adjacent_pairs():
    labels = np.array([[0, 0, 1], [0, 2, 1], [3, 3, 1]])
    pairs = P.adjacent_pairs(labels)
    assert {tuple(p) for p in pairs.tolist()} == {(0, 1), (0, 2), (1, 2), (0, 3), (2, 3), (1, 3)}
    assert (pairs[:, 0] < pairs[:, 1]).all()
    img, _ = toy_image()
    lab = P.initial_regions(img, k=100, min_size=20)
    assert lab.shape == img.shape[:2] and lab.min() == 0 and lab.max() >= 2


def test_region_features_are_consistent():
    img, _ = toy_image()
    lab = P.initial_regions(img, k=100, min_size=20)
    f = P.region_features(img, lab)
    R = lab.max() + 1
    assert f["colour"].shape == (R, 75) and f["texture"].shape == (R, 240)
    assert np.allclose(f["colour"].sum(1), 1) and np.allclose(f["texture"].sum(1), 1)
    assert f["size"].sum() == lab.size
    for r in range(R):
        ys, xs = np.nonzero(lab == r)
        assert f["box"][r].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_similarity_terms():
    a = {"size": 10.0, "box": np.array([0, 0, 5, 2]), "colour": np.array([1.0, 0]), "texture": np.array([0.5, 0.5])}
    b = {"size": 10.0, "box": np.array([5, 0, 10, 2]), "colour": np.array([0, 1.0]), "texture": np.array([0.5, 0.5])}
    assert P.similarity(a, b, 100.0, "C") == 0.0                       # 색이 전혀 다름
    assert P.similarity(a, b, 100.0, "T") == 1.0                       # 질감은 같음
    assert P.similarity(a, b, 100.0, "S") == pytest.approx(0.8)
    assert P.similarity(a, b, 100.0, "F") == pytest.approx(1.0)        # 합친 박스 10x2 = 20 = 두 영역 넓이 합
    assert P.similarity(a, b, 100.0) == pytest.approx(2.8)


def test_hierarchical_grouping_makes_2r_minus_1_regions_ending_in_whole_image():
    img, _ = toy_image()
    lab = P.initial_regions(img, k=100, min_size=20)
    R = lab.max() + 1
    boxes, rank = P.hierarchical_grouping(P.region_features(img, lab), P.adjacent_pairs(lab), float(lab.size))
    assert boxes.shape == (2 * R - 1, 4)
    assert boxes[-1].tolist() == [0, 0, img.shape[1], img.shape[0]]
    assert rank[-1] == 1 and rank[0] == 2 * R - 1
    # 합친 영역의 박스는 항상 이미지 안
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= img.shape[1]).all()


def test_selective_search_finds_toy_objects_and_scales_back():
    img, gt = toy_image()
    props = P.selective_search(img, ks=(50, 100), colour_spaces=("hsv", "lab"), min_size=20)
    assert props.dtype == torch.float32 and props.shape[1] == 4
    assert len(torch.unique(props, dim=0)) == len(props)                # 중복 없음
    assert proposal_recall(props, gt, iou=0.7) == 1.0
    # 크게 키운 이미지를 max_side 로 줄여 탐색해도 좌표는 원래 크기
    big = np.kron(img, np.ones((3, 3, 1), dtype=np.uint8))
    small = P.selective_search(big, min_size=20, max_side=96)
    assert proposal_recall(small, gt * 3, iou=0.7) == 1.0
    assert small.max() <= 288 and small.max() > 200


def test_opencv_selective_search_converts_xywh_and_finds_objects():
    img, gt = toy_image()
    props = P.opencv_selective_search(img, mode="fast")
    assert (props[:, 2] > props[:, 0]).all() and (props[:, 3] > props[:, 1]).all()
    assert props[:, 2].max() <= img.shape[1] and props[:, 3].max() <= img.shape[0]
    assert proposal_recall(props, gt, iou=0.7) == 1.0
    assert len(P.opencv_selective_search(img, mode="fast", max_boxes=5)) == 5
    with pytest.raises(ValueError):
        P.opencv_selective_search(img, mode="slow")


def _oxford_samples(shared_data, n):
    root = shared_data / "oxford-pets-sample"
    coco = json.loads((root / "instances.json").read_text())
    boxes = {}
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        boxes.setdefault(a["image_id"], []).append([x, y, x + w, y + h])
    recs = coco["images"][:: max(1, len(coco["images"]) // n)][:n]
    return [(np.array(Image.open(root / r["file_name"]).convert("RGB")), torch.tensor(boxes[r["id"]]))
            for r in recs]


def test_real_photos_recall(shared_data):
    samples = _oxford_samples(shared_data, 6)
    ours = [P.selective_search(img, max_side=256) for img, _ in samples]
    cv = [P.opencv_selective_search(img, mode="fast", max_side=256) for img, _ in samples]
    gts = [g for _, g in samples]
    assert proposal_recall(ours, gts, iou=0.5) >= 0.8
    assert proposal_recall(cv, gts, iou=0.5) >= 0.8


def test_transparent_pil_image_is_white_like_load_rgb():
    rgba = Image.new("RGBA", (5, 5), (255, 0, 0, 0))   # 완전히 투명한 빨강
    assert (P.to_rgb_array(rgba) == 255).all()
    assert P.to_rgb_array(Image.new("L", (5, 5), 7)).shape == (5, 5, 3)   # 흑백도 세 채널로
