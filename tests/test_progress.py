"""진행 막대: 반복 대상을 한 번만 열고, 노트북에 흔적(위젯, 멈춘 막대, 작업자 종료 메시지)을 남기지 않습니다."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils.progress import progress


class CountingIterable:
    """iter()가 몇 번 불렸는지 세는 반복 가능 객체 (DataLoader라면 부를 때마다 작업자를 새로 띄웁니다)."""

    def __init__(self, n: int):
        self.n, self.opened = n, 0

    def __iter__(self):
        self.opened += 1
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def test_progress_opens_the_iterable_once_and_yields_everything():
    data = CountingIterable(5)
    bar = progress(data, desc="x")
    assert data.opened == 0  # 막대를 만드는 것만으로는 열지 않습니다 (tqdm.auto는 여기서 한 번 엽니다)
    assert list(bar) == [0, 1, 2, 3, 4]
    assert data.opened == 1


def test_progress_disabled_is_a_plain_loop():
    bar = progress(range(3), enabled=False)
    assert bar.disable and list(bar) == [0, 1, 2]


SETUP = """
import gc
import torch
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm
from course_utils.progress import progress


def collect(worker_id):
    gc.collect()  # 작업자가 물려받은 쓰레기를 바로 치우게 합니다 (긴 학습에서는 저절로 일어납니다)


loader = DataLoader(TensorDataset(torch.arange(64.0)), batch_size=8, num_workers=2, worker_init_fn=collect)
"""

# 부모의 수거기를 잠시 끕니다: 긴 학습처럼 앞 루프의 쓰레기가 다음 루프의 작업자가 fork될 때까지 남습니다.
TRAIN = """
gc.disable()
for epoch in range(2):
    total = sum(float(x.sum()) for (x,) in {bar}(loader, desc=f'에폭 {{epoch + 1}}'))
    print(f'에폭 {{epoch + 1}} 합계 {{total:.0f}}')
gc.enable()
"""
OTHER_BARS = ["for i in progress(range(300)):\n    pass",
              "with progress(total=300, unit='B') as b:\n    for _ in range(300):\n        b.update(1)\nprint('끝', b.n)",
              "for i in progress(range(3), desc='바깥'):\n    for j in progress(range(50), desc='안'):\n        pass"]


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    """course_utils.progress로 학습 루프·range·update·겹친 막대를 돌린 뒤, 마지막 셀에서 같은 루프를 tqdm.auto로."""
    cells = [SETUP, TRAIN.format(bar="progress"), *OTHER_BARS, TRAIN.format(bar="tqdm")]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb


def _text(cells: list, name: str) -> str:
    return "".join(o.text for c in cells for o in c.outputs if o.output_type == "stream" and o.name == name)


def test_progress_over_worker_loader_leaves_a_clean_notebook(executed):
    ours = executed.cells[:5]
    assert "에폭 2 합계 2016" in _text(ours, "stdout") and "끝 300" in _text(ours, "stdout")
    assert _text(ours, "stderr") == ""
    saved = json.dumps(ours, ensure_ascii=False)
    assert "widget" not in saved and "%|" not in saved
    bars = [[o for o in c.outputs if o.output_type == "display_data"] for c in ours]
    assert all(o.data == {} for c in bars for o in c)  # 끝나면 비어 있음
    # 에폭마다 새 막대를 연 학습 셀도 출력 하나를 다시 씁니다. 동시에 열린 막대(바깥, 안)만 출력이 따로입니다.
    assert [len(c) for c in bars] == [0, 1, 1, 1, 2]


def test_tqdm_auto_over_worker_loader_floods_a_notebook(executed):
    """원인 재현: tqdm.auto가 미리 연 DataLoader 반복자를 fork된 작업자가 치우다 메시지를 남깁니다."""
    assert "can only test a child process" in _text(executed.cells[5:], "stderr")
