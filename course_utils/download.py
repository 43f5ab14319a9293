"""데이터 세트 내려받기: 진행 막대, 체크섬 검사, .part 파일과 원자적 이름 바꾸기, 안전한 압축 풀기.

노트북은 이 모듈을 직접 부르지 않습니다. ``course_utils.data``의 ``find_*`` 함수와
``python -m course_utils.data download ...`` 명령이 이 모듈을 씁니다.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm.auto import tqdm

CHUNK = 1 << 20  # 1 MiB씩 읽고 씁니다


class DownloadError(RuntimeError):
    """내려받기나 검사가 실패했을 때 (메시지는 한국어로 할 일을 알려 줍니다)."""


class SourceUnreachable(DownloadError):
    """내려받을 곳에 연결할 수 없을 때 (오프라인, 방화벽, 주소 변경)."""


class UnsafeArchiveError(DownloadError):
    """압축 파일 안에 대상 폴더 밖을 가리키는 항목(../, 절대 경로, 링크)이 있을 때."""


@dataclass(frozen=True)
class Source:
    """내려받을 파일 하나: 주소, 저장 이름, 체크섬(md5 또는 sha256), 알려진 크기."""

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
    # Microsoft가 공개한 체크섬이 없어 크기(824,887,076 바이트)와 zip 안의 항목별 CRC로 검사합니다.
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
        "  python -m course_utils.data organize <train 폴더> data/dogs-vs-cats 로 Cat/Dog 폴더를 만듭니다.\n"
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


def check_file(path: Path, source: Source) -> str | None:
    """파일이 체크섬과 크기에 맞으면 None, 아니면 무엇이 틀렸는지 한국어 문장을 돌려줍니다."""
    path = Path(path)
    if not path.is_file():
        return f"{path} 파일이 없습니다"
    if source.size is not None and path.stat().st_size != source.size:
        return f"크기가 {path.stat().st_size:,} 바이트로 기대값 {source.size:,} 바이트와 다릅니다"
    for algo in ("sha256", "md5"):
        want = getattr(source, algo)
        if want:
            got = file_digest(path, algo)
            if got.lower() != want.lower():
                return f"{algo}가 {got}로 기대값 {want}와 다릅니다"
    return None


def _open(url: str, timeout: float, start: int) -> tuple[object, bool]:
    """URL을 엽니다. start>0이면 이어받기(Range)를 요청하고, 서버가 받아들였는지도 돌려줍니다."""
    req = urllib.request.Request(url, headers={"User-Agent": "course-utils/0.1"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 (https/http 주소만 씁니다)
    return resp, bool(start) and getattr(resp, "status", 200) == 206


def download_file(source: Source, dest_dir: Path, *, timeout: float = 15.0, progress: bool = True,
                  manual: str = "") -> Path:
    """source를 dest_dir/filename으로 내려받아 검사하고 경로를 돌려줍니다.

    받는 동안에는 ``filename.part``에 쓰고, 크기와 체크섬이 맞을 때만 최종 이름으로 바꿉니다
    (os.replace, 원자적). 중간에 끊기면 .part가 남고 다음 실행이 이어받거나(서버가 Range를
    지원할 때) 처음부터 다시 받습니다. 최종 이름의 파일은 언제나 완전한 파일입니다.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.filename
    if dest.exists() and check_file(dest, source) is None:
        return dest
    part = dest.with_name(dest.name + ".part")
    if part.exists() and (source.size or source.md5 or source.sha256) and check_file(part, source) is None:
        os.replace(part, dest)  # 지난번에 다 받고 이름만 못 바꾼 경우
        return dest
    start = part.stat().st_size if part.exists() else 0
    try:
        resp, resumed = _open(source.url, timeout, start)
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
        raise SourceUnreachable(f"{source.url} 에 연결할 수 없습니다 ({exc}).\n{manual}".rstrip()) from exc
    if not resumed:
        start = 0
    length = resp.headers.get("Content-Length")
    total = start + int(length) if length is not None else source.size
    bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
               desc=source.filename, disable=not progress)
    received = 0
    try:
        with resp, open(part, "ab" if start else "wb") as f:
            while block := resp.read(CHUNK):
                f.write(block)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < int(length):  # 서버가 말한 크기보다 일찍 끝남
            raise ConnectionError(f"{int(length):,} 바이트 중 {received:,} 바이트만 받음")
    except (OSError, ValueError) as exc:  # 끊긴 연결, 시간 초과, 불완전한 응답
        raise DownloadError(f"{source.filename} 을 받는 중에 연결이 끊겼습니다 ({exc}). "
                            f"같은 명령을 다시 실행하면 {part.name} 에서 이어 받습니다.") from exc
    finally:
        bar.close()
    problem = check_file(part, source)
    if problem is not None:
        part.unlink(missing_ok=True)  # 틀린 파일에 이어 붙이면 영원히 틀리므로 지웁니다
        raise DownloadError(f"{source.filename} 검사 실패: {problem}. 파일을 지웠으니 다시 실행하세요. "
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


def _check_members(archive: Path) -> list[str]:
    """압축 파일의 모든 항목을 풀기 전에 검사하고, 위험한 항목 설명 목록을 돌려줍니다."""
    bad = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                why = _unsafe_name(info.filename)
                if why is None and stat.S_ISLNK(info.external_attr >> 16):
                    why = "심볼릭 링크"
                if why:
                    bad.append(f"{info.filename} ({why})")
        return bad
    with tarfile.open(archive) as tf:
        for m in tf.getmembers():
            why = _unsafe_name(m.name)
            if why is None and (m.issym() or m.islnk()):
                why = "링크"
            if why is None and not (m.isfile() or m.isdir()):
                why = "장치나 특수 파일"
            if why:
                bad.append(f"{m.name} ({why})")
    return bad


def safe_extract(archive: Path, target: Path) -> Path:
    """zip이나 tar(.gz)를 target 폴더 안에 풉니다. 밖으로 나가는 항목이 하나라도 있으면 아무것도 풀지 않습니다.

    먼저 target 옆의 임시 폴더에 모두 푼 뒤 target 안으로 옮기므로, 중간에 멈추어도
    반쯤 풀린 폴더가 target에 남지 않습니다.
    """
    archive, target = Path(archive), Path(target)
    try:
        bad = _check_members(archive)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise DownloadError(f"{archive.name} 을 열 수 없습니다 ({exc}). 파일을 지우고 다시 내려받으세요.") from exc
    if bad:
        shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise UnsafeArchiveError(f"{archive.name} 안에 대상 폴더 밖을 가리키는 항목이 있어 풀지 않았습니다: {shown}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.extracting"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)  # 항목마다 CRC를 검사하므로 깨진 zip은 여기서 실패합니다
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
        target.mkdir(parents=True, exist_ok=True)
        for child in tmp.iterdir():
            dest = target / child.name
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            os.replace(child, dest)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise DownloadError(f"{archive.name} 을 푸는 중에 실패했습니다 ({exc}). 파일을 지우고 다시 내려받으세요.") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def fetch(name: str, download_dir: Path, *, timeout: float = 15.0, progress: bool = True) -> list[Path]:
    """SOURCES[name]의 파일을 모두 download_dir에 내려받고(이미 있고 맞으면 건너뜀) 경로 목록을 돌려줍니다."""
    if name not in SOURCES:
        raise ValueError(f"모르는 데이터 세트 이름입니다: {name}. {sorted(SOURCES)} 중에서 고르세요.")
    manual = MANUAL_STEPS.get(name, "")
    return [download_file(src, download_dir, timeout=timeout, progress=progress, manual=manual)
            for src in SOURCES[name]]
