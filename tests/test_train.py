"""course_utils.train: 작은 모델과 결정적인 데이터로 학습 루프를 CPU에서 점검합니다."""
from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from course_utils import train as T
from course_utils.train import evaluate, fit, predict, train_one_epoch


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
    hist = fit(model, train, val, nn.CrossEntropyLoss(), opt, "cpu", epochs, scheduler=sched,
               checkpoint_path=ckpt, log=None, progress=False)
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
    after = evaluate(model, val, nn.CrossEntropyLoss(), "cpu", progress=False)
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
    assert T.load_checkpoint(ckpt)["epoch"] == 2
    assert not list(tmp_path.glob("*.tmp"))
    resumed_model, resumed_hist = run(4, ckpt)
    same_history(full_hist, resumed_hist)
    same_weights(full_model, resumed_model)


def test_checkpoint_contents(tmp_path):
    ckpt = tmp_path / "c.pt"
    run(2, ckpt)
    state = T.load_checkpoint(ckpt)
    for key in ("model", "optimizer", "scheduler", "scaler", "history", "best_state", "epoch", "rng"):
        assert key in state
    assert state["epoch"] == 2 and len(state["history"]["val_acc"]) == 2
    assert {"python", "numpy", "torch", "cuda", "loader"} <= set(state["rng"])
    assert len(state["rng"]["loader"]) == 1  # 셔플 생성기 상태까지 저장


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "a.pt"
    T.save_checkpoint(path, {"x": torch.tensor([1.0])})

    def broken_save(obj, f):
        f.write(b"half-written")
        raise OSError("디스크 가득 참")

    monkeypatch.setattr(T.torch, "save", broken_save)
    with pytest.raises(OSError):
        T.save_checkpoint(path, {"x": torch.tensor([2.0])})
    assert torch.equal(T.load_checkpoint(path)["x"], torch.tensor([1.0]))  # 이전 파일은 온전
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # 임시 파일도 남지 않음


def test_mismatched_checkpoint_has_korean_message(tmp_path):
    ckpt = tmp_path / "c.pt"
    run(1, ckpt)
    other = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    train, val = loaders()
    with pytest.raises(RuntimeError, match="resume=False"):
        fit(other, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(other.parameters(), lr=0.1), "cpu", 2,
            checkpoint_path=ckpt, log=None, progress=False)


def test_finished_checkpoint_just_restores_best(tmp_path):
    ckpt = tmp_path / "c.pt"
    _, hist = run(3, ckpt)
    lines: list[str] = []
    model, opt, sched, train, val = parts()
    hist2 = fit(model, train, val, nn.CrossEntropyLoss(), opt, "cpu", 3, scheduler=sched,
                checkpoint_path=ckpt, log=lines.append, progress=False)
    same_history(hist, hist2)
    assert any("이어서" in line for line in lines)
    assert evaluate(model, val, nn.CrossEntropyLoss(), "cpu", progress=False)["acc"] == max(hist["val_acc"])


# ---------------------------------------------------------------- 안전장치
def test_non_finite_loss_stops_with_korean_error():
    model, opt, _, train, _ = parts()
    before = copy.deepcopy(model.state_dict())

    def nan_loss(logits, targets):
        return nn.functional.cross_entropy(logits, targets) * float("nan")

    with pytest.raises(FloatingPointError, match="학습률을 낮추"):
        train_one_epoch(model, train, nan_loss, opt, "cpu", progress=False)
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
    hist = fit(model, train, val, nn.CrossEntropyLoss(), opt, "cuda", 3, log=None, progress=False)
    assert max(hist["val_acc"]) > 0.7


def test_per_batch_scheduler_in_train_one_epoch():
    model, opt, _, train, _ = parts()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 ** step)
    train_one_epoch(model, train, nn.CrossEntropyLoss(), opt, "cpu", scheduler=sched, progress=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** len(train))


def test_reduce_on_plateau_gets_val_loss():
    model, opt, _, train, val = parts()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1)
    hist = fit(model, train, val, nn.CrossEntropyLoss(), opt, "cpu", 4, scheduler=sched, log=None, progress=False)
    assert len(hist["lr"]) == 4


# ---------------------------------------------------------------- top-k, 분할, 예측
def test_evaluate_topk_and_fit_history():
    model, opt, _, train, val = parts()
    hist = fit(model, train, val, nn.CrossEntropyLoss(), opt, "cpu", 2, topk=(1, 2), log=None, progress=False)
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
    hist = fit(model, train, val, loss_fn, torch.optim.SGD(model.parameters(), lr=0.5), "cpu", 5,
               log=None, progress=False)
    assert hist["val_acc"][-1] > 0.95
    x, y = val.dataset.tensors
    preds = model(x)["out"].argmax(1)
    valid = y != 255
    hand = ((preds == y) & valid).sum().item() / valid.sum().item()
    assert evaluate(model, val, loss_fn, "cpu", progress=False)["acc"] == pytest.approx(hand)


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
    fit(model, train, val, nn.CrossEntropyLoss(), opt, "cpu", 4, log=None, progress=False)
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
