"""course_utils.download: 127.0.0.1의 작은 HTTP 서버를 상대로 내려받기, 체크섬, 끊긴 전송, 안전한 압축 풀기."""
from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from course_utils import data as cdata
from course_utils import coco as ccoco
from course_utils import __main__ as cmain
from course_utils import sources as csources
from course_utils import download as dl


def _jpeg(seed: int, mode: str = "RGB") -> bytes:
    arr = (np.random.default_rng(seed).random((40, 50, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(arr).convert(mode)
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return buf.getvalue()


def _petimages_zip() -> bytes:
    """Microsoft PetImages zip과 같은 구조의 작은 zip (0.jpg 이름, 0바이트 파일, Thumbs.db, CMYK 포함)."""
    members = {f"PetImages/Cat/{i}.jpg": _jpeg(i) for i in range(3)}
    members.update({f"PetImages/Dog/{i}.jpg": _jpeg(100 + i) for i in range(3)})
    members["PetImages/Cat/3.jpg"] = _jpeg(7, "CMYK")
    members["PetImages/Dog/3.jpg"] = b""  # 진짜 PetImages에도 0바이트 파일이 있습니다
    members["PetImages/Cat/Thumbs.db"] = b"\xd0\xcf\x11\xe0 not an image"
    members["readme[1].txt"] = b"readme"
    return _zip(members)


class _Handler(BaseHTTPRequestHandler):
    """경로별 동작: 일반 / 'cut'(첫 요청은 반만 보내고 끊음) / 'range'(Range 이어받기 지원)."""

    files: dict[str, bytes] = {}
    cut_once: set[str] = set()
    range_ok: set[str] = set()
    log: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802
        path = self.path
        self.log.append((path, self.headers.get("Range")))
        if path not in self.files:
            self.send_error(404)
            return
        body = self.files[path]
        start = 0
        rng = self.headers.get("Range")
        if rng and path in self.range_ok:
            start = int(rng.split("=")[1].rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if path in self.cut_once:
            self.cut_once.discard(path)
            self.wfile.write(body[start:start + len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # 전송 도중에 끊긴 연결
            return
        self.wfile.write(body[start:])

    def log_message(self, *args) -> None:  # 테스트 출력 조용히
        pass


@pytest.fixture()
def server():
    _Handler.files, _Handler.cut_once, _Handler.range_ok, _Handler.log = {}, set(), set(), []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_address[1]}", handler=_Handler)
    httpd.shutdown()
    httpd.server_close()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_good_archive_downloads_verifies_and_extracts(server, tmp_path):
    body = _zip({"pets/a.txt": b"hello", "pets/b/c.txt": b"world"})
    server.handler.files["/good.zip"] = body
    src = dl.Source(server.url + "/good.zip", "good.zip", sha256=_sha(body))
    path = dl.download_file(src, tmp_path / "dl", progress=False)
    assert path.read_bytes() == body
    assert not (tmp_path / "dl" / "good.zip.part").exists()
    out = dl.safe_extract(path, tmp_path / "out")
    assert (out / "pets" / "b" / "c.txt").read_text() == "world"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # 임시 폴더가 남지 않음
    # 두 번째 호출은 검사만 하고 다시 받지 않습니다
    n = len(server.handler.log)
    dl.download_file(src, tmp_path / "dl", progress=False)
    assert len(server.handler.log) == n


def test_md5_is_checked_too(server, tmp_path):
    body = b"x" * 5000
    server.handler.files["/f.bin"] = body
    good = dl.Source(server.url + "/f.bin", "f.bin", md5=hashlib.md5(body).hexdigest())
    assert dl.download_file(good, tmp_path, progress=False).read_bytes() == body
    bad = dl.Source(server.url + "/f.bin", "g.bin", md5="0" * 32)
    with pytest.raises(dl.DownloadError, match="md5"):
        dl.download_file(bad, tmp_path, progress=False)


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    server.handler.files["/evil.zip"] = _zip({"a.txt": b"tampered"})
    src = dl.Source(server.url + "/evil.zip", "evil.zip", sha256=_sha(b"something else"))
    with pytest.raises(dl.DownloadError, match="sha256"):
        dl.download_file(src, tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []  # 최종 파일도 .part도 없음


def test_size_mismatch_is_rejected(server, tmp_path):
    server.handler.files["/s.bin"] = b"1234"
    with pytest.raises(dl.DownloadError, match="크기"):
        dl.download_file(dl.Source(server.url + "/s.bin", "s.bin", size=5), tmp_path, progress=False)
    assert not (tmp_path / "s.bin").exists()


def test_cut_transfer_then_clean_retry(server, tmp_path):
    body = bytes(np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8))
    server.handler.files["/big.zip"] = body
    server.handler.cut_once.add("/big.zip")
    src = dl.Source(server.url + "/big.zip", "big.zip", sha256=_sha(body))
    with pytest.raises(dl.DownloadError):
        dl.download_file(src, tmp_path, progress=False)
    assert not (tmp_path / "big.zip").exists()  # 반쪽 파일이 최종 이름으로 남지 않음
    assert 0 < (tmp_path / "big.zip.part").stat().st_size < len(body)
    # 이 서버는 Range를 모르므로(200) 처음부터 다시 받아 .part를 덮어써야 합니다
    path = dl.download_file(src, tmp_path, progress=False)
    assert path.read_bytes() == body
    assert not (tmp_path / "big.zip.part").exists()


def test_cut_transfer_resumes_with_range(server, tmp_path):
    body = bytes(np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8))
    server.handler.files["/r.bin"] = body
    server.handler.cut_once.add("/r.bin")
    server.handler.range_ok.add("/r.bin")
    src = dl.Source(server.url + "/r.bin", "r.bin", sha256=_sha(body))
    with pytest.raises(dl.DownloadError):
        dl.download_file(src, tmp_path, progress=False)
    have = (tmp_path / "r.bin.part").stat().st_size
    assert dl.download_file(src, tmp_path, progress=False).read_bytes() == body
    assert server.handler.log[-1] == ("/r.bin", f"bytes={have}-")  # 이어받기를 요청했음


def test_unreachable_source_gives_korean_manual_steps(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # 아무도 듣지 않는 포트
    src = dl.Source(f"http://127.0.0.1:{port}/x.zip", "x.zip")
    with pytest.raises(dl.SourceUnreachable) as err:
        dl.download_file(src, tmp_path, timeout=2, progress=False, manual=dl.MANUAL_STEPS["dogs-vs-cats"])
    assert "연결할 수 없습니다" in str(err.value) and "data/dogs-vs-cats/Cat" in str(err.value)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["../escape.txt", "ok/../../escape.txt", "/abs/escape.txt", "C:\\evil.txt"])
def test_zip_member_escaping_target_is_refused(tmp_path, name):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip({"fine.txt": b"ok", name: b"pwned"}))
    with pytest.raises(dl.UnsafeArchiveError):
        dl.safe_extract(archive, tmp_path / "out" / "target")
    assert not (tmp_path / "out" / "target").exists()  # 안전한 항목도 풀지 않음
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "escape.txt").exists()


def test_tar_links_and_dotdot_refused(tmp_path):
    for kind in ("symlink", "hardlink", "dotdot"):
        archive = tmp_path / f"{kind}.tar.gz"
        with tarfile.open(archive, "w:gz") as tf:
            info = tarfile.TarInfo("data/ok.txt")
            info.size = 2
            tf.addfile(info, io.BytesIO(b"ok"))
            bad = tarfile.TarInfo("../x.txt" if kind == "dotdot" else "data/link")
            if kind == "symlink":
                bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
            elif kind == "hardlink":
                bad.type, bad.linkname = tarfile.LNKTYPE, "../../outside"
            else:
                bad.size = 1
            tf.addfile(bad, io.BytesIO(b"x") if kind == "dotdot" else None)
        with pytest.raises(dl.UnsafeArchiveError):
            dl.safe_extract(archive, tmp_path / kind)
        assert not (tmp_path / kind).exists()
    # 같은 구조의 안전한 tar는 잘 풀립니다
    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        info = tarfile.TarInfo("images/a.jpg")
        data = _jpeg(0)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert (dl.safe_extract(good, tmp_path / "good") / "images" / "a.jpg").read_bytes() == data


def test_corrupt_zip_gives_korean_error(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(_zip({"a.txt": b"hello" * 100})[:-30])
    with pytest.raises(dl.DownloadError, match="다시 내려받으세요"):
        dl.safe_extract(archive, tmp_path / "t")


def _env(tmp_path, quick=False, offline=False):
    return SimpleNamespace(data_dir=tmp_path / "data", quick=quick, offline=offline, seed=42)


def test_find_dogs_vs_cats_downloads_petimages_layout(server, tmp_path, monkeypatch, capsys):
    body = _petimages_zip()
    server.handler.files["/kagglecatsanddogs_5340.zip"] = body
    src = dl.Source(server.url + "/kagglecatsanddogs_5340.zip", "kagglecatsanddogs_5340.zip",
                    sha256=_sha(body), size=len(body))
    monkeypatch.setitem(dl.SOURCES, "dogs-vs-cats", [src])
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    found = csources.find_dogs_vs_cats(_env(tmp_path))
    assert found.kind == "downloaded" and "내려받은 데이터" in capsys.readouterr().out
    assert found.root == tmp_path / "data" / "dogs-vs-cats"
    assert sorted(p.name for p in (found.root / "Cat").iterdir()) == ["0.jpg", "1.jpg", "2.jpg", "3.jpg", "Thumbs.db"]
    index = cdata.index_images(found.root)
    assert index.class_counts() == {"Cat": 4, "Dog": 3}
    assert [p.name for p in index.skipped["zero_byte"]] == ["3.jpg"]
    assert [p.name for p in index.skipped["not_image"]] == ["Thumbs.db"]
    assert index.modes["CMYK"] == 1
    # 레이블은 부모 폴더: 이름이 0.jpg인 파일도 Cat/Dog로 정확히
    assert {cdata.label_from_path(p) for p, lab in index.items if lab == 1} == {"Dog"}
    # 두 번째 실행은 이미 있는 폴더를 씁니다 (다시 받지 않음)
    n = len(server.handler.log)
    assert csources.find_dogs_vs_cats(_env(tmp_path)).kind == "local"
    assert len(server.handler.log) == n
    leftovers = [p.name for p in (tmp_path / "data").iterdir()]
    assert sorted(leftovers) == ["dogs-vs-cats", "downloads"]


def test_cli_download_reports_unreachable_in_korean(tmp_path, monkeypatch, capsys):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    monkeypatch.setitem(dl.SOURCES, "oxford-pets", [dl.Source(f"http://127.0.0.1:{port}/i.tar.gz", "i.tar.gz")])
    rc = cmain.main(["--data-dir", str(tmp_path), "download", "oxford-pets", "--timeout", "2"])
    err = capsys.readouterr().err
    assert rc == 1 and "연결할 수 없습니다" in err and "annotations.tar.gz" in err


def test_cli_download_oxford_layout(server, tmp_path, monkeypatch):
    def tgz(members: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for name, payload in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
        return buf.getvalue()

    tri = np.full((40, 50), 2, np.uint8)
    tri[10:30, 5:25] = 1
    png = io.BytesIO()
    Image.fromarray(tri).save(png, "PNG")
    images = tgz({"images/Bengal_1.jpg": _jpeg(1)})
    anns = tgz({"annotations/trimaps/Bengal_1.png": png.getvalue(), "annotations/list.txt": b"Bengal_1 6 1 4\n"})
    server.handler.files.update({"/images.tar.gz": images, "/annotations.tar.gz": anns})
    monkeypatch.setitem(dl.SOURCES, "oxford-pets", [
        dl.Source(server.url + "/images.tar.gz", "images.tar.gz", md5=hashlib.md5(images).hexdigest()),
        dl.Source(server.url + "/annotations.tar.gz", "annotations.tar.gz", md5=hashlib.md5(anns).hexdigest())])
    assert cmain.main(["--data-dir", str(tmp_path), "download", "oxford-pets"]) == 0
    root = tmp_path / "oxford-iiit-pet"
    ds = ccoco.PetsDetection(root, split="all")
    _, target = ds[0]
    assert target["boxes"].tolist() == [[5.0, 10.0, 25.0, 30.0]] and target["labels"].tolist() == [1]


def test_oxford_sources_follow_torchvision():
    from torchvision.datasets import OxfordIIITPet

    assert [(s.url, s.md5) for s in dl.SOURCES["oxford-pets"]] == list(OxfordIIITPet._RESOURCES)
    assert [s.filename for s in dl.SOURCES["oxford-pets"]] == ["images.tar.gz", "annotations.tar.gz"]
    assert dl.SOURCES["dogs-vs-cats"][0].url.endswith("kagglecatsanddogs_5340.zip")
