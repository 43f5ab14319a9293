"""오프라인 합성 데이터: 만화풍 고양이/개 얼굴 (분류용 폴더, 검출·분할용 COCO).

실제 사진이 없을 때(오프라인, 빠른 모드, CI) 같은 코드 경로를 돌리기 위한 데이터입니다.
고양이는 뾰족한 삼각형 귀, 작은 코, 수염, 세로 동공의 아몬드형 눈을, 개는 늘어진 둥근 귀,
큰 주둥이, 큰 코, 혀를 주로 갖지만, 단서마다 일부는 반대쪽 종에도 나타나므로(겹침)
한두 번의 갱신으로는 풀리지 않고 실제 학습이 필요합니다.

같은 seed 는 같은 바이트의 JPEG 를 만듭니다. 이미지마다 ``(seed, 종류, 번호)`` 로 난수
생성기를 따로 만들기 때문에 개수를 바꿔도 앞쪽 이미지는 그대로입니다.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

__all__ = ["make_classification_set", "make_detection_set", "make_coco_set", "render_pet_image",
           "render_detection_image", "mask_to_polygons", "GENERATOR_VERSION", "COCO_KINDS"]

GENERATOR_VERSION = 3
_MARKER = ".synthetic.json"
_SHIFT = 4  # cv2 의 소수점 좌표(1/16 픽셀) 그리기
_SCALE = float(1 << _SHIFT)
CAT, DOG = 0, 1
_SPECIES = ("cat", "dog")
COCO_KINDS = ("cat", "dog", "person", "car")  # make_coco_set이 그릴 줄 아는 범주 이름

# 털 색(RGB): 두 종이 같은 분포를 쓰므로 색만으로는 구분할 수 없습니다.
_FUR = np.array([
    [230, 140, 60], [120, 120, 125], [40, 40, 45], [235, 230, 220], [150, 95, 55],
    [225, 200, 150], [190, 110, 60], [90, 70, 60], [200, 200, 205], [170, 140, 100],
], dtype=np.float64)


# ----------------------------------------------------------------------------- 도형 도우미
def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 28) -> np.ndarray:
    """정규 좌표계의 타원을 다각형 점 (n, 2) 로 돌려줍니다."""
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _color(rgb) -> tuple[int, int, int]:
    """RGB 를 OpenCV 가 쓰는 BGR 정수 튜플로 바꿉니다."""
    r, g, b = np.clip(np.asarray(rgb, dtype=np.float64), 0, 255)
    return int(b), int(g), int(r)


def _shade(rgb: np.ndarray, k: float) -> np.ndarray:
    return np.clip(rgb * k, 0, 255)


class _Canvas:
    """정규 좌표(머리 반지름 1, 중심 0)를 이미지 좌표로 옮겨 그리는 작은 도우미."""

    def __init__(self, img: np.ndarray, center, radius: float, angle: float, mask: np.ndarray | None):
        self.img, self.mask = img, mask
        c, s = np.cos(angle), np.sin(angle)
        self.m = radius * np.array([[c, -s], [s, c]])
        self.t = np.asarray(center, dtype=np.float64)
        self.radius = radius

    def _px(self, pts: np.ndarray) -> np.ndarray:
        p = pts @ self.m.T + self.t
        return np.round(p * _SCALE).astype(np.int32).reshape(-1, 1, 2)

    def poly(self, pts: np.ndarray, rgb, body: bool = False) -> None:
        p = self._px(pts)
        cv2.fillPoly(self.img, [p], _color(rgb), cv2.LINE_AA, _SHIFT)
        if body and self.mask is not None:
            cv2.fillPoly(self.mask, [p], 1, cv2.LINE_8, _SHIFT)

    def line(self, pts: np.ndarray, rgb, width: float) -> None:
        th = max(1, int(round(width * self.radius)))
        cv2.polylines(self.img, [self._px(pts)], False, _color(rgb), th, cv2.LINE_AA, _SHIFT)


# ----------------------------------------------------------------------------- 얼굴 부분
def _draw_ears(cv: _Canvas, rng: np.random.Generator, pointed: bool, species: int, fur, ry: float) -> None:
    """귀 두 개: 뾰족한 삼각형(고양이), 끝이 둥근 선 귀(일부 개), 옆으로 처진 귀(대부분의 개)."""
    inner = np.array([235, 160, 170]) if rng.random() < 0.7 else _shade(fur, 0.7)
    ear_col = fur if rng.random() < 0.6 else _shade(fur, rng.uniform(0.5, 0.8))
    spread = rng.uniform(0.45, 0.8)  # 귀가 옆으로 벌어진 정도(라디안)
    for side in (-1, 1):
        a = side * spread
        base = np.array([np.sin(a), -np.cos(a) * ry])  # 머리 위 테두리
        up = np.array([np.sin(a), -np.cos(a)])
        tang = np.array([np.cos(a), np.sin(a)])
        if pointed:
            h = rng.uniform(0.55, 0.85) if species == CAT else rng.uniform(0.6, 0.95)
            w = rng.uniform(0.28, 0.36) if species == CAT else rng.uniform(0.32, 0.45)
            base = base * 0.82
            tip = base + up * h + tang * side * rng.uniform(-0.05, 0.12)
            if species == CAT:  # 뾰족한 삼각형
                ear = np.stack([base - tang * w, tip, base + tang * w])
            else:  # 개의 선 귀: 위로 길쭉한 타원이라 끝이 둥글다
                ear = _ellipse(*(base + up * h * 0.45), h * 0.55, w * 0.8, np.arctan2(up[1], up[0]), 16)
            cv.poly(ear, ear_col, body=True)
            c = ear.mean(axis=0)
            cv.poly(c + (ear - c) * 0.55 + up * 0.05, inner)
        else:  # 늘어진 귀: 머리 옆으로 처진 긴 타원
            L = rng.uniform(0.55, 0.8) if species == DOG else rng.uniform(0.3, 0.45)
            W = rng.uniform(0.22, 0.32)
            top = np.array([side * rng.uniform(0.6, 0.8), -ry * rng.uniform(0.5, 0.7)])
            ang = side * rng.uniform(0.1, 0.5)
            centre = top + np.array([side * 0.2, L * 0.75])
            cv.poly(_ellipse(*centre, W, L, ang), ear_col if species == CAT else _shade(fur, rng.uniform(0.45, 0.85)), body=True)


def _draw_eyes(cv: _Canvas, rng: np.random.Generator, almond: bool, fur) -> None:
    dx, y = rng.uniform(0.3, 0.42), rng.uniform(-0.2, 0.0)
    iris = np.array([[120, 200, 80], [230, 200, 60], [110, 180, 220], [200, 150, 60]])[rng.integers(4)]
    tilt = rng.uniform(0.1, 0.35)
    for side in (-1, 1):
        cx = side * dx
        if almond:
            rx, ry_ = rng.uniform(0.14, 0.19), rng.uniform(0.08, 0.12)
            cv.poly(_ellipse(cx, y, rx, ry_, -side * tilt), iris)
            cv.poly(_ellipse(cx, y, rng.uniform(0.02, 0.04), ry_ * 0.95, -side * tilt), (15, 15, 15))
        else:
            r = rng.uniform(0.09, 0.13)
            cv.poly(_ellipse(cx, y, r, r), (25, 20, 20))
            cv.poly(_ellipse(cx - r * 0.3, y - r * 0.35, r * 0.3, r * 0.3), (250, 250, 250))


def _draw_face(cv: _Canvas, rng: np.random.Generator, species: int) -> None:
    """한 마리의 얼굴을 그립니다. 단서마다 확률이 다르게 겹쳐 있습니다."""
    cat = species == CAT
    fur = np.clip(_FUR[rng.integers(len(_FUR))] + rng.normal(0, 15, 3), 0, 255)
    rx, ry = rng.uniform(0.85, 1.05), rng.uniform(0.78, 1.0)
    pointed = rng.random() < (0.88 if cat else 0.22)
    _draw_ears(cv, rng, pointed, species, fur, ry)
    cv.poly(_ellipse(0, 0, rx, ry, 0, 36), fur, body=True)
    if rng.random() < 0.45:  # 얼룩 무늬(두 종 공통)
        cv.poly(_ellipse(rng.uniform(-0.5, 0.5), rng.uniform(-0.6, 0.2), rng.uniform(0.2, 0.45),
                         rng.uniform(0.15, 0.35), rng.uniform(0, np.pi)), _shade(fur, rng.uniform(0.4, 1.4)))
    if rng.random() < (0.35 if cat else 0.12):  # 이마 줄무늬
        for k in (-1, 0, 1):
            cv.line(np.array([[k * 0.18, -ry * 0.9], [k * 0.14, -ry * 0.55]]), _shade(fur, 0.55), 0.07)
    # 주둥이: 개가 크고 아래로 나옴 (분포가 겹칩니다)
    m_rx = rng.uniform(0.22, 0.42) if cat else rng.uniform(0.34, 0.58)
    m_ry = m_rx * rng.uniform(0.6, 0.85)
    m_y = rng.uniform(0.3, 0.42) if cat else rng.uniform(0.38, 0.6)
    muzzle_col = _shade(fur, 1.3) if rng.random() < 0.5 else np.array([240, 232, 220])
    cv.poly(_ellipse(0, m_y, m_rx, m_ry), muzzle_col, body=True)
    _draw_eyes(cv, rng, rng.random() < (0.75 if cat else 0.15), fur)
    # 코: 고양이는 작은 분홍 삼각형, 개는 큰 검은 타원 (가끔 반대)
    big_nose = rng.random() < (0.12 if cat else 0.85)
    ny = m_y - m_ry * rng.uniform(0.45, 0.7)
    if big_nose:
        cv.poly(_ellipse(0, ny, rng.uniform(0.13, 0.2), rng.uniform(0.08, 0.12)), (30, 25, 25))
    else:
        w = rng.uniform(0.06, 0.1)
        nose_col = (230, 130, 150) if rng.random() < 0.75 else (60, 40, 40)
        cv.poly(np.array([[-w, ny - w * 0.5], [w, ny - w * 0.5], [0, ny + w * 0.6]]), nose_col)
    mouth_y = ny + 0.12
    cv.line(np.array([[-0.12, mouth_y + 0.05], [0, mouth_y], [0.12, mouth_y + 0.05]]), (40, 30, 30), 0.035)
    if rng.random() < (0.05 if cat else 0.55):  # 혀
        cv.poly(_ellipse(rng.uniform(-0.05, 0.05), mouth_y + 0.16, rng.uniform(0.09, 0.14), rng.uniform(0.12, 0.2)),
                (225, 80, 100), body=True)
    if rng.random() < (0.85 if cat else 0.12):  # 수염
        col = (245, 245, 245) if fur.mean() < 110 else (35, 35, 35)
        L = rng.uniform(0.45, 0.7) if cat else rng.uniform(0.2, 0.35)
        for side in (-1, 1):
            for k in (-1, 0, 1):
                x0 = side * m_rx * 0.5
                cv.line(np.array([[x0, m_y], [x0 + side * L, m_y + k * 0.13 - 0.04]]), col, 0.025)


def _draw_person(cv: _Canvas, rng: np.random.Generator) -> None:
    """사람 한 명 (정규 좌표: 머리 반지름 1, 머리 중심이 원점, 발끝은 y = 6 근처): 다리, 몸통, 팔, 머리."""
    skin = np.array([[240, 205, 180], [200, 150, 110], [140, 95, 65], [90, 60, 45]])[rng.integers(4)]
    shirt, pants = rng.uniform(30, 230, 3), rng.uniform(20, 150, 3)
    for side in (-1, 1):
        cv.poly(_ellipse(side * 0.45, 4.3, 0.38, 1.7, side * rng.uniform(-0.15, 0.05)), pants, body=True)
    cv.poly(_ellipse(0, 2.1, 1.0, 1.6), shirt, body=True)
    for side in (-1, 1):
        cv.poly(_ellipse(side * 1.15, 2.2, 0.28, 1.35, -side * rng.uniform(0.05, 0.6)), _shade(shirt, 0.85), body=True)
    cv.poly(_ellipse(0, 0, 0.85, 1.0), skin, body=True)
    cv.poly(_ellipse(0, -0.55, 0.85, 0.45), np.array([40, 30, 25]) * rng.uniform(0.5, 3.0))  # 머리카락


def _draw_car(cv: _Canvas, rng: np.random.Generator) -> None:
    """옆에서 본 자동차 한 대 (정규 좌표: 너비 약 4, 높이 약 2.2, 중심이 원점): 차체, 창문 있는 지붕, 바퀴 둘."""
    paint = rng.uniform(40, 240, 3)
    cv.poly(np.array([[-1.2, -0.2], [-0.7, -1.1], [0.8, -1.1], [1.3, -0.2]]), _shade(paint, 0.85), body=True)
    cv.poly(np.array([[-0.95, -0.3], [-0.6, -0.95], [0.65, -0.95], [1.0, -0.3]]), (170, 210, 235))  # 창문
    cv.poly(np.array([[-2.0, -0.3], [2.0, -0.3], [2.0, 0.7], [-2.0, 0.7]]), paint, body=True)
    for x in (-1.2, 1.2):
        cv.poly(_ellipse(x, 0.75, 0.45, 0.45), (25, 25, 25), body=True)
        cv.poly(_ellipse(x, 0.75, 0.2, 0.2), (160, 160, 160))


# ----------------------------------------------------------------------------- 배경, 잡음
def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """저주파 얼룩 + 줄무늬/격자 + 방해 도형으로 된 배경 (BGR uint8)."""
    g = int(rng.integers(2, 6))
    low = rng.uniform(40, 220, (g, g, 3)).astype(np.float32)
    img = cv2.resize(low, (size, size), interpolation=cv2.INTER_LINEAR)
    kind = rng.integers(3)
    if kind == 1:  # 줄무늬
        period = rng.uniform(6, 20) * size / 128
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        a = rng.uniform(0, np.pi)
        wave = np.sin((np.cos(a) * xx + np.sin(a) * yy) * 2 * np.pi / period)
        img += (wave[..., None] * rng.uniform(10, 30)).astype(np.float32)
    elif kind == 2:  # 격자(타일)
        step = max(4, int(rng.uniform(10, 28) * size / 128))
        img[::step, :] *= 0.7
        img[:, ::step] *= 0.7
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, 4))):  # 방해 도형: 삼각형, 원, 선
        col = tuple(int(v) for v in rng.integers(0, 256, 3))
        c = rng.uniform(0, size, 2)
        r = rng.uniform(0.03, 0.12) * size
        shape = rng.integers(3)
        if shape == 0:
            pts = c + r * np.stack([np.cos(t := rng.uniform(0, 2 * np.pi) + np.arange(3) * 2.1),
                                    np.sin(t)], axis=1)
            cv2.fillPoly(img, [np.round(pts * _SCALE).astype(np.int32)], col, cv2.LINE_AA, _SHIFT)
        elif shape == 1:
            cv2.circle(img, (int(c[0]), int(c[1])), int(r), col, -1, cv2.LINE_AA)
        else:
            d = rng.uniform(-1, 1, 2) * r * 2
            cv2.line(img, (int(c[0]), int(c[1])), (int(c[0] + d[0]), int(c[1] + d[1])), col,
                     max(1, size // 64), cv2.LINE_AA)
    return img


def _finish(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """흐림, 밝기/대비, 가우시안 잡음으로 마무리합니다."""
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (3, 3), 0)
    gain, bias, sigma = rng.uniform(0.75, 1.2), rng.uniform(-25, 25), rng.uniform(3, 14)
    out = rng.standard_normal(img.shape, dtype=np.float32)  # float32 로 만들어 빠르게
    out *= sigma
    out += bias
    out += img.astype(np.float32) * np.float32(gain)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def render_pet_image(rng: np.random.Generator, size: int, species: int) -> np.ndarray:
    """얼굴 하나가 든 분류용 이미지 (BGR uint8, size x size) 를 그립니다."""
    img = _background(rng, size)
    radius = rng.uniform(0.2, 0.3) * size
    margin = radius * 1.1
    center = rng.uniform(margin, size - margin, 2)
    center[1] += radius * 0.2  # 귀가 위로 솟으므로 살짝 아래
    cv = _Canvas(img, center, radius, rng.uniform(-0.5, 0.5), None)
    _draw_face(cv, rng, species)
    return _finish(img, rng)


# ----------------------------------------------------------------------------- 원자적 쓰기
def _marker_ok(root: Path, params: dict) -> bool:
    try:
        return json.loads((root / _MARKER).read_text(encoding="utf-8")) == params
    except (OSError, ValueError):
        return False


def _atomic_build(root: Path, params: dict, build: Callable[[Path], None]) -> Path:
    """임시 폴더에 만들고 rename 으로 한 번에 바꿉니다. 먼저 끝난 프로세스의 결과는 그대로 씁니다."""
    root = Path(root)
    if _marker_ok(root, params):
        return root
    if root.exists() and any(root.iterdir()) and not (root / _MARKER).exists():
        raise FileExistsError(
            f"{root} 에 합성 데이터가 아닌 파일이 있습니다. 비어 있는 다른 폴더를 지정하거나 이 폴더를 비워 주세요.")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.tmp-", dir=root.parent))
    try:
        build(tmp)
        (tmp / _MARKER).write_text(json.dumps(params), encoding="utf-8")
        try:
            os.rename(tmp, root)  # root 가 없거나 빈 폴더면 성공 (POSIX)
        except OSError:
            if _marker_ok(root, params):  # 다른 프로세스가 먼저 끝냄
                return root
            old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
            os.rename(root, old / "x")  # 예전 설정으로 만든 합성 데이터를 치웁니다
            os.rename(tmp, root)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _write_jpeg(path: Path, img_bgr: np.ndarray, quality: int = 92) -> None:
    ok, buf = cv2.imencode(".jpg", img_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise OSError(f"JPEG 인코딩에 실패했습니다: {path}")
    path.write_bytes(buf.tobytes())


# ----------------------------------------------------------------------------- 분류 데이터
def make_classification_set(root, n_per_class: int = 1000, size: int = 128, seed: int = 0) -> Path:
    """``root/Cat/cat.N.jpg`` 와 ``root/Dog/dog.N.jpg`` 를 만듭니다 (이미 같은 설정이면 재사용).

    실제 데이터와 같은 배치이므로 클래스는 부모 폴더 이름입니다.
    """
    if n_per_class < 1 or size < 32:
        raise ValueError("n_per_class 는 1 이상, size 는 32 이상이어야 합니다.")
    params = dict(kind="classification", version=GENERATOR_VERSION, n_per_class=int(n_per_class),
                  size=int(size), seed=int(seed))

    def build(tmp: Path) -> None:
        for species, folder in ((CAT, "Cat"), (DOG, "Dog")):
            (tmp / folder).mkdir()
            for i in range(n_per_class):
                rng = np.random.default_rng([seed, species, i])
                _write_jpeg(tmp / folder / f"{_SPECIES[species]}.{i}.jpg", render_pet_image(rng, size, species))

    return _atomic_build(Path(root), params, build)


# ----------------------------------------------------------------------------- 검출/분할 데이터
def _place(rng: np.random.Generator, size: int, boxes: list, tries: int = 30):
    """다른 얼굴과 많이 겹치지 않는 (중심, 반지름) 을 고릅니다."""
    for _ in range(tries):
        r = rng.uniform(0.1, 0.2) * size
        c = rng.uniform(r * 1.1, size - r * 1.1, 2)
        box = np.array([c[0] - 1.1 * r, c[1] - 1.9 * r, c[0] + 1.1 * r, c[1] + 1.2 * r])
        if all(_overlap(box, b) < 0.25 for b in boxes):
            return c, r, box
    return None


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """두 상자의 교집합 / 작은 상자 넓이."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / small


def mask_to_polygons(mask: np.ndarray, min_points: int = 3) -> list[list[float]]:
    """이진 마스크의 바깥 윤곽선을 COCO 다각형 목록 ``[[x1, y1, x2, y2, ...], ...]`` 으로 바꿉니다.

    윤곽선을 픽셀 중심이 아니라 픽셀 가장자리로 따라가도록 2배로 키운 마스크에서 찾으므로,
    다각형을 다시 칠하면(pycocotools) 원래 마스크와 거의 같습니다.
    """
    big = cv2.resize(mask.astype(np.uint8), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [[(float(v) + 0.5) / 2 for v in c.reshape(-1)] for c in contours if len(c) >= min_points]


def render_detection_image(rng: np.random.Generator, size: int, max_pets: int, kinds: tuple[str, ...] = _SPECIES):
    """여러 객체가 든 이미지와 (kinds의 번호, 보이는 부분 마스크) 목록을 돌려줍니다 (기본: 0=cat, 1=dog).

    kinds의 이름은 COCO_KINDS 중에서: 고양이/개는 얼굴, 사람은 같은 자리(얼굴 상자)에 선 전신입니다.
    """
    img = _background(rng, size)
    n = int(rng.integers(1, max_pets + 1))
    pets, boxes = [], []
    for _ in range(n):
        spot = _place(rng, size, boxes)
        if spot is None:
            break
        c, r, box = spot
        boxes.append(box)
        kind = int(rng.integers(len(kinds)))
        mask = np.zeros((size, size), np.uint8)
        if kinds[kind] == "person":  # 얼굴 상자(높이 3.1r) 안에 키 7칸의 사람을 세웁니다
            scale = 3.1 * r / 7.2
            _draw_person(_Canvas(img, (c[0], box[1] + 1.05 * scale), scale, rng.uniform(-0.1, 0.1), mask), rng)
        elif kinds[kind] == "car":  # 얼굴 상자(너비 2.2r) 안에 너비 4칸의 자동차
            _draw_car(_Canvas(img, (c[0], c[1]), 0.6 * r, rng.uniform(-0.1, 0.1), mask), rng)
        else:
            _draw_face(_Canvas(img, c, r, rng.uniform(-0.4, 0.4), mask), rng, _SPECIES.index(kinds[kind]))
        for _, m in pets:  # 나중 객체가 앞의 객체를 가립니다
            m &= 1 - mask
        pets.append((kind, mask))
    pets = [(s, m) for s, m in pets if m.sum() >= 20]
    return _finish(img, rng), pets


def _coco_builder(n_images: int, size: int, seed: int, max_objects: int, categories: list[dict],
                  description: str, species: bool) -> Callable[[Path], None]:
    """COCO 폴더를 만드는 함수: images/*.jpg + instances.json (다각형, 보이는 픽셀에 꼭 맞는 bbox)."""
    kinds = tuple(c["name"] for c in categories)

    def build(tmp: Path) -> None:
        (tmp / "images").mkdir()
        images, anns = [], []
        for i in range(n_images):
            rng = np.random.default_rng([seed, 7, i])
            img, objects = render_detection_image(rng, size, max_objects, kinds)
            name = f"images/{i:06d}.jpg"
            _write_jpeg(tmp / name, img)
            record = dict(id=i + 1, file_name=name, width=size, height=size)
            if species:  # 반려동물 데이터처럼 이미지 레코드에 첫 번째 동물의 종
                record["species"] = kinds[objects[0][0]] if objects else "none"
            images.append(record)
            for kind, m in objects:
                ys, xs = np.nonzero(m)
                x0, y0 = int(xs.min()), int(ys.min())
                anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=categories[kind]["id"],
                                 bbox=[x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
                                 area=int(m.sum()), segmentation=mask_to_polygons(m), iscrowd=0))
        coco = dict(info=dict(description=description, version=str(GENERATOR_VERSION), seed=seed),
                    licenses=[], images=images, annotations=anns, categories=categories)
        (tmp / "instances.json").write_text(json.dumps(coco), encoding="utf-8")

    return build


def make_detection_set(root, n_images: int = 400, size: int = 128, seed: int = 0, max_pets: int = 3) -> Path:
    """``root/images/*.jpg`` 와 ``root/instances.json`` (COCO) 을 만듭니다 (이미 같은 설정이면 재사용).

    주석마다 bbox ``[x, y, w, h]`` (보이는 픽셀을 꼭 맞게 감쌈), 다각형 segmentation, area,
    category_id (1=cat, 2=dog) 가 있고, 이미지 레코드의 ``species`` 는 첫 번째 동물의 종입니다.
    """
    if n_images < 1 or size < 32 or max_pets < 1:
        raise ValueError("n_images, max_pets 는 1 이상, size 는 32 이상이어야 합니다.")
    params = dict(kind="detection", version=GENERATOR_VERSION, n_images=int(n_images), size=int(size),
                  seed=int(seed), max_pets=int(max_pets))
    categories = [dict(id=1, name="cat", supercategory="animal"), dict(id=2, name="dog", supercategory="animal")]
    build = _coco_builder(n_images, size, seed, max_pets, categories,
                          "합성 고양이/개 얼굴 (오프라인 연습용, 실제 사진 아님)", species=True)
    return _atomic_build(Path(root), params, build)


def make_coco_set(root, categories: dict[int, str] | tuple[str, ...] = ("person",), n_images: int = 120,
                  size: int = 128, seed: int = 0, max_objects: int = 3) -> Path:
    """반려동물이 아닌 범주도 든 합성 COCO 폴더 (images/*.jpg + instances.json, 다각형)를 만듭니다.

    categories: 범주 이름의 튜플(id는 1부터) 또는 {id: 이름} (예: COCO처럼 {1: 'person', 17: 'cat', 18: 'dog'}).
    이름은 COCO_KINDS 중에서 고릅니다. 이미지 레코드에 species가 없으므로 클래스는 범주 그대로입니다.
    """
    cats = dict(categories) if isinstance(categories, dict) else {i + 1: n for i, n in enumerate(categories)}
    unknown = [n for n in cats.values() if n not in COCO_KINDS]
    if unknown or not cats:
        raise ValueError(f"그릴 수 없는 범주 {unknown}: 범주 이름은 {COCO_KINDS} 중에서 고르세요.")
    if n_images < 1 or size < 32 or max_objects < 1:
        raise ValueError("n_images, max_objects 는 1 이상, size 는 32 이상이어야 합니다.")
    params = dict(kind="coco", version=GENERATOR_VERSION, categories=sorted(cats.items()), n_images=int(n_images),
                  size=int(size), seed=int(seed), max_objects=int(max_objects))
    categories_json = [dict(id=int(i), name=n, supercategory="person" if n == "person" else "animal")
                       for i, n in sorted(cats.items())]
    build = _coco_builder(n_images, size, seed, max_objects, categories_json,
                          f"합성 {', '.join(cats.values())} (연습·시연용, 실제 사진 아님)", species=False)
    return _atomic_build(Path(root), json.loads(json.dumps(params)), build)
