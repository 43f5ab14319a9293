"""테스트 공통 설정: 그림은 화면 없이 그리고, 공유 실데이터 위치를 알려 줍니다."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
os.environ.setdefault("COURSE_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """저장소 옆 ../shared/data (실제 사진 표본). 없으면 테스트를 건너뜁니다."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data 가 없어 실데이터 테스트를 건너뜁니다")
    return SHARED_DATA


@pytest.fixture
def one_thread():
    """학습하는 테스트는 torch 스레드 하나로: 2코어에 작업자 2개(-n 2)면 스레드끼리 다투느라 몇 배 느려집니다."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
