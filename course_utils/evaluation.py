"""학습이 끝난 분류기를 따로 둔(held-out) 사진으로 평가: 정확도, 혼동 행렬, 틀린 사진 격자.

검증 세트는 최고 에폭을 고르는 데 이미 썼으므로, 그 점수는 조금 낙관적입니다. 학습에도 에폭 선택에도 쓰지 않은
사진으로 다시 재야 모델이 처음 보는 사진에서 얼마나 맞히는지 알 수 있습니다 (data.heldout_items).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader

from .data import ImageListDataset, Item
from .train import predict
from .viz import CourseFigure, show_prediction_grid

__all__ = ["heldout_predictions", "heldout_report", "confusion_matrix", "show_confusion_matrix", "show_misclassified", "comparison_table",
           "show_comparison"]


def heldout_predictions(model: nn.Module, items: Sequence[Item] | ImageListDataset, transform: Callable,
                        device: torch.device, class_names: Sequence[str], batch_size: int = 64,
                        num_workers: int = 0) -> pd.DataFrame:
    """items를 평가용 변환('val')으로 읽어 예측한 표 (train.predict와 같은 열: true, label, correct, ...).

    items 대신 ImageListDataset을 주면 그것을 그대로 읽습니다(캐시를 채운 것이면 여러 번 재도 한 번만 디코딩).
    """
    if not len(items):
        raise ValueError("평가할 사진이 없습니다: 따로 둔 사진 목록이 비었습니다. 나누기에 쓰고 남은 사진이 있는 폴더를 주세요.")
    dataset = items if isinstance(items, ImageListDataset) else ImageListDataset(items, transform, phase="val")
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    return predict(model, loader, device, class_names=class_names, progress=False)


def confusion_matrix(true: Sequence[int], pred: Sequence[int], num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) 개수 행렬: 행 = 정답, 열 = 예측. 대각선이 맞힌 개수입니다."""
    true, pred = np.asarray(true, dtype=int), np.asarray(pred, dtype=int)
    if true.shape != pred.shape:
        raise ValueError(f"정답({true.shape})과 예측({pred.shape})의 개수가 다릅니다.")
    return np.bincount(true * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def show_confusion_matrix(cm: np.ndarray, class_names: Sequence[str], title: str = "혼동 행렬") -> Figure:
    """혼동 행렬을 칸마다 개수와 행(정답) 비율로 그립니다."""
    fig, ax = plt.subplots(figsize=(3.8, 3.4), FigureClass=CourseFigure)
    rate = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(rate, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(cm):
        ax.text(j, i, f"{n}\n({rate[i, j]:.0%})", ha="center", va="center",
                color="white" if rate[i, j] > 0.5 else "black")
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks, xticklabels=class_names, yticklabels=class_names,
           xlabel="예측", ylabel="정답", title=title)
    fig.tight_layout()
    return fig


def show_misclassified(predictions: pd.DataFrame, class_names: Sequence[str], n: int = 10, cols: int = 5) -> Figure | None:
    """틀린 사진을 최대 n장 (틀린 쪽 확률이 높은, 즉 자신 있게 틀린 것부터). 틀린 사진이 없으면 None."""
    wrong = predictions[~predictions["correct"]]
    if wrong.empty:
        return None
    prob_cols = [f"prob_{c}" for c in class_names]
    confidence = wrong[prob_cols].to_numpy().max(axis=1)
    wrong = wrong.iloc[np.argsort(-confidence)[:n]]
    return show_prediction_grid(wrong["path"].tolist(), wrong["true"].tolist(), wrong["label"].tolist(),
                                class_names=class_names, cols=cols)


def heldout_report(model: nn.Module, items: Sequence[Item], transform: Callable, device: torch.device,
                   class_names: Sequence[str], best_val: float, val_size: int, n_wrong: int = 10) -> pd.DataFrame:
    """04에서 손으로 쓴 따로 둔 사진 평가를 한 번에: 예측, 정확도 한 줄, 혼동 행렬과 틀린 사진 그림(셀 끝에 그려짐).

    예측 표(heldout_predictions)를 돌려줍니다. 정확도는 표의 correct 열 평균입니다.
    """
    res = heldout_predictions(model, items, transform, device, class_names)
    print(f"최고 검증 정확도 {best_val:.3f} (검증 {val_size}장, 에폭 선택에 씀) | "
          f"따로 둔 {len(res)}장의 정확도 {res['correct'].mean():.3f}")
    cm = confusion_matrix(res["true"], res["label"], len(class_names))
    show_confusion_matrix(cm, class_names, title=f"따로 둔 {len(res)}장의 혼동 행렬")
    show_misclassified(res, class_names, n=n_wrong)  # 자신 있게 틀린 것부터 (제목: 예측 (정답))
    return res


def comparison_table(runs: dict[str, dict[str, float]]) -> pd.DataFrame:
    """실험 이름 -> {'검증 최고': ..., '따로 둔 사진': ...} 을 표로. 없는 값(교재의 저장된 결과의 따로 둔 정확도)은 NaN."""
    table = pd.DataFrame.from_dict(runs, orient="index")
    table.index.name = "실험"
    return table


def show_comparison(table: pd.DataFrame, chance: float = 0.5, title: str = "같은 나누기에서 비교") -> Figure:
    """comparison_table의 줄마다 가로 막대 묶음(열마다 막대 하나), 우연 수준(chance) 점선과 함께 그립니다.

    가로 막대라 '교재 코드 (SGD lr=0.001, 10에폭)'처럼 긴 실험 이름도 겹치지 않고 왼쪽에 한 줄씩 놓입니다.
    """
    n_rows, n_cols = len(table), max(1, len(table.columns))
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.55 * n_rows * max(1, n_cols / 2)), FigureClass=CourseFigure)
    y = np.arange(n_rows)
    height = 0.8 / n_cols
    for i, column in enumerate(table.columns):
        values = table[column].to_numpy(dtype=float)
        bars = ax.barh(y + (i - (n_cols - 1) / 2) * height, np.nan_to_num(values), height, label=column)
        ax.bar_label(bars, labels=["" if np.isnan(v) else f"{v:.3f}" for v in values], fontsize=8, padding=2)
    ax.axvline(chance, color="gray", ls="--", lw=1, label=f"우연 수준 {chance:.2f}")
    ax.set(yticks=y, xlim=(0, 1.1), xlabel="정확도", title=title)
    ax.set_yticklabels(table.index, fontsize=9)
    ax.invert_yaxis()  # 표와 같은 순서로 위에서 아래로
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig
