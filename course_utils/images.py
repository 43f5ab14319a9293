"""이미지 파일 하나 읽기와 검사: 어떤 색 모드든 RGB로, 휴대폰 사진은 EXIF 방향대로 세우고, 못 쓰는 파일은 이유와 함께 알려 줍니다."""
from __future__ import annotations

import os
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

__all__ = [
    "SKIP_REASONS", "SKIP_NAMES_KO", "native_messages", "ImageTooLarge", "open_image", "to_rgb", "upright",
    "load_rgb", "check_image",
]

SKIP_REASONS = ("zero_byte", "not_image", "truncated", "corrupt", "too_large", "broken_link")
SKIP_NAMES_KO = {"zero_byte": "0바이트 파일", "not_image": "이미지가 아닌 파일",
                 "truncated": "중간에 잘린 파일", "corrupt": "깨진 파일",
                 "too_large": "너무 큰 이미지", "broken_link": "끊어진 링크"}

# 16비트 흑백(PNG, TIFF)은 0-65535 범위입니다. 사진마다 최댓값으로 나누면 어두운 사진이 밝아지므로 형식의 범위로 나눕니다.
_WIDE_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_WIDE_MAX = 65535.0
_OPEN_LOCK = threading.Lock()  # warnings 필터는 프로세스 전체가 함께 쓰므로 여는 순간만 한 스레드씩


@contextmanager
def native_messages() -> Iterator[list[str]]:
    """C 라이브러리(libjpeg 등)가 표준 오류(파일 기술자 2)에 직접 쓰는 메시지를 화면 대신 목록에 모읍니다.

    cv2.imread가 잘린 JPEG에서 남기는 경고처럼 파이썬의 warnings로 잡히지 않는 출력을 셀 때 씁니다.
    with 블록이 끝나면 목록이 채워집니다.
    """
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(line for line in sink.read().decode("utf-8", "replace").splitlines() if line.strip())


class ImageTooLarge(ValueError):
    """Pillow의 픽셀 수 한도(Image.MAX_IMAGE_PIXELS)를 넘는 이미지."""


def open_image(path: str | os.PathLike) -> Image.Image:
    """Image.open과 같지만, 한도를 넘는 큰 이미지는 영어 경고(DecompressionBombWarning) 대신 한국어 ImageTooLarge로 알립니다."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            limit = Image.MAX_IMAGE_PIXELS or 0
            raise ImageTooLarge(f"{path}: 픽셀 수가 Pillow의 한도({limit:,}화소)를 넘는 큰 이미지라 쓰지 않습니다. "
                                "쓰려면 사진을 줄여(예: 긴 변 4000px) 다시 저장하세요.") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """어떤 모드의 PIL 이미지든 RGB로 바꿉니다 (투명 영역은 흰 바탕에 합성, 16비트 흑백은 0-65535를 0-255로)."""
    if img.mode == "RGB":
        return img
    if img.mode in _WIDE_MODES:
        arr = np.asarray(img, dtype=np.float64) * (255.0 / _WIDE_MAX)
        img = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")  # L, 1, F, CMYK, YCbCr, P, LAB, HSV


def upright(img: Image.Image) -> Image.Image:
    """EXIF의 방향 정보대로 돌려 세웁니다. 휴대폰은 사진을 누운 채 저장하고 방향을 EXIF에 적어 둡니다."""
    if img.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):
        return img  # 돌릴 필요 없음 (복사하지 않음)
    return ImageOps.exif_transpose(img)


def load_rgb(path: str | os.PathLike, draft: int | None = None) -> Image.Image:
    """이미지 파일을 열어 EXIF 방향대로 세운 RGB PIL 이미지로 돌려줍니다.

    draft를 주면 JPEG는 짧은 변이 그 크기 이상인 가장 작은 배율로 줄여서 디코딩합니다(빠름).
    """
    with open_image(path) as img:
        if draft:
            img.draft("RGB", (draft, draft))
        img.load()
        return to_rgb(upright(img))


def check_image(path: str | os.PathLike) -> tuple[str | None, str | None]:
    """파일 하나를 끝까지 디코딩해 봅니다. (건너뛸 이유 또는 None, 원래 색 모드 또는 None)."""
    path = Path(path)
    if path.is_symlink() and not path.exists():  # 가리키는 파일이 없거나, 링크가 돌고 돌아 끝나지 않음
        return "broken_link", None
    try:
        if path.stat().st_size == 0:
            return "zero_byte", None
        with open_image(path) as img:
            mode = img.mode
            img.load()  # 헤더만이 아니라 픽셀까지 읽어야 잘린 파일을 찾습니다
            img.getexif()
        return None, mode
    except ImageTooLarge:
        return "too_large", None
    except UnidentifiedImageError:
        return "not_image", None
    except (OSError, SyntaxError, ValueError) as exc:
        return ("truncated" if "truncat" in str(exc).lower() else "corrupt"), None
