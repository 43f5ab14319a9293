"""course_utils.images: 이미지 파일 하나 읽기와 검사 (EXIF 방향, 16비트 흑백, 너무 큰 이미지, 끊어진 링크)."""
from __future__ import annotations

import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from course_utils import images


def _png_header(width: int, height: int) -> bytes:
    """크기만 적힌 PNG (픽셀 데이터는 거의 없음): 열 때 헤더의 크기만 보는 검사를 시험합니다."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8비트 흑백
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_exif_orientation_is_applied(tmp_path):
    # 휴대폰이 누운 채(가로 40, 세로 20) 저장하고 'Orientation=6 (시계 방향 90도 돌려 보기)'을 적은 사진
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = (255, 0, 0)   # 왼쪽 절반 빨강
    arr[:, 20:] = (0, 0, 255)   # 오른쪽 절반 파랑
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(arr).save(path, "JPEG", exif=exif, quality=95)
    img = images.load_rgb(path)
    assert img.size == (20, 40)  # 세로로 선 사진 (바로잡기 전에는 (40, 20))
    top, bottom = np.asarray(img)[5, 10], np.asarray(img)[35, 10]
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # 돌리면 왼쪽(빨강)이 위로
    assert images.load_rgb(path, draft=8).size[1] > images.load_rgb(path, draft=8).size[0]  # 줄여 읽어도 세로
    plain = tmp_path / "plain.jpg"
    Image.fromarray(arr).save(plain, "JPEG")
    assert images.load_rgb(plain).size == (40, 20)  # 방향 정보가 없으면 그대로


def test_16bit_gray_scaled_by_format_range_not_per_image(tmp_path):
    dark = np.full((8, 8), 1000, np.uint16)      # 어두운 16비트 사진 (65535 중 1000)
    dark[0, 0] = 2000
    full = np.array([[0, 32768, 65535, 257]], np.uint16)
    for name, arr in (("dark.png", dark), ("full.png", full)):
        Image.fromarray(arr).save(tmp_path / name)
        assert Image.open(tmp_path / name).mode == "I;16"
    got = np.asarray(images.load_rgb(tmp_path / "dark.png"))
    assert got.shape == (8, 8, 3) and got.max() <= 8  # 어두운 사진은 어둡게 (사진마다 늘리면 255가 됨)
    assert got[1, 1, 0] == round(1000 * 255 / 65535) and got[0, 0, 0] == round(2000 * 255 / 65535)
    assert np.asarray(images.load_rgb(tmp_path / "full.png"))[0, :, 0].tolist() == [0, 128, 255, 1]
    assert images.check_image(tmp_path / "dark.png") == (None, "I;16")


def test_too_large_is_its_own_reason_and_prints_no_english_warning(tmp_path, monkeypatch, recwarn, capfd):
    big = tmp_path / "big.png"
    big.write_bytes(_png_header(10_000, 10_000))       # 1억 화소: Pillow가 경고만 하는 크기
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(14_000, 14_000))      # 한도의 두 배 넘음: Pillow가 오류를 내는 크기
    assert images.check_image(big) == ("too_large", None)
    assert images.check_image(huge) == ("too_large", None)
    with pytest.raises(images.ImageTooLarge, match="한도"):
        images.load_rgb(big)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    assert "DecompressionBomb" not in capfd.readouterr().err
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 한도는 Pillow의 설정을 따릅니다
    Image.new("RGB", (40, 40)).save(tmp_path / "small.png")
    assert images.check_image(tmp_path / "small.png")[0] == "too_large"
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # 한도를 끄면 큰 이미지도 씁니다
    assert images.check_image(tmp_path / "small.png") == (None, "RGB")


def test_open_image_leaves_warning_filters_as_they_were(tmp_path):
    (tmp_path / "big.png").write_bytes(_png_header(10_000, 10_000))
    before = list(warnings.filters)
    images.check_image(tmp_path / "big.png")
    assert warnings.filters == before


@pytest.mark.skipif(os.name == "nt", reason="심볼릭 링크를 만들 권한이 없을 수 있습니다")
def test_dangling_link_and_link_loop(tmp_path):
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (tmp_path / "a.jpg").symlink_to(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").symlink_to(tmp_path / "a.jpg")
    Image.new("RGB", (8, 8)).save(tmp_path / "real.jpg")
    (tmp_path / "ok.jpg").symlink_to(tmp_path / "real.jpg")
    assert images.check_image(tmp_path / "gone.jpg") == ("broken_link", None)
    assert images.check_image(tmp_path / "a.jpg") == ("broken_link", None)
    assert images.check_image(tmp_path / "ok.jpg") == (None, "RGB")  # 살아 있는 링크는 그대로 씁니다


def test_every_mode_becomes_rgb():
    rgba = Image.new("RGBA", (4, 2), (0, 0, 0, 0))
    assert images.to_rgb(rgba).getpixel((0, 0)) == (255, 255, 255)  # 투명은 흰 바탕
    for mode in ("L", "1", "CMYK", "P", "LA", "I;16", "I", "F"):
        assert images.to_rgb(Image.new(mode, (4, 2))).mode == "RGB"


def test_native_messages_collects_what_libjpeg_writes_to_fd2(tmp_path, capfd):
    """cv2가 잘린 JPEG에서 C 수준 stderr에 쓰는 경고는 화면이 아니라 목록으로 갑니다."""
    import cv2

    from course_utils.images import native_messages

    ok, buf = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    path = tmp_path / "half.jpg"
    path.write_bytes(buf.tobytes()[: len(buf) // 2])
    with native_messages() as notes:
        img = cv2.imread(str(path))
    assert img is not None and img.shape == (64, 64, 3)
    assert any("JPEG" in line for line in notes)
    assert "JPEG" not in capfd.readouterr().err
    with native_messages() as quiet:
        cv2.imread(str(tmp_path / "missing.jpg"))
    assert not any("JPEG" in line for line in quiet)
