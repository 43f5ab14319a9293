"""course_utils.download: 127.0.0.1의 작은 HTTP 서버를 상대로 내려받기, 체크섬, 끊긴 전송, 안전한 압축 풀기."""
from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
import re
import shutil
import socket
import sys
import tarfile
import threading
import time
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from course_utils import __main__ as cmain
from course_utils import coco as ccoco
from course_utils import data as cdata
from course_utils import download as dl
from course_utils import sources as csources


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
    """경로별 동작: 일반 / cut_once(첫 요청은 반만 보내고 끊음) / range_ok(Range 이어받기, 범위 밖이면 416)
    / chunked_cut(chunked 전송 도중 끊음) / trickle(16바이트씩 천천히)."""

    files: dict[str, bytes] = {}
    cut_once: set[str] = set()
    range_ok: set[str] = set()
    chunked_cut: set[str] = set()
    trickle: set[str] = set()
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
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        if path in self.chunked_cut:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(f"{len(body):x}\r\n".encode() + body[: len(body) // 2])  # 조각 도중에 끊김
            self._hang_up()
            return
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if path in self.trickle:
            self._trickle(body[start:])
            return
        if path in self.cut_once:
            self.cut_once.discard(path)
            self.wfile.write(body[start:start + len(body) // 2])
            self._hang_up()  # 전송 도중에 끊긴 연결
            return
        self.wfile.write(body[start:])

    def _hang_up(self) -> None:
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def _trickle(self, body: bytes) -> None:
        try:
            for i in range(0, len(body), 16):
                self.wfile.write(body[i:i + 16])
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # 받는 쪽이 먼저 끊음
            pass

    def log_message(self, *args) -> None:  # 테스트 출력 조용히
        pass


@pytest.fixture()
def server():
    _Handler.files, _Handler.cut_once, _Handler.range_ok, _Handler.log = {}, set(), set(), []
    _Handler.chunked_cut, _Handler.trickle = set(), set()
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


def test_http_error_is_not_reported_as_no_connection(server, tmp_path):
    with pytest.raises(dl.SourceUnreachable) as err:
        dl.download_file(dl.Source(server.url + "/gone.zip", "gone.zip"), tmp_path, progress=False)
    assert "HTTP 404" in str(err.value) and "연결할 수 없습니다" not in str(err.value)


@pytest.mark.parametrize("case", ["longer-than-file", "full-size-but-wrong"])
def test_bad_part_file_recovers_instead_of_http_416_loop(server, tmp_path, case):
    """서버 파일보다 긴 .part, 또는 크기는 맞지만 내용이 틀린 .part: 예전에는 매번 416으로 '연결할 수 없음'."""
    body = bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8))
    server.handler.files["/p.bin"] = body
    server.handler.range_ok.add("/p.bin")
    if case == "longer-than-file":  # Oxford처럼 크기를 모르고 md5만 아는 파일
        src = dl.Source(server.url + "/p.bin", "p.bin", md5=hashlib.md5(body).hexdigest())
        (tmp_path / "p.bin.part").write_bytes(body + b"garbage")
    else:
        src = dl.Source(server.url + "/p.bin", "p.bin", sha256=_sha(body), size=len(body))
        (tmp_path / "p.bin.part").write_bytes(bytes(len(body)))
    assert dl.download_file(src, tmp_path, progress=False).read_bytes() == body
    assert not (tmp_path / "p.bin.part").exists()


def test_size_only_zip_is_checked_by_crc(server, tmp_path):
    """공개 체크섬이 없는 PetImages zip: 크기가 같아도 항목의 CRC가 틀리면 받아들이지 않습니다."""
    good = _petimages_zip()
    bad = bytearray(good)
    bad[good.find(_jpeg(1)) + 100] ^= 0xFF  # 크기는 같고 한 바이트만 다름
    src = dl.Source(server.url + "/k.zip", "k.zip", size=len(good))
    server.handler.files["/k.zip"] = bytes(bad)
    with pytest.raises(dl.DownloadError, match="CRC") as err:
        dl.download_file(src, tmp_path, progress=False)
    assert str(tmp_path / "k.zip.part") in str(err.value)
    assert not (tmp_path / "k.zip").exists() and not (tmp_path / "k.zip.part").exists()
    # 지난 실행이 남긴 같은 크기의 망가진 zip은 쓰지 않고 새로 받아 바꿉니다 (매번 풀기에 실패하는 고리 없음)
    (tmp_path / "k.zip").write_bytes(bytes(bad))
    server.handler.files["/k.zip"] = good
    assert dl.download_file(src, tmp_path, progress=False).read_bytes() == good


def test_truncated_chunked_response_is_korean(server, tmp_path):
    """chunked 전송이 도중에 끊기면 http.client.IncompleteRead가 납니다: 영어 traceback 대신 한국어로."""
    server.handler.files["/c.bin"] = b"x" * 10_000
    server.handler.chunked_cut.add("/c.bin")
    with pytest.raises(dl.DownloadError, match="연결이 끊겼습니다.*다시 실행하면") as err:
        dl.download_file(dl.Source(server.url + "/c.bin", "c.bin"), tmp_path, progress=False)
    assert "IncompleteRead" in str(err.value)
    assert not (tmp_path / "c.bin").exists()


def test_trickling_server_hits_overall_deadline(server, tmp_path):
    server.handler.files["/slow.bin"] = b"s" * 4000  # 16바이트씩 0.05초마다: 다 보내려면 12초
    server.handler.trickle.add("/slow.bin")
    t0 = time.monotonic()
    with pytest.raises(dl.DownloadError, match="분 안에 다 받지 못했습니다") as err:
        dl.download_file(dl.Source(server.url + "/slow.bin", "slow.bin"), tmp_path, timeout=5,
                         deadline_s=0.5, progress=False)
    assert time.monotonic() - t0 < 5
    assert str(tmp_path / "slow.bin.part") in str(err.value)
    assert 0 < (tmp_path / "slow.bin.part").stat().st_size < 4000  # 이어받을 수 있게 남겨 둠


class _FullDisk:
    """room 바이트를 쓴 뒤로는 ENOSPC를 내는 파일 (가득 찬 디스크의 대역)."""

    def __init__(self, f, room: int) -> None:
        self.f, self.room = f, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()


def test_disk_full_while_downloading_says_disk_full(server, tmp_path, monkeypatch):
    body = bytes(np.random.default_rng(3).integers(0, 256, 300_000, dtype=np.uint8))
    server.handler.files["/d.bin"] = body
    monkeypatch.setattr(dl, "open", lambda path, mode="r": _FullDisk(builtins.open(path, mode), 100_000),
                        raising=False)
    with pytest.raises(dl.DownloadError) as err:
        dl.download_file(dl.Source(server.url + "/d.bin", "d.bin", sha256=_sha(body)), tmp_path, progress=False)
    msg = str(err.value)
    assert "디스크가 가득 찼습니다" in msg and "COURSE_DATA" in msg and "연결이 끊겼" not in msg
    assert not (tmp_path / "d.bin").exists()


def test_not_enough_space_is_reported_before_downloading(server, tmp_path, monkeypatch):
    server.handler.files["/e.bin"] = b"e" * 50_000
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=10_000))
    with pytest.raises(dl.DownloadError, match="공간이 부족합니다.*COURSE_DATA"):
        dl.download_file(dl.Source(server.url + "/e.bin", "e.bin"), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def read_only(tmp_path, monkeypatch):
    """쓸 수 없는 폴더. root는 권한 비트를 무시하므로 os.mkdir/os.open도 같은 오류를 내게 합니다."""
    folder = tmp_path / "ro"
    folder.mkdir()
    real_mkdir, real_open = os.mkdir, os.open

    def inside(path) -> bool:
        return os.path.abspath(os.fspath(path)).startswith(str(folder) + os.sep) or os.fspath(path) == str(folder)

    def fake_mkdir(path, *args, **kwargs):
        if os.fspath(path) == str(folder):
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        if inside(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_mkdir(path, *args, **kwargs)

    def fake_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    folder.chmod(0o555)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(os, "open", fake_open)
    yield folder
    folder.chmod(0o755)


def test_read_only_data_folder_gives_korean_message(server, tmp_path, read_only):
    server.handler.files["/r.zip"] = _zip({"a.txt": b"a"})
    with pytest.raises(dl.DownloadError, match="쓸 수 없습니다.*COURSE_DATA") as err:
        dl.download_file(dl.Source(server.url + "/r.zip", "r.zip"), read_only / "downloads", progress=False)
    assert str(read_only / "downloads") in str(err.value)
    archive = tmp_path / "r.zip"
    archive.write_bytes(server.handler.files["/r.zip"])
    with pytest.raises(dl.DownloadError, match="쓸 수 없습니다"):
        dl.safe_extract(archive, read_only / "out")


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
    with pytest.raises(dl.DownloadError, match="지우고 다시 실행하면 새로 내려받습니다") as err:
        dl.safe_extract(archive, tmp_path / "t")
    assert str(archive) in str(err.value)  # 어느 파일인지 경로로 알려 줍니다
    assert not (tmp_path / "t").exists()


def test_corrupt_gzip_stream_is_korean(tmp_path):
    """gzip 스트림 중간이 망가진 tar.gz: zlib.error가 영어 traceback으로 새지 않습니다."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for n in range(3):
            payload = b"".join(b"line %d\n" % i for i in range(4000))
            info = tarfile.TarInfo(f"pets/{n}.txt")
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    raw = buf.getvalue()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)  # 날 deflate: 앞 절반은 멀쩡하고
    stream = comp.compress(raw[: len(raw) // 2]) + comp.flush(zlib.Z_FULL_FLUSH)
    stream += b"\x06" + bytes(64)  # 그다음 블록의 형식 비트가 '예약됨(11)': 풀 수 없는 블록
    archive = tmp_path / "images.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + stream)
    with pytest.raises(zlib.error):  # 이 파일이 정말 그 오류를 내는지 먼저 확인
        with tarfile.open(archive) as tf:
            tf.getmembers()
    with pytest.raises(dl.DownloadError, match="지우고 다시 실행하면") as err:
        dl.safe_extract(archive, tmp_path / "out")
    assert str(archive) in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("when", ["before", "during"])
def test_disk_full_while_extracting_is_not_blamed_on_the_archive(tmp_path, monkeypatch, when):
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"pets/a.txt": b"a" * 5000, "pets/b.txt": b"b" * 5000}))
    if when == "before":
        usage = shutil.disk_usage(tmp_path)
        monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=1000))
    else:
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(shutil, "copyfileobj", full)
    with pytest.raises(dl.DownloadError) as err:
        dl.safe_extract(archive, tmp_path / "out")
    msg = str(err.value)
    assert "공간이 부족합니다" in msg and "COURSE_DATA" in msg and "내려받" not in msg
    assert archive.exists() and not (tmp_path / "out").exists()
    assert not (tmp_path / ".out.extracting").exists()


def test_safe_extract_never_overwrites_existing_files(tmp_path):
    target = tmp_path / "out"
    (target / "pets").mkdir(parents=True)
    (target / "pets" / "a.txt").write_text("mine")
    (target / "notes.txt").write_text("my notes")
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"pets/a.txt": b"theirs", "pets/b.txt": b"new", "extra/c.txt": b"new"}))
    dl.safe_extract(archive, target)
    assert (target / "pets" / "a.txt").read_text() == "mine"
    assert (target / "notes.txt").read_text() == "my notes"
    assert (target / "pets" / "b.txt").read_text() == "new" and (target / "extra" / "c.txt").read_text() == "new"


class _Killed(BaseException):
    """Ctrl+C나 커널 중단의 대역."""


@pytest.mark.parametrize("existing", [False, True], ids=["new-target", "existing-target"])
def test_safe_extract_interrupted_while_moving_leaves_target_as_it_was(tmp_path, monkeypatch, existing):
    target = tmp_path / "out"
    if existing:
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip({"a/1.txt": b"1", "b/2.txt": b"2", "c/3.txt": b"3"}))
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) == (2 if existing else 1):  # 기존 폴더면 하나를 옮긴 뒤, 새 폴더면 첫 이름 바꾸기에서
            raise _Killed
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(_Killed):
        dl.safe_extract(archive, target)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p != archive)
    assert after == before  # 반쯤 찬 target도, 임시 폴더도 남지 않음
    monkeypatch.setattr(os, "replace", real_replace)
    dl.safe_extract(archive, target)  # 다시 실행하면 끝까지 풀립니다
    assert (target / "c" / "3.txt").read_bytes() == b"3"


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


@pytest.mark.parametrize("have", ["Cat", "Dog"])
def test_own_photos_are_never_replaced_when_one_class_folder_is_missing(server, tmp_path, monkeypatch, capsys, have):
    """data/dogs-vs-cats/Cat/ 에 내 사진이 있고 Dog/ 가 없을 때: 예전에는 내려받아 Cat/ 을 통째로 바꿨습니다."""
    body = _petimages_zip()
    server.handler.files["/kagglecatsanddogs_5340.zip"] = body
    monkeypatch.setitem(dl.SOURCES, "dogs-vs-cats", [
        dl.Source(server.url + "/kagglecatsanddogs_5340.zip", "kagglecatsanddogs_5340.zip", size=len(body))])
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    mine = tmp_path / "data" / "dogs-vs-cats" / have / "my_pet.jpg"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(_jpeg(42))
    other = "Dog" if have == "Cat" else "Cat"
    with pytest.raises(dl.DownloadError, match=f"{have} 에는 이미 파일이 있는데.*{other}/ 에 사진을 넣거나"):
        csources.download_dogs_vs_cats(tmp_path / "data", progress=False)
    found = csources.find_dogs_vs_cats(_env(tmp_path))  # 노트북이 부르는 길: 합성 데이터로 넘어가며 알림
    assert found.synthetic and "이미 파일이 있는데" in capsys.readouterr().out
    assert mine.read_bytes() == _jpeg(42)
    assert sorted(p.name for p in mine.parent.iterdir()) == ["my_pet.jpg"]
    assert server.handler.log == []  # 내려받지도 않았습니다


def test_empty_class_folders_are_filled_and_other_files_kept(server, tmp_path, monkeypatch):
    body = _petimages_zip()
    server.handler.files["/kagglecatsanddogs_5340.zip"] = body
    monkeypatch.setitem(dl.SOURCES, "dogs-vs-cats", [
        dl.Source(server.url + "/kagglecatsanddogs_5340.zip", "kagglecatsanddogs_5340.zip", size=len(body))])
    root = tmp_path / "data" / "dogs-vs-cats"
    (root / "Cat").mkdir(parents=True)
    (root / "README.txt").write_text("내 메모")
    assert csources.download_dogs_vs_cats(tmp_path / "data", progress=False) == root
    assert len(list((root / "Cat").iterdir())) == 5 and len(list((root / "Dog").iterdir())) == 4
    assert (root / "README.txt").read_text() == "내 메모"
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["dogs-vs-cats", "downloads"]


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


def test_oxford_fallback_is_current_and_used_when_torchvision_lacks_it(monkeypatch):
    from torchvision.datasets import OxfordIIITPet

    # 예비 값이 지금 torchvision의 값과 같습니다 (torchvision이 주소나 md5를 바꾸면 여기서 알 수 있음)
    assert tuple(tuple(r) for r in OxfordIIITPet._RESOURCES) == dl._OXFORD_FALLBACK
    expected = [(url, md5) for url, md5 in dl._OXFORD_FALLBACK]
    monkeypatch.delattr(OxfordIIITPet, "_RESOURCES")  # torchvision 내부 이름이 바뀐 경우
    assert [(s.url, s.md5) for s in dl._oxford_sources()] == expected
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)  # torchvision.datasets를 가져올 수 없는 경우
    sources = dl._oxford_sources()
    assert [(s.url, s.md5) for s in sources] == expected
    assert [s.filename for s in sources] == ["images.tar.gz", "annotations.tar.gz"]
    assert all(s.url.startswith("https://www.robots.ox.ac.uk/") and re.fullmatch(r"[0-9a-f]{32}", s.md5)
               for s in sources)
