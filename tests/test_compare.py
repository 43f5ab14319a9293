"""course_utils.compare: 같은 초기 가중치와 데이터 순서로 학습률만 바꾼 비교."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.compare import train_with_lr, weight_change


def _loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 6, generator=g)
    y = (x[:, 0] > 0).long()                            # 첫 특성의 부호가 정답
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(1)), \
        DataLoader(data, batch_size=32)


def _model():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))


def test_weight_change_is_relative_norm():
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[3.0, 4.0]]))   # ||w0|| = 5
    initial = torch.tensor([3.0, 4.0])
    assert weight_change(model, initial) == 0.0
    with torch.no_grad():
        model.weight.add_(torch.tensor([[0.0, 1.0]]))
    assert abs(weight_change(model, initial) - 1 / 5) < 1e-7


def test_tiny_learning_rate_barely_moves_and_same_seed_repeats(capsys, one_thread):
    good = train_with_lr(_model, 1e-2, 3, _loaders, torch.device("cpu"), nn.CrossEntropyLoss(), seed=0)
    tiny = train_with_lr(_model, 1e-7, 3, _loaders, torch.device("cpu"), nn.CrossEntropyLoss(), seed=0)
    again = train_with_lr(_model, 1e-2, 3, _loaders, torch.device("cpu"), nn.CrossEntropyLoss(), seed=0)
    assert tiny.weight_change < 1e-4 < good.weight_change
    assert good.history["train_loss"] == again.history["train_loss"]          # 같은 시드 = 같은 실험
    assert good.history["train_loss"][-1] < good.history["train_loss"][0]
    assert isinstance(good.optimizer, torch.optim.Adam) and good.optimizer.param_groups[0]["lr"] == 1e-2
    assert "Adam lr=1e-07" in capsys.readouterr().out
