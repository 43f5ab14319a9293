"""벤치마크 도구: 잴 루프 고르기, 세 루프가 같은 수의 이미지를 실제로 학습하는지."""
from __future__ import annotations

import argparse

import pytest
import torch

from benchmarks import loops
from benchmarks.run import _loops, _specs


def test_loops_per_device_and_compile_choice():
    assert _loops("cpu", "resnet18", compile_models=[]) == ("textbook", "course")
    assert _loops("cuda", "lenet", compile_models=None) == ("textbook", "course", "course+gpu")
    assert _loops("cuda", "lenet", compile_models=[])[-1] == "course+gpu+compile"  # --compile 만: 모든 모델
    assert "course+gpu+compile" not in _loops("cuda", "lenet", compile_models=["resnet18"])
    assert _loops("cuda", "resnet18", compile_models=["resnet18"])[-1] == "course+gpu+compile"


def test_specs_use_cpu_settings_on_cpu():
    args = argparse.Namespace(devices=["cpu"], models=["lenet", "resnet18"], steps=30, batch=64, cpu_steps=3,
                              cpu_batch=8, size=64, threads=1, compile=None)
    specs = _specs(args, "/tmp/x")
    assert [(s["model"], s["loop"]) for s in specs] == [("lenet", "textbook"), ("lenet", "course"),
                                                      ("resnet18", "textbook"), ("resnet18", "course")]
    assert {(s["steps"], s["batch"], s["device"]) for s in specs} == {(3, 8, "cpu")}


@pytest.mark.parametrize("loop", ["textbook", "course", "course+gpu"])
def test_measure_trains_every_image(tmp_path, loop, one_thread, monkeypatch):
    root = loops.make_bench_images(tmp_path, n=12)
    built, seen = [], []  # 만든 모델, 모델이 받은 배치마다의 (이미지 수, 크기)
    original = loops.build_model

    def counting_model(name, size):
        model = original(name, size)
        model.register_forward_pre_hook(lambda m, args: seen.append((args[0].shape[0], tuple(args[0].shape[-2:]))))
        built.append((model, [p.detach().clone() for p in model.parameters()]))
        return model

    monkeypatch.setattr(loops, "build_model", counting_model)
    spec = dict(device="cpu", model="lenet", loop=loop, steps=3, batch=4, size=32, data=str(root), threads=1)
    out = loops.measure(spec)
    # 준비 에폭과 잰 에폭 모두 12장을 4장씩 3배치로, 요청한 32px 크기로 학습합니다
    assert seen == [(4, (32, 32))] * 6
    (model, before), = built
    assert any(not torch.equal(b, p.detach()) for b, p in zip(before, model.parameters()))  # 가중치가 실제로 바뀜
    assert out["seconds"] > 0 and out["peak_mb"] > 0
    assert round(out["images_per_s"] * out["seconds"]) == len(seen) * 4 // 2  # 잰 에폭 하나의 이미지 수
