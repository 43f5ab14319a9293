"""course_utils.train: 작은 모델과 결정적인 데이터로 학습 루프를 CPU에서 점검합니다."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from course_utils import checkpoint as C
from course_utils import train as T
from course_utils.train import LoopOptions, evaluate, fit, predict, train_one_epoch

QUIET = LoopOptions(log=None, progress=False)


def make_data(n: int, seed: int) -> TensorDataset:
    """(N, 3, 8, 8) 무작위 이미지. 레이블은 0번 채널 평균이 양수인지(학습 가능한 규칙)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 8, 8, generator=gen)
    y = (x[:, 0].mean(dim=(1, 2)) > 0).long()
    return TensorDataset(x, y)


def tiny_model(seed: int = 0) -> nn.Module:
    """드롭아웃까지 있는 작은 CNN: 드롭아웃이 난수를 쓰므로 재개 시 난수 상태 복원까지 시험됩니다."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(4, 2))


def loaders(seed: int = 0):
    train = DataLoader(make_data(96, 1), batch_size=16, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(make_data(64, 2), batch_size=32)
    return train, val


def parts(lr: float = 0.1):
    """같은 시드에서 새로 만든 모델, 옵티마이저, 스케줄러, 로더 (재개 시나리오의 '새 프로세스')."""
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched, *loaders()


def run(epochs: int, ckpt: Path | None, model=None, opt=None, sched=None, train=None, val=None):
    if model is None:
        model, opt, sched, train, val = parts()
    torch.manual_seed(123)  # 전역 난수(드롭아웃)의 출발점을 모든 실행에서 같게
    hist = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), epochs, scheduler=sched,
               checkpoint_path=ckpt, options=QUIET)
    return model, hist


def same_history(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        if key != "seconds":  # 걸린 시간만 실행마다 다릅니다
            assert a[key] == b[key], key


def same_weights(a: nn.Module, b: nn.Module) -> None:
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


# ---------------------------------------------------------------- 학습과 기록
def test_fit_learns_and_returns_history():
    model, hist = run(6, None)
    assert set(T.HISTORY_KEYS) <= set(hist)
    assert all(len(v) == 6 for v in hist.values())
    assert hist["epoch"] == [1, 2, 3, 4, 5, 6]
    assert hist["lr"][:3] == pytest.approx([0.1, 0.1, 0.05])  # StepLR이 에폭마다 한 번 step
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert max(hist["val_acc"]) >= 0.85  # 우연 수준(0.5)보다 확실히 높음


def test_best_weights_are_a_copy_and_restored():
    model, opt, sched, train, val = parts(lr=0.5)  # 큰 학습률: 검증 정확도가 오르내립니다
    _, hist = run(8, None, model, opt, sched, train, val)
    best = max(hist["val_acc"])
    after = evaluate(model, val, "cpu", nn.CrossEntropyLoss(), progress=False)
    assert after["acc"] == best  # 끝난 모델 = 가장 좋던 에폭의 가중치
    if hist["val_acc"][-1] != best:  # 마지막 에폭이 최고가 아니면 참조만 보관했을 때 여기서 달라집니다
        assert after["loss"] != hist["val_loss"][-1]


def test_reference_instead_of_copy_would_fail():
    """교재의 best_model_wts = model.state_dict()는 참조라서 학습이 진행되면 같이 바뀝니다."""
    model = tiny_model()
    ref, snap = model.state_dict(), copy.deepcopy(model.state_dict())
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert torch.equal(ref["0.weight"], model[0].weight)  # 참조: 따라 바뀜
    assert not torch.equal(snap["0.weight"], model[0].weight)  # 깊은 복사: 그 순간 그대로


# ---------------------------------------------------------------- 체크포인트와 재개
def test_resume_after_stop_equals_uninterrupted(tmp_path):
    full_model, full_hist = run(4, tmp_path / "full.pt")
    ckpt = tmp_path / "part.pt"
    run(2, ckpt)  # 2 에폭 뒤 '프로세스 종료'
    torch.manual_seed(999)  # 다른 난수 상태에서 시작해도 체크포인트가 되돌려야 합니다
    resumed_model, resumed_hist = run(4, ckpt)  # 새 모델·옵티마이저·로더로 이어서
    same_history(full_hist, resumed_hist)
    same_weights(full_model, resumed_model)


class StopAfter(Dataset):
    """전역 카운터가 한도에 이르면 KeyboardInterrupt를 일으키는 데이터셋 (중간 중단 흉내)."""

    def __init__(self, base: Dataset, limit: int):
        self.base, self.limit, self.calls = base, limit, 0

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        self.calls += 1
        if self.calls > self.limit:
            raise KeyboardInterrupt
        return self.base[i]


def test_resume_after_interrupt_mid_epoch(tmp_path):
    full_model, full_hist = run(4, None)
    ckpt = tmp_path / "ckpt.pt"
    model, opt, sched, train, val = parts()
    bad = DataLoader(StopAfter(train.dataset, 96 * 2 + 40), batch_size=16, shuffle=True,
                     generator=torch.Generator().manual_seed(0))
    with pytest.raises(KeyboardInterrupt):
        run(4, ckpt, model, opt, sched, bad, val)  # 3번째 에폭 도중 중단
    assert C.load_checkpoint(ckpt)["epoch"] == 2
    assert not list(tmp_path.glob("*.tmp"))
    resumed_model, resumed_hist = run(4, ckpt)
    same_history(full_hist, resumed_hist)
    same_weights(full_model, resumed_model)


def test_checkpoint_contents(tmp_path):
    ckpt = tmp_path / "c.pt"
    run(2, ckpt)
    state = C.load_checkpoint(ckpt)
    for key in ("model", "optimizer", "scheduler", "scaler", "history", "best_state", "epoch", "rng"):
        assert key in state
    assert state["epoch"] == 2 and len(state["history"]["val_acc"]) == 2
    assert {"python", "numpy", "torch", "cuda", "loader"} <= set(state["rng"])
    assert len(state["rng"]["loader"]) == 1  # 셔플 생성기 상태까지 저장


def test_history_keeps_the_last_epoch_weights_when_fit_restores_an_earlier_one(tmp_path):
    ckpt = tmp_path / "c.pt"
    model, hist = run(6, ckpt, *parts(lr=1.0))  # 큰 학습률: 검증 정확도가 오르내려 최고 에폭이 중간에 옵니다
    state = C.load_checkpoint(ckpt)  # 체크포인트의 'model'은 마지막 에폭, 'best_state'는 되돌린 에폭
    assert hist.best_epoch < 6, "이 시험은 최고 에폭이 마지막이 아닌 학습이 필요합니다"
    for key, value in model.state_dict().items():
        assert torch.equal(value, state["best_state"][key])
        assert torch.equal(hist.last_state[key], state["model"][key])
    assert any(not torch.equal(hist.last_state[k], v) for k, v in model.state_dict().items())


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "a.pt"
    C.save_checkpoint(path, {"x": torch.tensor([1.0])})

    def broken_save(obj, f):
        f.write(b"half-written")
        raise OSError("디스크 가득 참")

    monkeypatch.setattr(C.torch, "save", broken_save)
    with pytest.raises(OSError):
        C.save_checkpoint(path, {"x": torch.tensor([2.0])})
    assert torch.equal(C.load_checkpoint(path)["x"], torch.tensor([1.0]))  # 이전 파일은 온전
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # 임시 파일도 남지 않음


def test_mismatched_checkpoint_has_korean_message(tmp_path):
    ckpt = tmp_path / "c.pt"
    run(1, ckpt)
    other = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    train, val = loaders()
    with pytest.raises(RuntimeError, match="resume=False"):
        fit(other, torch.optim.SGD(other.parameters(), lr=0.1, momentum=0.9), train, val, "cpu",
            nn.CrossEntropyLoss(), 2, checkpoint_path=ckpt, options=QUIET)


def test_finished_checkpoint_just_restores_best(tmp_path):
    ckpt = tmp_path / "c.pt"
    _, hist = run(3, ckpt)
    lines: list[str] = []
    model, opt, sched, train, val = parts()
    hist2 = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 3, scheduler=sched,
                checkpoint_path=ckpt, options=LoopOptions(log=lines.append, progress=False))
    same_history(hist, hist2)
    assert any("이어서" in line for line in lines)
    assert not any("대신" in line for line in lines)  # 설정을 바꾸지 않았으면 덮어쓴다는 알림도 없음
    assert evaluate(model, val, "cpu", nn.CrossEntropyLoss(), progress=False)["acc"] == max(hist["val_acc"])


# ---------------------------------------------------------------- 안전장치
def test_non_finite_loss_stops_with_korean_error():
    model, opt, _, train, _ = parts()
    before = copy.deepcopy(model.state_dict())

    def nan_loss(logits, targets):
        return nn.functional.cross_entropy(logits, targets) * float("nan")

    with pytest.raises(FloatingPointError, match="학습률을 낮추"):
        train_one_epoch(model, opt, train, "cpu", nan_loss, progress=False)
    for k, v in before.items():  # NaN으로 갱신되기 전에 멈춤
        assert torch.equal(v, model.state_dict()[k])


def test_amp_and_channels_last_off_on_cpu():
    assert T.resolve_amp("auto", torch.device("cpu")) == (None, None)
    assert T.resolve_amp("fp16", torch.device("cpu")) == (None, None)
    assert T.resolve_channels_last("auto", torch.device("cpu")) is False
    assert T.resolve_channels_last(True, torch.device("cpu")) is True


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA가 없어 혼합 정밀도 시험을 건너뜁니다")
def test_amp_on_cuda():
    dtype, scaler = T.resolve_amp("fp16", torch.device("cuda"))
    assert dtype == torch.float16 and scaler is not None
    assert T.resolve_amp("bf16", torch.device("cuda")) == (torch.bfloat16, None)
    model, opt, sched, train, val = parts()
    hist = fit(model, opt, train, val, "cuda", nn.CrossEntropyLoss(), 3, options=QUIET)
    assert max(hist["val_acc"]) > 0.7
    model, opt, _, train, _ = parts()  # fp16: GradScaler로 키운 기울기를 되돌린 뒤 자릅니다
    model.cuda()
    out = train_one_epoch(model, opt, train, "cuda", nn.CrossEntropyLoss(), amp_dtype=dtype, scaler=scaler,
                          max_norm=1.0, progress=False)
    assert out["loss"] < 1.0 and all(torch.isfinite(p).all() for p in model.parameters())


def test_per_batch_scheduler_in_train_one_epoch():
    model, opt, _, train, _ = parts()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 ** step)
    train_one_epoch(model, opt, train, "cpu", nn.CrossEntropyLoss(), scheduler=sched, progress=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** len(train))


# ---------------------------------------------------------------- top-k, 분할, 예측
def test_evaluate_topk_and_fit_history():
    model, opt, _, train, val = parts()
    hist = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 2, topk=(1, 2), options=QUIET)
    assert hist["val_top1"] == hist["val_acc"]
    assert hist["val_top2"] == [1.0, 1.0]  # 클래스 2개에서 top-2는 항상 100%


def seg_data(n: int, seed: int) -> TensorDataset:
    """(N, 1, 8, 8) 입력, 정답은 픽셀 값이 양수인지. 테두리는 255(무시)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    y = (x[:, 0] > 0).long()  # (N, H, W)
    y[:, 0, :] = 255
    return TensorDataset(x, y)


class DictSeg(nn.Module):
    """torchvision 분할 모델처럼 {'out': 로짓}을 돌려주는 1x1 합성곱."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)

    def forward(self, x):
        return {"out": self.conv(x)}  # (N, 2, H, W)


def test_segmentation_pixel_accuracy_ignores_255():
    torch.manual_seed(0)
    model = DictSeg()
    train = DataLoader(seg_data(32, 1), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
    val = DataLoader(seg_data(16, 2), batch_size=8)
    loss_fn = nn.CrossEntropyLoss(ignore_index=255)
    hist = fit(model, torch.optim.SGD(model.parameters(), lr=0.5), train, val, "cpu", loss_fn, 5, options=QUIET)
    assert hist["val_acc"][-1] > 0.95
    x, y = val.dataset.tensors
    preds = model(x)["out"].argmax(1)
    valid = y != 255
    hand = ((preds == y) & valid).sum().item() / valid.sum().item()
    assert evaluate(model, val, "cpu", loss_fn, progress=False)["acc"] == pytest.approx(hand)


class PathDataset(Dataset):
    """.paths를 가진 데이터셋 (ImageListDataset처럼)."""

    def __init__(self, base: TensorDataset):
        self.base = base
        self.paths = [Path("root") / ("Dog" if int(y) else "Cat") / f"{i}.jpg" for i, (_, y) in enumerate(base)]

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


def test_predict_dataframe_and_csv(tmp_path):
    model, opt, _, train, val = parts()
    fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 4, options=QUIET)
    loader = DataLoader(PathDataset(make_data(20, 3)), batch_size=8)
    csv = tmp_path / "out" / "pred.csv"
    df = predict(model, loader, "cpu", class_names=["Cat", "Dog"], csv_path=csv, progress=False)
    assert list(df.columns) == ["id", "path", "true", "label", "pred_name", "prob_Cat", "prob_Dog", "correct"]
    assert len(df) == 20 and df["id"].is_unique
    assert df["id"][0] == f"{loader.dataset.paths[0].parent.name}/0.jpg"  # 클래스 = 부모 폴더
    assert (df["prob_Cat"] + df["prob_Dog"]).sub(1).abs().max() < 1e-6
    assert ((df["prob_Dog"] > 0.5).astype(int) == df["label"]).all()
    assert df["correct"].mean() > 0.7
    back = pd.read_csv(csv)
    assert back["label"].tolist() == df["label"].tolist()


# ---------------------------------------------------------------- 한 가지 API
def test_one_argument_order_for_every_loop():
    """분류와 검출의 한 에폭 함수, fit이 torchvision처럼 (model, optimizer, 로더, device) 순서로 받습니다."""
    import inspect

    from course_utils.detection import evaluate_detection, train_one_epoch_detection

    def head(f, n):
        return list(inspect.signature(f).parameters)[:n]

    assert head(train_one_epoch, 4) == head(train_one_epoch_detection, 4) == ["model", "optimizer", "loader", "device"]
    assert head(evaluate, 3) == head(evaluate_detection, 3) == ["model", "loader", "device"]
    assert head(fit, 5) == ["model", "optimizer", "train_loader", "val_loader", "device"]
    assert len(inspect.signature(fit).parameters) < 15  # 장치·표시 선택지는 LoopOptions 하나로


# ---------------------------------------------------------------- 스케줄러 간격
def test_onecycle_given_to_fit_steps_every_batch():
    model, opt, _, train, val = parts()
    epochs = 3
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * len(train))
    hist = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), epochs, scheduler=sched,
               scheduler_interval="step", options=QUIET)
    assert sched.last_epoch == epochs * len(train)  # 배치마다 한 걸음
    probe = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)  # 같은 일정을 손으로 따라가 봅니다
    ref = torch.optim.lr_scheduler.OneCycleLR(probe, max_lr=0.1, total_steps=epochs * len(train))
    expected = []
    for _ in range(epochs):
        expected.append(probe.param_groups[0]["lr"])
        for _ in range(len(train)):
            probe.step()
            ref.step()
    assert hist["lr"] == pytest.approx(expected)  # 에폭 첫 배치의 학습률이 배치 단위 일정과 같음


def test_per_batch_scheduler_with_epoch_interval_is_refused():
    model, opt, _, train, val = parts()
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3 * len(train))
    with pytest.raises(ValueError, match="scheduler_interval='step'"):
        fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 3, scheduler=sched, options=QUIET)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="에폭마다"):
        fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 3, scheduler=plateau, scheduler_interval="step",
            options=QUIET)


@pytest.mark.parametrize("mode, watched", [("min", "val_loss"), ("max", "val_acc")])
def test_reduce_on_plateau_lowers_lr_after_patience(mode, watched):
    """학습률이 아주 작아 검증 지표가 그대로이면, patience(1) 에폭을 넘긴 뒤 학습률이 1/10로 떨어집니다."""
    model, _, _, train, val = parts()
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, patience=1, factor=0.1)
    seen: list[float] = []
    step = sched.step
    sched.step = lambda metric: (seen.append(metric), step(metric))  # 스케줄러가 받은 값을 엿봅니다
    hist = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 5, scheduler=sched, options=QUIET)
    # 에폭 1: 최고 기록, 2: 1번째 정체, 3: 2번째 정체 > patience -> 내림, 4: 1번째, 5: 2번째 -> 또 내림
    assert hist["lr"] == pytest.approx([1e-6, 1e-6, 1e-6, 1e-7, 1e-7], rel=1e-6)
    assert current_lr_after(opt) == pytest.approx(1e-8, rel=1e-6)
    assert seen == hist[watched]  # 에폭마다 한 번, 검증 지표(min이면 손실, max면 best_by)를 받았습니다


def current_lr_after(opt) -> float:
    return opt.param_groups[0]["lr"]


# ---------------------------------------------------------------- 빈 로더
def test_empty_loaders_stop_with_korean_message_naming_the_loader():
    model, opt, _, train, val = parts()
    empty = DataLoader(make_data(0, 1), batch_size=16)
    with pytest.raises(ValueError, match=r"학습 데이터로더\(train_loader\).*비어 있습니다"):
        fit(model, opt, empty, val, "cpu", nn.CrossEntropyLoss(), 1, options=QUIET)
    too_few = DataLoader(make_data(10, 2), batch_size=32, drop_last=True)
    with pytest.raises(ValueError, match=r"검증 데이터로더\(val_loader\).*drop_last"):
        fit(model, opt, train, too_few, "cpu", nn.CrossEntropyLoss(), 1, options=QUIET)


class NoLength:
    """len()이 없는 반복 가능한 객체 (빈 생성기처럼)."""

    def __iter__(self):
        return iter(())


def test_empty_iterable_without_len_stops_each_loop():
    model, opt, _, train, _ = parts()
    with pytest.raises(ValueError, match="학습 데이터로더"):
        train_one_epoch(model, opt, NoLength(), "cpu", nn.CrossEntropyLoss(), progress=False)
    with pytest.raises(ValueError, match="평가 데이터로더"):
        evaluate(model, NoLength(), "cpu", nn.CrossEntropyLoss(), progress=False)
    with pytest.raises(ValueError, match="검증 데이터로더|평가 데이터로더"):
        fit(model, opt, train, NoLength(), "cpu", nn.CrossEntropyLoss(), 1, options=QUIET)


# ---------------------------------------------------------------- 이어서 학습: 바뀐 옵티마이저와 설정
def test_resume_with_another_optimizer_stops_before_touching_anything(tmp_path):
    """05 노트북의 연습문제처럼 Adam 체크포인트에 SGD로 이어 붙이면, 바로 멈추고 할 일을 알려 줍니다."""
    ckpt = tmp_path / "c.pt"
    model, _, _, train, val = parts()
    fit(model, torch.optim.Adam(model.parameters(), lr=1e-3), train, val, "cpu", nn.CrossEntropyLoss(), 1,
        checkpoint_path=ckpt, options=QUIET)
    fresh, *_ = parts()
    before = copy.deepcopy(fresh.state_dict())
    lines: list[str] = []
    sgd = torch.optim.SGD(fresh.parameters(), lr=0.01, momentum=0.9)
    with pytest.raises(RuntimeError, match=r"Adam, 지금은 SGD.*resume=False.*지우거나 이름을 바꾸"):
        fit(fresh, sgd, train, val, "cpu", nn.CrossEntropyLoss(), 2, checkpoint_path=ckpt,
            options=LoopOptions(log=lines.append, progress=False))
    same_weights_dict(before, fresh.state_dict())  # 모델은 그대로
    assert not lines  # 한 에폭도 돌지 않았습니다
    hist = fit(fresh, sgd, train, val, "cpu", nn.CrossEntropyLoss(), 1, checkpoint_path=ckpt, resume=False,
               options=QUIET)  # 안내대로 resume=False면 처음부터 학습하고 체크포인트를 새로 씁니다
    assert hist["epoch"] == [1] and C.load_checkpoint(ckpt)["settings"]["optimizer_class"] == "SGD"


def same_weights_dict(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_says_when_stored_settings_override_new_ones(tmp_path):
    ckpt = tmp_path / "c.pt"
    run(1, ckpt)  # lr=0.1, StepLR(step_size=2)
    model, _, _, train, val = parts()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)  # 학습률만 바꿔서 이어서 학습
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lines: list[str] = []
    hist = fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 2, scheduler=sched, checkpoint_path=ckpt,
               options=LoopOptions(log=lines.append, progress=False))
    notice = "\n".join(lines)
    assert "학습률: 지금 준 0.05 대신 체크포인트의 0.1" in notice and "resume=False" in notice
    assert hist["lr"] == [0.1, 0.1]  # 실제로 체크포인트의 학습률로 이어졌습니다


# ---------------------------------------------------------------- 체크포인트 폴더와 파일
def test_unwritable_checkpoint_folder_stops_before_first_epoch(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("폴더가 아니라 파일")
    model, opt, _, train, val = parts()
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(OSError, match="쓸 수 없어 학습을 시작하지 않습니다"):
        fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 1, checkpoint_path=blocker / "c.pt",
            options=QUIET)
    same_weights_dict(before, model.state_dict())


def test_read_only_checkpoint_folder_is_reported(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(C.tempfile, "mkstemp", refuse)  # 읽기 전용 폴더 흉내 (root는 권한을 무시하므로)
    model, opt, _, train, val = parts()
    with pytest.raises(OSError, match=r"체크포인트 폴더 .* 쓸 수 없어.*Permission denied"):
        fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 1, checkpoint_path=tmp_path / "c.pt",
            options=QUIET)


@pytest.mark.skipif(os.name != "posix", reason="파일 권한 비트는 POSIX에서만 확인합니다")
def test_checkpoint_is_private(tmp_path):
    path = C.save_checkpoint(tmp_path / "c.pt", {"x": torch.ones(1)})
    assert path.stat().st_mode & 0o777 == 0o600


KILL_MID_SAVE = r"""
import os, signal, sys
import torch
from course_utils import checkpoint as C
C.save_checkpoint(sys.argv[1], {"x": torch.ones(1)})
def die(obj, f):
    f.write(b"x" * 4096)
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = die
C.save_checkpoint(sys.argv[1], {"x": torch.zeros(1)})
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL은 POSIX에서만")
def test_temp_file_from_hard_kill_is_cleaned_on_next_save(tmp_path):
    path = tmp_path / "c.pt"
    own = [tmp_path / "notes.tmp", tmp_path / "c.pt.bak", tmp_path / ".c.pt.mine.tmp"]  # 학습자의 파일
    for f in own:
        f.write_text("내 파일")
    proc = subprocess.run([sys.executable, "-c", KILL_MID_SAVE, str(path)], cwd=Path(__file__).parents[1],
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    leftovers = [p for p in tmp_path.iterdir() if p not in own and p != path]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size >= 4096  # 강제 종료가 남긴 임시 파일
    assert torch.equal(C.load_checkpoint(path)["x"], torch.ones(1))  # 이전 체크포인트는 온전
    C.save_checkpoint(path, {"x": torch.full((1,), 2.0)})
    assert sorted(tmp_path.iterdir()) == sorted([path, *own])  # 찌꺼기만 지우고 학습자의 파일은 그대로


# ---------------------------------------------------------------- 분할: 가중치를 고르는 지표
class ScriptedSeg(nn.Module):
    """학습 배치를 볼 때마다 단계가 바뀌는 가짜 분할 모델 (단계는 버퍼라서 체크포인트와 함께 되돌아옵니다).

    입력 채널 0 = 정답(반려동물이면 1), 채널 1 = 일부 배경 픽셀 표시. 단계 1·3: 모두 배경(픽셀 정확도는 높지만
    반려동물 IoU 0). 단계 2: 반려동물은 모두 찾고 표시된 배경도 반려동물로 칠함(픽셀 정확도는 낮지만 mIoU는 높음).
    """

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.register_buffer("phase", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        if self.training:
            self.phase += 1
        pet = (x[:, 0] > 0.5) | (x[:, 1] > 0.5) if int(self.phase) == 2 else torch.zeros_like(x[:, 0], dtype=torch.bool)
        logits = torch.stack([(~pet).float(), pet.float()], dim=1)  # (N, 2, H, W)
        return logits * 5 + self.w


def scripted_seg_data() -> TensorDataset:
    y = torch.zeros(4, 10, 10, dtype=torch.long)
    y[:, :, :1] = 1  # 반려동물 10%
    marked = torch.zeros(4, 10, 10)
    marked[:, :, 1:3] = 1  # 배경 일부(20%)
    return TensorDataset(torch.stack([y.float(), marked], dim=1), y)  # 입력 (N, 2, H, W), 정답 (N, H, W)


@pytest.mark.parametrize("best_by, epoch", [(None, 2), ("val_miou", 2), ("val_acc", 1), ("val_loss", 1)])
def test_segmentation_checkpoint_is_chosen_by_miou(best_by, epoch):
    from course_utils.segmentation import evaluate_segmentation

    model = ScriptedSeg()
    data = scripted_seg_data()
    train, val = DataLoader(data, batch_size=4), DataLoader(data, batch_size=4)
    lines: list[str] = []
    hist = fit(model, torch.optim.SGD(model.parameters(), lr=0.0), train, val, "cpu",
               nn.CrossEntropyLoss(ignore_index=255), 3, best_by=best_by,
               options=LoopOptions(log=lines.append, progress=False))
    assert hist["val_acc"][0] > hist["val_acc"][1] and hist["val_miou"][1] > hist["val_miou"][0]  # 두 지표가 엇갈림
    assert hist.best_by == (best_by or "val_miou") and hist.best_epoch == epoch
    assert int(model.phase) == epoch  # 되돌린 가중치(버퍼)가 고른 에폭의 것
    assert hist.best_value == hist[hist.best_by][epoch - 1]
    assert f"({hist.best_by})가 가장 좋았던 에폭 {epoch}" in lines[-1]
    scored = evaluate_segmentation(model, val, "cpu", num_classes=2)  # 학습 루프의 mIoU = 분할 지표 모듈의 mIoU
    assert scored["miou"] == pytest.approx(hist["val_miou"][epoch - 1])


# ---------------------------------------------------------------- 얼린 백본의 배치 정규화
def bn_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 2))


@pytest.mark.parametrize("freeze", [True, False])
def test_frozen_backbone_keeps_batch_norm_statistics(freeze):
    model = bn_net()
    for p in model[:2].parameters():
        p.requires_grad = not freeze
    stats = model[1].running_mean.clone()
    head = model[5].weight.detach().clone()
    _, _, _, train, val = parts()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    modes: list[bool] = []
    model[1].register_forward_hook(lambda m, i, o: modes.append(m.training))
    fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), 1, options=QUIET)
    assert not torch.equal(model[5].weight, head)  # 새 분류기는 배웁니다
    assert torch.equal(model[1].running_mean, stats) == freeze  # 얼린 배치 정규화의 통계는 그대로
    assert any(modes) != freeze  # 얼렸으면 학습 단계에서도 평가 모드
    T.train_mode(model)
    assert model[0].training and model[5].training and model[1].training != freeze  # 나머지는 평소처럼 학습 모드


# ---------------------------------------------------------------- 로짓 꺼내기 규칙은 하나
class TupleSeg(DictSeg):
    """보조 출력이 붙은 튜플 (로짓, 보조)을 돌려주는 분할 모델."""

    def forward(self, x):
        return self.conv(x), torch.zeros(1)


def test_one_logits_rule_for_train_and_segmentation_metrics():
    from course_utils.metrics import model_logits
    from course_utils.segmentation import evaluate_segmentation

    logits = torch.randn(2, 3)
    assert model_logits(logits) is logits and model_logits({"out": logits}) is logits
    assert model_logits((logits, torch.zeros(1))) is logits
    torch.manual_seed(0)
    model = TupleSeg()
    val = DataLoader(seg_data(8, 2), batch_size=4)
    ours = evaluate(model, val, "cpu", nn.CrossEntropyLoss(ignore_index=255), progress=False)
    theirs = evaluate_segmentation(model, val, "cpu", num_classes=2)
    assert ours["acc"] == pytest.approx(theirs["pixel_acc"]) and ours["miou"] == pytest.approx(theirs["miou"])


# ---------------------------------------------------------------- 이어서 학습: 다른 데이터
class NamedImages(TensorDataset):
    """파일 경로(.paths)가 있는 데이터셋: 노트북의 사진 데이터셋처럼 체크포인트가 어떤 사진인지 알아볼 수 있습니다."""

    def __init__(self, n: int, seed: int, folder: str, names: list[str] | None = None):
        super().__init__(*make_data(n, seed).tensors)
        self.paths = [f"{folder}/Cat/{name}" for name in (names or [f"cat.{i}.jpg" for i in range(n)])]


def named_loaders(folder: str, names: list[str] | None = None):
    return (DataLoader(NamedImages(96, 1, folder, names), batch_size=16, shuffle=True,
                       generator=torch.Generator().manual_seed(0)),
            DataLoader(NamedImages(64, 2, folder), batch_size=32))


def fit_named(ckpt: Path, epochs: int, train, val, lines: list[str] | None = None):
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    log = None if lines is None else lines.append
    return model, fit(model, opt, train, val, "cpu", nn.CrossEntropyLoss(), epochs, checkpoint_path=ckpt,
                      options=LoopOptions(log=log, progress=False))


@pytest.mark.parametrize("change", ["fewer_photos", "other_photos"])
def test_resume_on_other_data_stops_before_touching_anything(tmp_path, change):
    """다른 폴더의 사진으로 바꾸고 같은 셀을 다시 실행하면, 예전 데이터로 학습한 모델을 조용히 이어 쓰지 않습니다."""
    ckpt = tmp_path / "c.pt"
    fit_named(ckpt, 1, *named_loaders("/data/a"))
    if change == "fewer_photos":
        train, val = DataLoader(NamedImages(80, 1, "/data/a"), batch_size=16), named_loaders("/data/a")[1]
        expected = r"학습 데이터가 다릅니다: 체크포인트는 훈련 96장, 검증 64장, 지금은 훈련 80장, 검증 64장"
    else:
        train, val = named_loaders("/data/a", [f"dog.{i}.jpg" for i in range(96)])
        expected = r"장수는 같지만 다른 사진"
    saved = C.load_checkpoint(ckpt)["model"]
    with pytest.raises(RuntimeError, match=expected + r".*resume=False"):
        fit_named(ckpt, 2, train, val, lines=[])
    same_weights_dict(saved, C.load_checkpoint(ckpt)["model"])  # 체크포인트도 그대로


def test_resume_after_moving_the_photo_folder(tmp_path):
    """폴더를 통째로 옮겨도 같은 사진이면(부모 폴더/파일 이름이 같으면) 이어서 학습합니다."""
    ckpt = tmp_path / "c.pt"
    fit_named(ckpt, 1, *named_loaders("/home/me/photos"))
    lines: list[str] = []
    _, hist = fit_named(ckpt, 2, *named_loaders("/mnt/usb/photos"), lines=lines)
    assert hist["epoch"] == [1, 2] and any("이어서 학습합니다: 1/2" in line for line in lines)


def test_data_fingerprint_sees_subsets_of_a_named_dataset():
    base = NamedImages(10, 0, "/x")
    first = C.data_fingerprint(DataLoader(torch.utils.data.Subset(base, [0, 1, 2])))
    other = C.data_fingerprint(DataLoader(torch.utils.data.Subset(base, [3, 4, 5])))
    assert first[0]["size"] == other[0]["size"] == 3 and first[0]["files"] != other[0]["files"]
    assert C.data_fingerprint(DataLoader(make_data(3, 0)))[0] == {"size": 3, "files": None}
