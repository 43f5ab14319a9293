"""데이터가 어디서 오는지: 사용자가 준 경로, data/ 아래에 이미 있는 폴더, 내려받기, 합성 데이터.

찾는 순서 (find_dogs_vs_cats, find_pets):
  1) 인자 path 또는 환경 변수(COURSE_DOGS_VS_CATS, COURSE_PETS)로 준 경로
  2) <데이터 폴더>/dogs-vs-cats, <데이터 폴더>/oxford-iiit-pet 등 이미 있는 폴더 (전체 모드)
  3) 내려받기 (전체 모드, 온라인, COURSE_OFFLINE이 아닐 때)
  4) 합성 데이터 (빠른 모드는 경로를 직접 주지 않는 한 언제나 여기)
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import download as dl
from .coco import find_coco_json
from .data import DataFolderError, FolderLayout, read_layout

__all__ = [
    "DOGS_VAR", "PETS_VAR", "DataSource", "download_dogs_vs_cats", "download_oxford_pets", "find_dogs_vs_cats",
    "find_pets", "dataset_status",
]

DOGS_VAR, PETS_VAR = "COURSE_DOGS_VS_CATS", "COURSE_PETS"


def _has_class_dirs(root: Path) -> bool:
    """root/Cat, root/Dog 폴더가 있고 파일이 들어 있는지."""
    return all((root / c).is_dir() and any((root / c).iterdir()) for c in ("Cat", "Dog"))


def _count_images(root: Path) -> int:
    """root 아래 이미지 확장자(torchvision의 IMG_EXTENSIONS와 .gif) 파일 수 (열어 보지 않고 빠르게)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    exts = (*IMG_EXTENSIONS, ".gif")
    return sum(1 for p in root.rglob("*") if p.suffix.lower() in exts and not p.name.startswith(".") and p.is_file())


def _count_pets(root: Path) -> int:
    """COCO 폴더면 instances.json의 이미지 수, Oxford 폴더면 images/의 JPEG 수."""
    ann = find_coco_json(root)
    if ann is not None:
        return len(json.loads(ann.read_text(encoding="utf-8-sig"))["images"])  # Windows 메모장의 BOM도 읽습니다
    return sum(1 for _ in (root / "images").glob("*.jpg"))


# ---------------------------------------------------------------- 찾기

@dataclass
class DataSource:
    """찾은 데이터: 폴더, 종류('user'|'local'|'downloaded'|'synthetic'), 한국어 안내문, (분류면) 폴더 구조.

    경로처럼 쓸 수 있습니다: index_images(source)는 index_images(source.root)와 같습니다.
    """

    root: Path
    kind: str
    message: str
    layout: FolderLayout | None = None

    @property
    def synthetic(self) -> bool:
        return self.kind == "synthetic"

    def __fspath__(self) -> str:
        return str(self.root)

    def __str__(self) -> str:
        return self.message


def _given_path(path: str | os.PathLike | None, var: str) -> tuple[Path | None, str]:
    """인자나 환경 변수로 준 경로와 그 출처를 돌려줍니다."""
    if path is not None:
        return Path(path).expanduser(), "인자로 준"
    if os.environ.get(var):
        return Path(os.environ[var]).expanduser(), f"환경 변수 {var}로 준"
    return None, ""


def _can_download(env: Any) -> bool:
    """전체 모드이고 오프라인 설정이 아닐 때만 내려받습니다."""
    return not env.quick and not env.offline


def download_dogs_vs_cats(data_dir: Path, *, progress: bool = True, timeout: float = 10.0) -> Path:
    """Microsoft PetImages zip을 받아 <data_dir>/dogs-vs-cats/Cat, Dog로 풉니다. 그 폴더를 돌려줍니다.

    이미 있는 사진은 지우거나 덮어쓰지 않습니다. Cat/, Dog/ 중 한쪽에만 파일이 있으면 섞지 않도록
    내려받지 않고 할 일을 알리는 DownloadError를 냅니다.
    """
    data_dir = Path(data_dir)
    target = data_dir / "dogs-vs-cats"
    if _has_class_dirs(target):
        return target
    filled = [c for c in ("Cat", "Dog") if (target / c).is_dir() and any((target / c).iterdir())]
    if filled:
        other = "Dog" if filled == ["Cat"] else "Cat"
        raise dl.DownloadError(
            f"{target / filled[0]} 에는 이미 파일이 있는데 {target / other} 폴더는 없거나 비어 있습니다. "
            f"있는 파일을 지우거나 섞지 않도록 내려받지 않았습니다. {other}/ 에 사진을 넣거나, "
            f"{filled[0]}/ 폴더를 다른 곳으로 옮긴 뒤 다시 실행하세요.")
    (archive,) = dl.fetch("dogs-vs-cats", data_dir / "downloads", timeout=timeout, progress=progress)
    staging = data_dir / ".dogs-vs-cats.unpacked"
    shutil.rmtree(staging, ignore_errors=True)  # 강제로 멈춘 지난 실행이 남긴 임시 폴더
    dl.safe_extract(archive, staging)
    try:
        pet = staging / "PetImages" if (staging / "PetImages").is_dir() else staging
        if not _has_class_dirs(pet):
            raise dl.DownloadError(f"{archive} 안에 PetImages/Cat, PetImages/Dog 폴더가 없습니다.\n"
                                   + dl.MANUAL_STEPS["dogs-vs-cats"])
        dl.move_in_new(pet, target)  # 빈 Cat/, Dog/ 폴더는 채우고, 다른 파일은 그대로 둡니다
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def download_oxford_pets(data_dir: Path, *, progress: bool = True, timeout: float = 10.0) -> Path:
    """Oxford-IIIT Pet(images, annotations)을 받아 <data_dir>/oxford-iiit-pet에 풉니다.

    torchvision.datasets.OxfordIIITPet(root=data_dir)도 읽을 수 있는 구조입니다.
    """
    target = Path(data_dir) / "oxford-iiit-pet"
    if _is_oxford(target):
        return target
    for archive in dl.fetch("oxford-pets", Path(data_dir) / "downloads", timeout=timeout, progress=progress):
        dl.safe_extract(archive, target)
    return target


def _synthetic_classification(env: Any, n_per_class: int, size: int, reason: str) -> DataSource:
    from . import synthetic

    root = Path(env.data_dir) / "synthetic" / f"dogs-vs-cats-{n_per_class}x{size}px"
    if not root.is_dir():
        dl.writable_folder(root.parent)  # 읽기 전용 데이터 폴더는 날것의 OSError 대신 한국어로 알립니다
    root = Path(synthetic.make_classification_set(root, n_per_class=n_per_class, size=size, seed=0))
    msg = (f"[합성 데이터] {reason} 그래서 진짜 사진이 아닌 합성 그림(클래스당 {n_per_class}장, {size}px)을 씁니다: "
           f"{root}\n  결과 수치는 진짜 개/고양이 사진의 성능이 아닙니다.")
    return DataSource(root, "synthetic", msg, read_layout(root))


def _local_layout(root: Path) -> tuple[FolderLayout | None, str]:
    """data/ 아래 폴더의 구조. 없으면 (None, ''), 있지만 쓸 수 없으면 (None, 이유)."""
    if not root.exists():
        return None, ""
    try:
        return read_layout(root), ""
    except (OSError, DataFolderError) as exc:
        return None, str(exc)


def find_dogs_vs_cats(env: Any, path: str | os.PathLike | None = None, *, n_per_class: int = 200,
                      size: int = 128, download: bool = True) -> DataSource:
    """개/고양이(또는 어떤 클래스든) 분류 데이터를 찾고 안내문을 출력합니다.

    폴더 구조는 course_utils.data.read_layout이 읽는 것이면 됩니다: 클래스 폴더(Cat/ Dog/, cats/ dogs/, 어떤 이름이든),
    PetImages/ 로 한 겹 싼 폴더, 나뉜 폴더(train/ val/ test/), Kaggle의 평평한 train/(cat.0.jpg).
    직접 준 경로를 읽을 수 없으면 찾은 것과 할 일을 담은 한국어 오류로 멈춥니다.
    n_per_class, size는 합성 데이터로 갈 때의 크기입니다 (노트북의 cfg에서 넘깁니다).
    """
    given, origin = _given_path(path, DOGS_VAR)
    local = Path(env.data_dir) / "dogs-vs-cats"
    if given is not None:
        try:
            layout = read_layout(given)
        except (OSError, DataFolderError) as exc:
            raise type(exc)(f"{origin} 경로를 쓸 수 없습니다. {exc}") from None
        src = DataSource(layout.root, "user", f"[사용자 데이터] {origin} 경로의 사진을 씁니다: {layout.root}\n"
                                               f"  구조: {layout.describe()}", layout)
    elif env.quick:
        src = _synthetic_classification(env, n_per_class, size, "빠른 모드입니다.")
    elif (found := _local_layout(local))[0] is not None:
        layout = found[0]
        src = DataSource(layout.root, "local", f"[내려받아 둔 데이터] {layout.root} 의 사진을 씁니다.\n"
                                                f"  구조: {layout.describe()}", layout)
    else:
        if found[1]:
            print(f"{local} 가 있지만 쓸 수 없습니다.\n{found[1]}")
        src = _find_elsewhere(env, n_per_class, size, download)
    print(src.message)
    return src


def _find_elsewhere(env: Any, n_per_class: int, size: int, download: bool) -> DataSource:
    """전체 모드에서 data/ 에 쓸 만한 폴더가 없을 때: 내려받기, 아니면 합성 데이터."""
    if download and _can_download(env):
        try:
            root = download_dogs_vs_cats(Path(env.data_dir))
            return DataSource(root, "downloaded", f"[내려받은 데이터] Microsoft PetImages를 {root} 에 받았습니다.",
                              read_layout(root))
        except dl.DownloadError as exc:
            print(f"내려받기에 실패했습니다: {exc}")
            return _synthetic_classification(env, n_per_class, size, "진짜 사진을 내려받지 못했습니다.")
    why = "오프라인 설정(COURSE_OFFLINE)입니다." if env.offline else "내려받은 사진이 없습니다."
    src = _synthetic_classification(env, n_per_class, size, why)
    src.message += "\n" + dl.MANUAL_STEPS["dogs-vs-cats"]
    return src


def _is_oxford(root: Path) -> bool:
    return (root / "images").is_dir() and (root / "annotations" / "trimaps").is_dir()


def _pets_root(root: Path) -> Path | None:
    """COCO 폴더(instances.json 또는 annotations/instances*.json)나 Oxford-IIIT Pet 폴더이면 그 폴더."""
    for cand in (root, root / "oxford-iiit-pet"):
        if cand.is_dir() and (find_coco_json(cand) is not None or _is_oxford(cand)):
            return cand
    return None


def find_pets(env: Any, path: str | os.PathLike | None = None, *, n_images: int = 400, size: int = 128,
              max_pets: int = 3, download: bool = True) -> DataSource:
    """반려동물 검출/분할 데이터(COCO 폴더, Oxford-IIIT Pet 폴더, 또는 합성 COCO)를 찾습니다.

    n_images, size, max_pets는 합성 데이터로 갈 때의 크기입니다.
    """
    given, origin = _given_path(path, PETS_VAR)
    local = [Path(env.data_dir) / "oxford-pets", Path(env.data_dir) / "oxford-iiit-pet"]
    src = None
    if given is not None:
        root = _pets_root(given)
        if root is None:
            raise FileNotFoundError(f"{origin} 경로 {given} 에 instances.json(COCO)도, images/ + annotations/trimaps/"
                                    "(Oxford-IIIT Pet)도 없습니다. data/README.md의 구조를 확인하세요.")
        src = DataSource(root, "user", f"[사용자 데이터] {origin} 경로의 반려동물 데이터를 씁니다: {root}")
    elif not env.quick:
        for cand in local:
            root = _pets_root(cand) if cand.is_dir() else None
            if root is not None:
                src = DataSource(root, "local", f"[내려받아 둔 데이터] {root} 의 반려동물 데이터를 씁니다.")
                break
        if src is None and download and _can_download(env):
            try:
                root = download_oxford_pets(Path(env.data_dir))
                src = DataSource(root, "downloaded", f"[내려받은 데이터] Oxford-IIIT Pet을 {root} 에 받았습니다.")
            except dl.DownloadError as exc:
                print(f"내려받기에 실패했습니다: {exc}")
    if src is None:
        from . import synthetic

        why = "빠른 모드입니다." if env.quick else "진짜 반려동물 데이터가 없습니다."
        root = Path(env.data_dir) / "synthetic" / f"pets-coco-{n_images}x{size}px-{max_pets}"
        if not root.is_dir():
            dl.writable_folder(root.parent)
        root = Path(synthetic.make_detection_set(root, n_images=n_images, size=size, seed=0, max_pets=max_pets))
        msg = (f"[합성 데이터] {why} 진짜 사진이 아닌 합성 그림 {n_images}장({size}px, COCO 형식)을 씁니다: {root}\n"
               "  결과 수치는 진짜 반려동물 사진의 성능이 아닙니다.")
        if not env.quick:
            msg += "\n" + dl.MANUAL_STEPS["oxford-pets"]
        src = DataSource(root, "synthetic", msg)
    print(src.message)
    return src


# ---------------------------------------------------------------- 상태 표

def _status_row(name: str, how: str, read: Callable[[], tuple[Path, bool, int]], path: Path) -> dict[str, Any]:
    """상태 표의 한 줄. 폴더나 주석 파일이 잘못되어도 멈추지 않고 problem에 한국어로 적습니다."""
    try:
        root, present, n_images = read()
        return dict(name=name, path=str(root), present=present, n_images=n_images, how=how, problem="")
    except (DataFolderError, OSError) as exc:
        problem = str(exc)
    except Exception as exc:  # 주석 파일의 어떤 잘못이든 (JSON 문법, 빠진 키, 잘못된 타입): 표는 계속 그립니다
        problem = (f"{path} 의 주석 파일을 읽을 수 없습니다 ({type(exc).__name__}: {exc}). "
                   "JSON 문법과 images, annotations, categories 키를 확인하거나 다시 내보내세요.")
    return dict(name=name, path=str(path), present=False, n_images=0, how=how, problem=problem)


def _dogs_status(root: Path, must_exist: bool) -> tuple[Path, bool, int]:
    if not root.exists() and not must_exist:
        return root, False, 0
    layout = read_layout(root)
    return layout.root, True, _count_images(layout.root)


def _pets_status(cands: list[Path], must_exist: bool) -> tuple[Path, bool, int]:
    found = next((r for c in cands if c.is_dir() and (r := _pets_root(c)) is not None), None)
    if found is None:
        if must_exist:
            raise FileNotFoundError(f"{cands[0]} 에 instances.json(COCO)도, images/ + annotations/trimaps/"
                                    "(Oxford-IIIT Pet)도 없습니다. data/README.md의 구조를 확인하세요.")
        return cands[-1], False, 0
    return found, True, _count_pets(found)


def dataset_status(env: Any) -> list[dict[str, Any]]:
    """데이터 세트마다 이름, 경로, 있는지, 이미지 수, 구하는 방법, 문제를 사전 목록으로 (00_setup의 표).

    잘못된 폴더나 주석 파일은 표를 멈추지 않고 그 줄의 problem(한국어)에 적힙니다.
    """
    dogs_given, _ = _given_path(None, DOGS_VAR)
    dogs = dogs_given or Path(env.data_dir) / "dogs-vs-cats"
    pets_given, _ = _given_path(None, PETS_VAR)
    pets = [pets_given] if pets_given else [Path(env.data_dir) / "oxford-pets", Path(env.data_dir) / "oxford-iiit-pet"]
    synth = Path(env.data_dir) / "synthetic"
    return [
        _status_row("dogs-vs-cats (개/고양이 분류)",
                    "python -m course_utils download dogs-vs-cats (약 787MB) 또는 data/README.md",
                    lambda: _dogs_status(dogs, dogs_given is not None), dogs),
        _status_row("oxford-pets (검출/분할)",
                    "python -m course_utils download oxford-pets (약 800MB) 또는 COCO 폴더를 COURSE_PETS로",
                    lambda: _pets_status(pets, pets_given is not None), pets[0]),
        _status_row("synthetic (오프라인/빠른 모드용 합성 데이터)", "필요할 때 노트북이 자동으로 만듭니다",
                    lambda: (synth, synth.is_dir(), _count_images(synth) if synth.is_dir() else 0), synth),
    ]
