"""노트북 맨 위에서 부르는 준비 함수: 시드, 장치, 한글 글꼴, 실행 모드를 한 번에 정합니다."""
from __future__ import annotations

import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

__all__ = [
    "QUICK_VAR", "DEVICE_VAR", "DATA_VAR", "OFFLINE_VAR", "is_quick", "seed_everything", "seed_worker",
    "make_generator", "get_device", "use_korean_font", "find_data_dir", "CourseEnv", "setup",
]

QUICK_VAR = "COURSE_QUICK"
DEVICE_VAR = "COURSE_DEVICE"
DATA_VAR = "COURSE_DATA"
OFFLINE_VAR = "COURSE_OFFLINE"
_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    """환경 변수 하나를 참/거짓으로 읽습니다."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_quick() -> bool:
    """빠른 모드(테스트용 축소 실행)인지 돌려줍니다. 기본은 전체 모드입니다."""
    return _flag(QUICK_VAR)


def seed_everything(seed: int) -> None:
    """random, NumPy, torch(CUDA 포함)의 난수 시드를 한 번에 고정합니다."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # CUDA 장치의 시드도 함께 고정됩니다
    os.environ["PYTHONHASHSEED"] = str(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader 작업자 프로세스마다 random과 NumPy 시드를 torch 시드에서 이끌어 냅니다."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def make_generator(seed: int) -> torch.Generator:
    """DataLoader의 섞기 순서를 고정하는 난수 생성기를 만듭니다."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


_DEVICE_CHOICES = "cpu, cuda, cuda:<번호>(예: cuda:0), mps"


def _parse_device(name: str, origin: str) -> torch.device:
    """장치 이름을 읽고, 이 과정에서 쓸 수 없는 값이면 어디서 온 값인지와 고를 수 있는 값을 알립니다."""
    text = name.strip().lower()
    hint = " GPU는 cuda라고 적습니다." if text.startswith("gpu") else ""
    try:
        device = torch.device(text)
    except RuntimeError:  # 'gpu', 'cuda0' 같은 오타
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{origin} 값 '{name}'은(는) 쓸 수 없는 장치입니다.{hint} "
                         f"고를 수 있는 값: {_DEVICE_CHOICES}. 비워 두면 CUDA, MPS, CPU 순서로 자동으로 고릅니다.")
    return device


def get_device(name: str | None = None) -> torch.device:
    """장치를 고릅니다: 인자, 환경 변수 COURSE_DEVICE, CUDA, Apple MPS, CPU 순서."""
    origin = "device 인자" if name else f"환경 변수 {DEVICE_VAR}"
    name = name or os.environ.get(DEVICE_VAR, "").strip() or None
    if name:
        device = _parse_device(name, origin)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"{origin} 값 '{name}'이지만 CUDA GPU가 보이지 않습니다. 값을 지우거나 cpu로 바꾸세요.")
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(f"{origin} 값 '{name}'이지만 GPU는 {torch.cuda.device_count()}개뿐입니다 "
                               f"(번호는 0부터). 값을 cuda:0 이나 cuda로 바꾸세요.")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"{origin} 값 '{name}'이지만 Apple MPS를 쓸 수 없습니다. 값을 지우거나 cpu로 바꾸세요.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def use_korean_font() -> str:
    """matplotlib이 한글과 마이너스 기호를 그리도록 패키지에 든 글꼴을 등록합니다."""
    import matplotlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import koreanize_matplotlib  # noqa: F401  (가져오기만 해도 NanumGothic을 등록합니다)
    matplotlib.rcParams["axes.unicode_minus"] = False
    return matplotlib.rcParams["font.family"][0]


def find_data_dir() -> Path:
    """데이터 폴더: COURSE_DATA, 저장소 안이면 <저장소>/data, 아니면 ./data."""
    if os.environ.get(DATA_VAR):
        return Path(os.environ[DATA_VAR]).expanduser().resolve()
    repo = Path(__file__).resolve().parents[1]
    if (repo / "notebooks").is_dir():
        return repo / "data"
    return Path.cwd() / "data"


@dataclass
class CourseEnv:
    """setup()이 돌려주는 실행 환경."""

    seed: int
    device: torch.device
    quick: bool
    data_dir: Path
    offline: bool
    num_workers: int
    started: float = field(default_factory=time.time)  # setup()을 부른 시각 (걸린 시간 기록용)

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"

    def pick(self, *, full: dict[str, Any], quick: dict[str, Any]) -> SimpleNamespace:
        """모드별 설정 두 벌 중 지금 모드의 것을 고릅니다. 두 사전의 키는 같아야 합니다."""
        if set(full) != set(quick):
            diff = sorted(set(full) ^ set(quick))
            raise ValueError(f"full과 quick 설정의 키가 다릅니다: {diff}. 두 사전에 같은 키를 모두 적으세요.")
        return SimpleNamespace(**(quick if self.quick else full))


def _default_workers(device: torch.device) -> int:
    """노트북에서 안전한 DataLoader 작업자 수. 빠른 모드도 같은 수를 씁니다 (Windows/macOS 노트북은 0).

    Windows와 macOS는 작업자를 spawn으로 띄워 노트북 안에서 정의한 Dataset을 넘길 수 없으므로 0입니다.
    """
    if sys.platform in ("win32", "darwin"):
        return 0
    return min(4, os.cpu_count() or 1) if device.type == "cuda" else min(2, os.cpu_count() or 1)


def setup(seed: int = 42, device: str | None = None, quiet: bool = False) -> CourseEnv:
    """시드, 장치, 한글 글꼴, 실행 모드를 정하고 한 줄로 알립니다."""
    seed_everything(seed)
    quick = is_quick()
    dev = get_device(device)
    font = use_korean_font()
    env = CourseEnv(seed=seed, device=dev, quick=quick, data_dir=find_data_dir(),
                    offline=_flag(OFFLINE_VAR), num_workers=_default_workers(dev))
    if not quiet:
        mode = "빠른 모드(축소 실행)" if quick else "전체 모드"
        print(f"준비 완료: 장치 {dev.type}, {mode}, 시드 {seed}, 글꼴 {font}, 데이터 폴더 {env.data_dir}")
    return env
