"""진행 막대: 노트북에서는 셀 안에서 갱신되다가 끝나면 흔적 없이 사라지고, 터미널에서는 보통의 tqdm.

노트북의 막대는 위젯이 아니라 글자 한 줄입니다. 출력 하나를 display handle로 만들어 두고 갱신하다가
닫을 때 빈 출력으로 바꿉니다. 그래서 저장했다 다시 연 노트북이나 HTML 읽기용 사본에
"Error displaying widget"이나 멈춘 "0%|" 줄이 남지 않습니다. 비운 출력은 같은 셀의 다음 막대가 다시 쓰므로,
에폭마다 막대를 새로 여는 긴 학습도 셀에 빈 출력을 에폭 수만큼 쌓지 않습니다.

tqdm.auto는 쓰지 않습니다: tqdm.auto의 막대는 만들어질 때 iter(iterable)를 한 번 더 불러,
DataLoader라면 쓰지도 않을 작업자 프로세스를 한 벌 더 띄우고 섞기 순서도 한 번 소비합니다.
그 반복자가 순환 참조 쓰레기로 남으면 다음에 fork된 작업자가 그것을 치우다
"AssertionError: can only test a child process" 메시지를 쏟아 냅니다.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.std import tqdm as std_tqdm

__all__ = ["progress", "in_notebook"]


def in_notebook() -> bool:
    """Jupyter 커널(JupyterLab, Colab, VS Code 노트북) 안에서 실행 중인지 돌려줍니다."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return getattr(shell, "kernel", None) is not None


class _NullFile:
    """tqdm이 터미널에 쓰려는 글자를 버리는 파일 (노트북 막대는 display로만 그립니다)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


_free_handles: dict[object, list] = {}  # 셀 실행 -> 닫힌 막대가 비워 둔 출력들 (다음 막대가 다시 씀)


def _cell_key() -> object:
    """지금 실행 중인 셀을 가리키는 값 (커널이 셀마다 받는 요청의 id, 없으면 실행 번호)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    header = getattr(shell, "parent_header", None) or {}
    return header.get("header", {}).get("msg_id") or getattr(shell, "execution_count", None)


def _take_handle() -> Any:
    """이 셀에서 비워 둔 출력이 있으면 돌려주고, 없으면 None. 다른 셀이 남긴 것은 버립니다."""
    key = _cell_key()
    for other in [k for k in _free_handles if k != key]:
        del _free_handles[other]
    free = _free_handles.get(key, [])
    return free.pop() if free else None


class CellBar(std_tqdm):
    """셀 출력 하나를 글자 막대로 갱신하고, 닫히면 그 출력을 비우는 tqdm."""

    monitor_interval = 0  # 감시 스레드 없이: 막대는 반복하는 스레드에서만 그립니다

    def __init__(self, *args: Any, **kwargs: Any):
        self._handle = None
        kwargs.update(file=_NullFile(), leave=False)
        kwargs.setdefault("ncols", 100)
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        from IPython.display import display

        text = self.__str__() if msg is None else msg
        bundle = {"text/plain": text} if text else {}
        if self._handle is None:
            if bundle:
                self._handle = _take_handle()
                if self._handle is None:
                    self._handle = display(bundle, raw=True, display_id=True)
                else:
                    self._handle.update(bundle, raw=True)
        else:
            self._handle.update(bundle, raw=True)
        return True

    def close(self) -> None:
        super().close()
        if self._handle is not None:  # 빈 출력으로 바꿔 저장한 노트북에 막대가 남지 않게 합니다
            self._handle.update({}, raw=True)
            _free_handles.setdefault(_cell_key(), []).append(self._handle)
            self._handle = None


def progress(iterable: Iterable | None = None, *, desc: str | None = None, total: float | None = None,
             enabled: bool = True, **kwargs: Any) -> std_tqdm:
    """진행 막대를 씌운 반복 가능 객체(또는 iterable=None이면 update(n)로 움직이는 막대)를 돌려줍니다.

    노트북에서는 CellBar, 터미널에서는 끝나면 지워지는 tqdm입니다. 터미널이 아닌 곳(로그 파일)과
    enabled=False에서는 막대 없이 그대로 반복합니다. 나머지 인자(unit, initial 등)는 tqdm에 넘깁니다.
    """
    if enabled and in_notebook():
        return CellBar(iterable, desc=desc, total=total, **kwargs)
    kwargs.setdefault("leave", False)
    return std_tqdm(iterable, desc=desc, total=total, disable=None if enabled else True, **kwargs)
