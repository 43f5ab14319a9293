"""course_utils.setup: 시드, 장치, 모드, 글꼴."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_utils import setup as su


def _draw() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_repeats_all_three_generators():
    su.seed_everything(7)
    first = _draw()
    su.seed_everything(7)
    assert _draw() == first
    su.seed_everything(8)
    assert _draw() != first


def test_quick_mode_reads_environment(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert su.is_quick()
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not su.is_quick()
    monkeypatch.delenv("COURSE_QUICK")
    assert not su.is_quick()  # 기본은 전체 모드


def test_device_override_and_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert su.get_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CUDA"):
            su.get_device()


@pytest.mark.parametrize("value", ["gpu", "GPU:0", "meta", "cuda0", "cdua", "cuda:x"])
def test_invalid_course_device_names_variable_and_choices(monkeypatch, value):
    monkeypatch.setenv("COURSE_DEVICE", value)
    with pytest.raises(ValueError) as err:
        su.get_device()
    msg = str(err.value)
    assert "COURSE_DEVICE" in msg and f"'{value}'" in msg and "cpu, cuda" in msg and "mps" in msg
    assert ("cuda라고" in msg) == value.lower().startswith("gpu")
    with pytest.raises(ValueError, match="device 인자"):  # 인자로 준 값도 어디서 왔는지 말합니다
        su.get_device(value)


def test_pick_chooses_mode_and_rejects_mismatched_keys(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_QUICK", "1")
    env = su.setup(seed=3)
    assert "빠른 모드" in capsys.readouterr().out
    cfg = env.pick(full=dict(epochs=10, size=224), quick=dict(epochs=1, size=64))
    assert (cfg.epochs, cfg.size, env.mode) == (1, 64, "quick")
    with pytest.raises(ValueError, match="키가 다릅니다"):
        env.pick(full=dict(epochs=10), quick=dict(epochs=1, size=64))
    monkeypatch.delenv("COURSE_QUICK")
    assert su.setup(seed=3, quiet=True).pick(full=dict(a=1), quick=dict(a=2)).a == 1


def test_quick_mode_uses_the_same_dataloader_workers_as_full_mode(monkeypatch):
    monkeypatch.setattr(su.sys, "platform", "linux")
    monkeypatch.setenv("COURSE_QUICK", "1")
    quick = su.setup(seed=3, device="cpu", quiet=True).num_workers
    monkeypatch.delenv("COURSE_QUICK")
    assert quick == su.setup(seed=3, device="cpu", quiet=True).num_workers == min(2, su.os.cpu_count() or 1)
    monkeypatch.setattr(su.sys, "platform", "darwin")  # spawn으로 띄우는 곳에서는 노트북의 Dataset을 못 넘깁니다
    assert su.setup(seed=3, device="cpu", quiet=True).num_workers == 0


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert su.find_data_dir() == tmp_path.resolve()
    monkeypatch.delenv("COURSE_DATA")
    assert su.find_data_dir().name == "data"


def test_korean_font_has_hangul_and_minus_glyphs():
    import matplotlib
    from matplotlib import font_manager

    family = su.use_korean_font()
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    font = FT2Font(path)
    charmap = font.get_charmap()
    assert ord("한") in charmap and ord("-") in charmap
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_loader_with_seeded_generator_repeats_order():
    data = TensorDataset(torch.arange(20))

    def order(seed: int) -> list[int]:
        loader = DataLoader(data, batch_size=5, shuffle=True, generator=su.make_generator(seed),
                            worker_init_fn=su.seed_worker)
        return [int(x) for (batch,) in loader for x in batch]

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert sorted(order(1)) == list(range(20))
