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


def test_recipe_time_budget_picks_epochs_that_fit():
    from benchmarks.recipe import epochs_for_budget

    # 에폭 55초: 30분이면 32에폭 (33에폭은 넘침)
    assert epochs_for_budget(30, 55) == 32
    assert 32 * 55 <= 30 * 60 < 33 * 55
    assert epochs_for_budget(0.01, 55) == 1  # 예산이 한 에폭보다 짧아도 한 에폭은 돕니다


def _probe_data(seed: int = 3):
    from course_utils.gpu_data import DeviceBatches

    g = torch.Generator().manual_seed(0)  # 부를 때마다 같은 사진 40장
    x, y = torch.randint(0, 256, (40, 3, 20, 20), dtype=torch.uint8, generator=g), torch.randint(0, 2, (40,), generator=g)
    return DeviceBatches(x, y, 8, 16, train=True, seed=seed), DeviceBatches(x[:16], y[:16], 8, 16, train=False)


def test_recipe_speed_probe_leaves_the_model_and_the_batch_order_untouched():
    from benchmarks.recipe import seconds_per_epoch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 2))
    before = [p.detach().clone() for p in model.parameters()]
    train_b, val_b = _probe_data()
    spe = seconds_per_epoch(model, train_b, val_b, torch.device("cpu"), torch.nn.CrossEntropyLoss(), steps=3)
    assert 0 < spe < 5 * (len(train_b) + len(val_b))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    fresh, _ = _probe_data()  # 재고 난 뒤의 첫 에폭도 재지 않은 것과 같은 순서, 같은 증강
    for (xa, ya), (xb, yb) in zip(train_b, fresh, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_recipe_speed_probe_counts_every_training_and_validation_batch(monkeypatch):
    import time

    import benchmarks.recipe as recipe

    # 가짜 학습/평가: 훈련 배치마다 0.01초, 검증 배치마다 0.04초
    monkeypatch.setattr(recipe, "train_one_epoch", lambda m, opt, batches, *a, **k: [time.sleep(0.01) for _ in batches])
    monkeypatch.setattr(recipe, "evaluate", lambda m, batches, *a, **k: [time.sleep(0.04) for _ in batches])
    train_b, val_b = _probe_data()  # 훈련 5배치, 검증 2배치
    spe = recipe.seconds_per_epoch(torch.nn.Linear(1, 1), train_b, val_b, torch.device("cpu"), None, steps=3)
    assert 5 * 0.01 + 2 * 0.04 <= spe < 2 * (5 * 0.01 + 2 * 0.04)


def test_recipe_builds_the_08_small_resnet_or_a_torchvision_resnet():
    from benchmarks.recipe import build_model
    from course_utils.models import small_resnet

    small = build_model("small_resnet", 16)
    assert sum(p.numel() for p in small.parameters()) == sum(p.numel() for p in small_resnet(16).parameters())
    with torch.no_grad():
        assert small.eval()(torch.randn(2, 3, 64, 64)).shape == (2, 2)
    r18 = build_model("resnet18")
    assert r18.fc.out_features == 2
    assert all(not b.bn2.weight.detach().any() for b in r18.layer1)  # zero_init_residual
    with pytest.raises(SystemExit, match="모르는 모델"):
        build_model("vgg16")  # ResNet이 아닌 이름은 영어 AttributeError 대신 한국어 안내로


def test_recipe_refuses_a_batch_larger_than_the_training_set(tmp_path):
    from benchmarks.recipe import main
    from course_utils import synthetic

    root = synthetic.make_classification_set(tmp_path / "photos", n_per_class=12, size=40, seed=0)
    with pytest.raises(SystemExit, match="--batch를 2 이하로"):
        main(["--data", str(root), "--batch", "64", "--store", "40", "--size", "32", "--workers", "0"])


@pytest.mark.parametrize("name", ["lenet", "alexnet", "vgg", "googlenet", "resnet"])
def test_classification_recipes_give_two_logits_at_their_size(name):
    from benchmarks.classification import RECIPES

    model = RECIPES[name]["model"](128).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 128, 128)).shape == (2, 2)
    if name != "lenet":  # LeNet은 교재 모양 그대로(완전연결층이 큼), 나머지는 400장에 맞춰 줄인 모델
        assert sum(p.numel() for p in model.parameters()) < 5_000_000


def test_classification_run_one_reports_best_and_last_epoch_heldout(tmp_path):
    """한 에폭이면 검증 최고 에폭 = 마지막 에폭이므로 두 따로 둔 정확도가 같아야 합니다 (마지막 가중치는 fit의 History.last_state)."""
    from benchmarks.classification import RECIPES, run_one
    from course_utils import synthetic
    from course_utils.data import index_images, split_items

    items = index_images(synthetic.make_classification_set(tmp_path / "data", n_per_class=30, size=48)).items
    train, val, heldout = split_items(items, 24, 16, 20, seed=0)
    row = run_one(RECIPES["lenet"], (train, val, []), heldout, ["Cat", "Dog"], 32, 0, torch.device("cpu"), 1,
                  batch_size=8)
    assert row["n_heldout"] == 20 and row["epochs"] == 1
    assert 0.0 <= row["heldout"] <= 1.0 and row["heldout"] == row["heldout_last"]
