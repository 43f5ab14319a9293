"""이미지 파일 하나 읽기와 검사: 어떤 색 모드든 RGB로 바꾸고, 못 쓰는 파일은 이유와 함께 알려 줍니다."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

SKIP_REASONS = ("zero_byte", "not_image", "truncated", "corrupt")
SKIP_NAMES_KO = {"zero_byte": "0바이트 파일", "not_image": "이미지가 아닌 파일",
                 "truncated": "중간에 잘린 파일", "corrupt": "깨진 파일"}

def to_rgb(img: Image.Image) -> Image.Image:
    """어떤 모드의 PIL 이미지든 RGB로 바꿉니다 (투명 영역은 흰 바탕에 합성, 16비트 흑백은 8비트로)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        scale = 255.0 / max(float(arr.max()), 1.0) if arr.max() > 255 else 1.0
        img = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, P, LAB, HSV


def load_rgb(path: str | os.PathLike) -> Image.Image:
    """이미지 파일을 열어 RGB PIL 이미지로 돌려줍니다 (흑백, CMYK, 팔레트, RGBA 모두 RGB로)."""
    with Image.open(path) as img:
        img.load()
        return to_rgb(img)


def check_image(path: Path) -> tuple[str | None, str | None]:
    """파일 하나를 끝까지 디코딩해 봅니다. (건너뛸 이유 또는 None, 원래 색 모드 또는 None)."""
    try:
        if path.stat().st_size == 0:
            return "zero_byte", None
        with Image.open(path) as img:
            mode = img.mode
            img.load()  # 헤더만이 아니라 픽셀까지 읽어야 잘린 파일을 찾습니다
        return None, mode
    except UnidentifiedImageError:
        return "not_image", None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return ("truncated" if "truncat" in str(exc).lower() else "corrupt"), None

