"""데이터 세트 내려받기: 진행 막대, 체크섬 검사, .part 파일과 원자적 이름 바꾸기, 안전한 압축 풀기.

노트북은 이 모듈을 직접 부르지 않습니다. ``course_utils.sources``의 ``find_*`` 함수와
``python -m course_utils download ...`` 명령이 이 모듈을 씁니다.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from course_utils.progress import progress as progress_bar

__all__ = [
    "CHUNK", "DEADLINE_S", "DownloadError", "SourceUnreachable", "UnsafeArchiveError", "Source", "PETIMAGES_URL",
    "SOURCES", "MANUAL_STEPS", "file_digest", "check_file", "writable_folder", "download_file", "move_in_new",
    "safe_extract", "fetch",
]

CHUNK = 1 << 20  # 한 번에 읽는 최대 바이트 수
DEADLINE_S = 3600.0  # 파일 하나를 받는 데 쓰는 최대 시간: 느리게 흘려보내는 서버 앞에서 끝없이 기다리지 않습니다


class DownloadError(RuntimeError):
    """내려받기나 검사가 실패했을 때 (메시지는 한국어로 할 일을 알려 줍니다)."""


class SourceUnreachable(DownloadError):
    """내려받을 곳에 연결할 수 없을 때 (오프라인, 방화벽, 주소 변경)."""


class UnsafeArchiveError(DownloadError):
    """압축 파일 안에 대상 폴더 밖을 가리키는 항목(../, 절대 경로, 링크)이 있을 때."""


@dataclass(frozen=True)
class Source:
    """내려받을 파일 하나: 주소, 저장 이름, 체크섬(md5 또는 sha256), 알려진 크기.

    체크섬은 앞부분만 주어도 됩니다 (torch hub 가중치 파일 이름의 sha256 접두사 8자리처럼).
    """

    url: str
    filename: str
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None


PETIMAGES_URL = ("https://download.microsoft.com/download/3/E/1/"
                 "3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip")

_OXFORD_FALLBACK = (
    ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz", "5c4f3ee8e5d25df40f4fd59a7f44e54c"),
    ("https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz", "95a8c909bbe2e81eed6a22bccdf3f68f"),
)


def _oxford_sources() -> list[Source]:
    """Oxford-IIIT Pet의 주소와 md5: torchvision.datasets.OxfordIIITPet이 쓰는 값을 그대로 씁니다."""
    try:
        from torchvision.datasets import OxfordIIITPet

        resources = tuple(OxfordIIITPet._RESOURCES)
    except (ImportError, AttributeError):  # torchvision 내부 이름이 바뀌면 같은 값을 여기서
        resources = _OXFORD_FALLBACK
    return [Source(url, url.rsplit("/", 1)[-1], md5=md5) for url, md5 in resources]


SOURCES: dict[str, list[Source]] = {
    # Microsoft가 공개한 체크섬이 없어 크기(824,887,076 바이트)와 zip 안의 항목별 CRC32로 검사합니다
    # (check_file이 md5, sha256이 없는 zip은 모든 항목의 CRC를 확인합니다).
    "dogs-vs-cats": [Source(PETIMAGES_URL, "kagglecatsanddogs_5340.zip", size=824_887_076)],
    "oxford-pets": _oxford_sources(),
}

MANUAL_STEPS: dict[str, str] = {
    "dogs-vs-cats": (
        "개/고양이 사진을 손으로 준비하는 방법 (자세한 내용은 data/README.md):\n"
        f"  1) 브라우저로 {PETIMAGES_URL} 를 내려받습니다 (약 787MB).\n"
        "  2) 압축을 풀면 PetImages/Cat, PetImages/Dog 폴더가 나옵니다.\n"
        "  3) 두 폴더를 data/dogs-vs-cats/Cat, data/dogs-vs-cats/Dog 로 옮깁니다.\n"
        "  또는 Kaggle 대회 'dogs-vs-cats'의 train.zip을 풀고\n"
        "  python -m course_utils organize <train 폴더> data/dogs-vs-cats 로 Cat/Dog 폴더를 만듭니다.\n"
        "  이미 가진 사진이 있으면 COURSE_DOGS_VS_CATS=<Cat, Dog 폴더가 있는 경로> 로 알려 주세요."),
    "oxford-pets": (
        "Oxford-IIIT Pet을 손으로 준비하는 방법 (자세한 내용은 data/README.md):\n"
        "  1) https://www.robots.ox.ac.uk/~vgg/data/pets/ 에서 images.tar.gz, annotations.tar.gz 를 내려받습니다.\n"
        "  2) 두 파일을 data/oxford-iiit-pet/ 안에서 풉니다 (images/, annotations/trimaps/ 가 생깁니다).\n"
        "  COCO 형식 폴더(instances.json + 사진)가 있으면 COURSE_PETS=<그 폴더> 로 알려 주세요."),
}


def file_digest(path: Path, algo: str) -> str:
    """파일의 md5 또는 sha256 16진수 요약값을 계산합니다."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _zip_problem(path: Path) -> str | None:
    """zip의 모든 항목을 풀어 보며 CRC32를 확인합니다. 손상되었으면 그 설명을 돌려줍니다."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        return f"zip 파일로 읽을 수 없습니다 ({exc})"
    return f"zip 안의 {bad} 항목이 손상되었습니다 (CRC 불일치)" if bad else None


def check_file(path: Path, source: Source) -> str | None:
    """파일이 크기와 체크섬에 맞으면 None, 아니면 무엇이 틀렸는지 한국어 문장을 돌려줍니다.

    md5, sha256이 없는 zip은 zip 안에 든 항목별 CRC32로 검사합니다.
    """
    path = Path(path)
    if not path.is_file():
        return f"{path} 파일이 없습니다"
    if source.size is not None and path.stat().st_size != source.size:
        return f"크기가 {path.stat().st_size:,} 바이트로 기대값 {source.size:,} 바이트와 다릅니다"
    for algo in ("sha256", "md5"):
        want = getattr(source, algo)
        if want:
            got = file_digest(path, algo)
            if not got.lower().startswith(want.lower()):
                return f"{algo}가 {got}로 기대값 {want}와 다릅니다"
    if not (source.sha256 or source.md5) and source.filename.lower().endswith(".zip"):
        return _zip_problem(path)
    return None


def _is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}MB"


def _disk_full_message(folder: Path, need: int | None = None) -> str:
    """디스크가 가득 찼을 때의 안내: 어디에, 얼마나 필요한지, 무엇을 할지."""
    try:
        free = f"남은 공간 {_mib(shutil.disk_usage(folder).free)}"
    except OSError:
        free = "남은 공간을 알 수 없음"
    needed = f", 필요한 공간 약 {_mib(need)}" if need else ""
    return (f"{folder} 가 있는 디스크에 공간이 부족합니다 ({free}{needed}). 공간을 비운 뒤 같은 명령을 다시 "
            f"실행하거나, 환경 변수 COURSE_DATA=<공간이 넉넉한 폴더> 로 데이터 폴더를 옮기세요.")


def _check_space(folder: Path, need: int | None) -> None:
    """need 바이트를 쓸 공간이 없으면 받거나 풀기 전에 한국어 DownloadError를 냅니다."""
    if need and shutil.disk_usage(folder).free < need:
        raise DownloadError(_disk_full_message(folder, need))


def writable_folder(folder: Path) -> Path:
    """folder를 만들고 그 안에 파일을 쓸 수 있는지 확인합니다. 쓸 수 없으면 한국어 DownloadError."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        if _is_disk_full(exc):
            raise DownloadError(_disk_full_message(folder)) from exc
        raise DownloadError(f"{folder} 에 파일을 쓸 수 없습니다 ({exc.strerror or exc}). 폴더의 쓰기 권한을 확인하거나, "
                            f"환경 변수 COURSE_DATA=<쓸 수 있는 폴더> 로 데이터 폴더를 바꾸세요.") from exc
    return folder


class _RangeRejected(Exception):
    """서버가 이어받기 위치를 거절했을 때(HTTP 416): .part가 서버의 파일보다 깁니다."""


class _ReadFailed(Exception):
    """서버에서 읽는 도중에 실패했을 때 (끊긴 연결, 시간 초과, 불완전한 HTTP 응답)."""


def _open(url: str, timeout: float, start: int) -> tuple[http.client.HTTPResponse, bool]:
    """URL을 엽니다. start>0이면 이어받기(Range)를 요청하고, 서버가 받아들였는지도 돌려줍니다."""
    req = urllib.request.Request(url, headers={"User-Agent": "course-utils/0.1"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (https/http 주소만 씁니다)
    return resp, bool(start) and getattr(resp, "status", 200) == 206


def _connect(source: Source, timeout: float, start: int, manual: str) -> tuple[http.client.HTTPResponse, bool]:
    """_open을 부르고 실패를 한국어 SourceUnreachable로 바꿉니다 (HTTP 416은 _RangeRejected)."""
    try:
        return _open(source.url, timeout, start)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:
            raise _RangeRejected from exc
        raise SourceUnreachable(f"{source.url} 가 HTTP {exc.code} ({exc.reason}) 로 응답했습니다. 주소가 바뀌었거나 "
                                f"서버에 일시적인 문제가 있습니다.\n{manual}".rstrip()) from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, 시간 초과, 연결 거부
        raise SourceUnreachable(f"{source.url} 에 연결할 수 없습니다 ({exc}).\n{manual}".rstrip()) from exc


def _resume_offset(part: Path, source: Source) -> int:
    """이어받을 위치. 기대 크기 이상인 .part(다 받았는데 검사에 실패했거나 너무 긴 것)는 지우고 0."""
    if not part.exists():
        return 0
    size = part.stat().st_size
    if source.size is not None and size >= source.size:
        part.unlink()
        return 0
    return size


def _read_block(resp: http.client.HTTPResponse) -> bytes:
    """지금 도착한 만큼만 읽습니다(read1): 느린 서버 앞에서도 마감 시간을 확인할 수 있습니다."""
    try:
        return resp.read1(CHUNK)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _ReadFailed(f"{type(exc).__name__}: {exc}") from exc


def _receive(resp: http.client.HTTPResponse, part: Path, start: int, total: int | None, *,
             deadline_s: float, progress: bool) -> int:
    """응답 본문을 part에 씁니다(start>0이면 덧붙임). 받은 바이트 수를 돌려줍니다."""
    bar = progress_bar(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                       desc=part.name.removesuffix(".part"), enabled=progress)
    stop_at = time.monotonic() + deadline_s
    received = 0
    try:
        with resp:
            _check_space(part.parent, total - start if total else None)
            with open(part, "ab" if start else "wb") as f:
                while block := _read_block(resp):
                    f.write(block)
                    received += len(block)
                    bar.update(len(block))
                    if time.monotonic() > stop_at:
                        raise DownloadError(_too_slow_message(part, start + received, total, deadline_s))
    finally:
        bar.close()
    return received


def _too_slow_message(part: Path, have: int, total: int | None, deadline_s: float) -> str:
    got = _mib(have) + (f" / {_mib(total)}" if total else "")
    return (f"{part.name.removesuffix('.part')} 을 {deadline_s / 60:g}분 안에 다 받지 못했습니다 ({got}). "
            f"서버나 네트워크가 너무 느립니다. 받은 부분은 {part} 에 남겨 두었으니 같은 명령을 다시 실행하면 "
            f"이어 받습니다(서버가 이어받기를 지원할 때).")


def download_file(source: Source, dest_dir: Path, *, timeout: float = 15.0, deadline_s: float = DEADLINE_S,
                  progress: bool = True, manual: str = "") -> Path:
    """source를 dest_dir/filename으로 내려받아 검사하고 경로를 돌려줍니다.

    받는 동안에는 ``filename.part``에 쓰고, 크기와 체크섬이 맞을 때만 최종 이름으로 바꿉니다
    (os.replace, 원자적). 중간에 끊기면 .part가 남고 다음 실행이 이어받거나(서버가 Range를
    지원할 때) 처음부터 다시 받습니다. 최종 이름의 파일은 언제나 완전한 파일입니다.
    timeout은 응답 하나를 기다리는 시간, deadline_s는 파일 하나 전체에 쓰는 최대 시간입니다.
    """
    dest_dir = writable_folder(Path(dest_dir))
    dest = dest_dir / source.filename
    if dest.exists() and check_file(dest, source) is None:
        return dest
    part = dest.with_name(dest.name + ".part")
    if part.exists() and (source.size or source.md5 or source.sha256) and check_file(part, source) is None:
        os.replace(part, dest)  # 지난번에 다 받고 이름만 못 바꾼 경우
        return dest
    start = _resume_offset(part, source)
    try:
        resp, resumed = _connect(source, timeout, start, manual)
    except _RangeRejected:  # 서버 파일보다 긴 .part: 버리고 처음부터
        part.unlink(missing_ok=True)
        start = 0
        resp, resumed = _connect(source, timeout, start, manual)
    if not resumed:
        start = 0
    length = resp.headers.get("Content-Length")
    total = start + int(length) if length is not None else source.size
    try:
        received = _receive(resp, part, start, total, deadline_s=deadline_s, progress=progress)
        if length is not None and received < int(length):  # 서버가 말한 크기보다 일찍 끝남
            raise _ReadFailed(f"{int(length):,} 바이트 중 {received:,} 바이트만 받음")
    except _ReadFailed as exc:
        raise DownloadError(f"{source.filename} 을 받는 중에 연결이 끊겼습니다 ({exc}). "
                            f"같은 명령을 다시 실행하면 {part} 에서 이어 받습니다.") from exc
    except OSError as exc:  # 받은 것을 디스크에 쓰지 못함
        if _is_disk_full(exc):
            raise DownloadError(f"{part} 에 쓰는 중에 디스크가 가득 찼습니다. 받은 부분은 남겨 두었습니다. "
                                + _disk_full_message(dest_dir, total)) from exc
        raise DownloadError(f"{part} 에 쓰지 못했습니다 ({exc}). 폴더의 쓰기 권한과 디스크를 확인하세요.") from exc
    problem = check_file(part, source)
    if problem is not None:
        part.unlink(missing_ok=True)  # 틀린 파일에 이어 붙이면 영원히 틀리므로 지웁니다
        raise DownloadError(f"내려받은 {part} 의 검사 실패: {problem}. 파일을 지웠으니 다시 실행하세요. "
                            f"계속 실패하면 주소가 바뀌었을 수 있습니다.\n{manual}".rstrip())
    os.replace(part, dest)
    return dest


def _unsafe_name(name: str) -> str | None:
    """압축 항목 이름이 대상 폴더를 벗어나면 그 이유를, 안전하면 None을 돌려줍니다."""
    if not name:
        return "빈 이름"
    win = PureWindowsPath(name)
    if name.startswith(("/", "\\")) or win.drive or PurePosixPath(name).is_absolute():
        return "절대 경로"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "상위 폴더(..)로 나가는 경로"
    return None


def _is_zip(archive: Path) -> bool:
    """이름이 .zip이거나 내용이 zip이면 zip으로 다룹니다 (잘린 zip도 tar로 오해하지 않도록)."""
    return archive.suffix.lower() == ".zip" or zipfile.is_zipfile(archive)


def _check_members(archive: Path) -> tuple[list[str], int]:
    """압축 파일의 모든 항목을 풀기 전에 검사합니다. (위험한 항목 설명 목록, 풀었을 때의 전체 크기)."""
    bad, total = [], 0
    if _is_zip(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                why = _unsafe_name(info.filename)
                if why is None and stat.S_ISLNK(info.external_attr >> 16):
                    why = "심볼릭 링크"
                if why:
                    bad.append(f"{info.filename} ({why})")
                total += info.file_size
        return bad, total
    with tarfile.open(archive) as tf:
        for m in tf.getmembers():
            why = _unsafe_name(m.name)
            if why is None and (m.issym() or m.islnk()):
                why = "링크"
            if why is None and not (m.isfile() or m.isdir()):
                why = "장치나 특수 파일"
            if why:
                bad.append(f"{m.name} ({why})")
            total += m.size
    return bad, total


# 망가진 압축 파일을 읽을 때 나는 오류들 (zlib.error는 gzip 스트림 중간이 깨졌을 때)
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError)


def _archive_error(archive: Path, exc: BaseException, doing: str) -> DownloadError:
    """압축 파일 오류를 한국어로: 디스크가 가득 찬 경우와 파일이 망가진 경우를 구분합니다."""
    if _is_disk_full(exc):
        return DownloadError(f"{archive} 을 {doing} 중에 디스크가 가득 찼습니다. 압축 파일은 그대로 두었습니다. "
                             + _disk_full_message(archive.parent))
    detail = (str(exc).splitlines() or [""])[0][:120]
    return DownloadError(f"{archive} 을 {doing} 중에 실패했습니다 ({type(exc).__name__}: {detail}). 파일이 망가졌을 수 "
                         f"있습니다. 이 파일을 지우고 다시 실행하면 새로 내려받습니다.")


def _merge_new(staging: Path, target: Path, moved: list[tuple[Path, Path]]) -> None:
    """staging에만 있는 항목을 target 안의 같은 자리로 옮깁니다. 이미 있는 것은 건드리지 않습니다."""
    for child in sorted(staging.iterdir()):
        there = target / child.name
        if not there.exists() and not there.is_symlink():
            os.replace(child, there)
            moved.append((child, there))
        elif child.is_dir() and there.is_dir() and not there.is_symlink():
            _merge_new(child, there, moved)


def move_in_new(staging: Path, target: Path) -> None:
    """staging의 내용을 target으로 옮깁니다. target에 이미 있는 것은 지우거나 덮어쓰지 않습니다.

    target이 없으면 이름 바꾸기 한 번(원자적)이고, 있으면 새 항목만 옮깁니다. 도중에 멈추면
    (오류, Ctrl+C) 옮긴 것을 되돌려 target을 처음 상태로 둡니다.
    """
    if not target.exists():
        os.replace(staging, target)
        return
    moved: list[tuple[Path, Path]] = []
    try:
        _merge_new(staging, target, moved)
    except BaseException:
        for src, dst in reversed(moved):
            os.replace(dst, src)
        raise


def safe_extract(archive: Path, target: Path) -> Path:
    """zip이나 tar(.gz)를 target 폴더 안에 풉니다. 밖으로 나가는 항목이 하나라도 있으면 아무것도 풀지 않습니다.

    먼저 target 옆의 임시 폴더에 모두 푼 뒤 target으로 옮기므로, 중간에 멈추어도 반쯤 풀린
    폴더가 target에 남지 않습니다. target에 이미 있는 파일과 폴더는 지우거나 덮어쓰지 않습니다.
    """
    archive, target = Path(archive), Path(target)
    try:
        bad, size = _check_members(archive)
    except _ARCHIVE_ERRORS as exc:
        raise _archive_error(archive, exc, "여는") from exc
    if bad:
        shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise UnsafeArchiveError(f"{archive} 안에 대상 폴더 밖을 가리키는 항목이 있어 풀지 않았습니다: {shown}")
    writable_folder(target.parent)
    _check_space(target.parent, size)
    tmp = target.parent / f".{target.name}.extracting"
    shutil.rmtree(tmp, ignore_errors=True)  # 지난번에 강제로 멈춘 실행이 남긴 임시 폴더
    tmp.mkdir()
    try:
        if _is_zip(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)  # 항목마다 CRC를 검사하므로 깨진 zip은 여기서 실패합니다
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
    except _ARCHIVE_ERRORS as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _archive_error(archive, exc, "푸는") from exc
    try:
        move_in_new(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def fetch(name: str, download_dir: Path, *, timeout: float = 15.0, deadline_s: float = DEADLINE_S,
          progress: bool = True) -> list[Path]:
    """SOURCES[name]의 파일을 모두 download_dir에 내려받고(이미 있고 맞으면 건너뜀) 경로 목록을 돌려줍니다."""
    if name not in SOURCES:
        raise ValueError(f"모르는 데이터 세트 이름입니다: {name}. {sorted(SOURCES)} 중에서 고르세요.")
    manual = MANUAL_STEPS.get(name, "")
    return [download_file(src, download_dir, timeout=timeout, deadline_s=deadline_s, progress=progress, manual=manual)
            for src in SOURCES[name]]
