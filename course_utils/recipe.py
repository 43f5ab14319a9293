"""사진이 적을 때(교재의 400장) 처음부터 잘 배우는 학습 레시피 하나: 05 노트북 11절이 한 줄씩 설명하는 것.

작은 사진, 강한 증강(RandomResizedCrop 25-100% + 뒤집기 + 색 흔들기), AdamW + 가중치 감쇠, 배치마다 바꾸는
OneCycle 학습률, 레이블 스무딩, 긴 학습. 끝나면 따로 둔 사진으로 두 가중치(검증 최고 에폭, 마지막 에폭)를 잽니다.
06-08 노트북과 ``benchmarks.classification`` 이 같은 함수를 씁니다.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from .data import ImageListDataset, Item
from .evaluation import heldout_predictions
from .loaders import cached_datasets, seeded_loaders
from .train import History, LoopOptions, fit
from .transforms import ImageTransform

__all__ = ["Recipe", "RecipeResult", "recipe_transform", "recipe_loaders", "recipe_optimizer", "train_recipe"]


@dataclass(frozen=True)
class Recipe:
    """레시피의 설정. 기본값이 400장에 맞춘 값입니다.

    optimizer: 'adamw' | 'adam' | 'sgd'(모멘텀 0.9). strong=False면 교재의 약한 증강(ImageTransform 기본값),
    onecycle=False면 학습률을 고정합니다. 교재 설정을 같은 틀로 재려고 둔 선택지입니다.
    """

    size: int = 64
    lr: float = 3e-3
    epochs: int = 150
    batch_size: int = 32
    weight_decay: float = 0.05
    smoothing: float = 0.1
    optimizer: str = "adamw"
    onecycle: bool = True
    strong: bool = True


@dataclass
class RecipeResult:
    """학습 기록, 따로 둔 사진의 정확도 두 가지, 마지막 에폭 가중치의 예측 표, 학습 시간(초)."""

    history: History
    best_epoch_acc: float
    last_epoch_acc: float
    predictions: pd.DataFrame
    seconds: float


def recipe_transform(recipe: Recipe) -> ImageTransform:
    """강한 증강: 원래 면적의 25-100%를 잘라 쓰고 밝기·대비·채도를 흔듭니다. strong=False면 교재의 ImageTransform."""
    if recipe.strong:
        return ImageTransform(recipe.size, scale=(0.25, 1.0), color_jitter=0.3)
    return ImageTransform(recipe.size)


def recipe_loaders(train_items: Sequence[Item], val_items: Sequence[Item], transform: ImageTransform,
                   batch_size: int, seed: int, pin_memory: bool = False) -> tuple[DataLoader, DataLoader]:
    """디코딩 캐시(검증 크기 + 8, 무작위 자르기의 여유)를 채운 훈련/검증 로더.

    사진 수백 장이 작은 크기로 메모리에 있으므로 에폭마다 작업자 프로세스를 띄우지 않습니다(num_workers=0).
    """
    train_set, val_set, _ = cached_datasets(train_items, val_items, [], transform, cache=transform.resize_val + 8)
    return seeded_loaders(train_set, val_set, batch_size, seed, num_workers=0, pin_memory=pin_memory)


def recipe_optimizer(model: nn.Module, recipe: Recipe,
                     steps_per_epoch: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """(옵티마이저, 배치마다 부를 OneCycle 스케줄러 또는 None)."""
    params = model.parameters()
    if recipe.optimizer == "sgd":
        optimizer = torch.optim.SGD(params, lr=recipe.lr, momentum=0.9)
    elif recipe.optimizer == "adam":
        optimizer = torch.optim.Adam(params, lr=recipe.lr)
    elif recipe.optimizer == "adamw":
        optimizer = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    else:
        raise ValueError(f"옵티마이저는 'adamw', 'adam', 'sgd' 가운데 하나입니다 (받은 값: {recipe.optimizer!r}).")
    if not recipe.onecycle:
        return optimizer, None
    return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr,
                                                          total_steps=recipe.epochs * steps_per_epoch)


def train_recipe(model: nn.Module, recipe: Recipe, train_items: Sequence[Item], val_items: Sequence[Item],
                 heldout: Sequence[Item], class_names: Sequence[str], device: torch.device, seed: int,
                 options: LoopOptions = LoopOptions(log=None)) -> RecipeResult:
    """model을 레시피대로 학습하고, 따로 둔 사진 heldout으로 검증 최고 에폭과 마지막 에폭의 가중치를 잽니다.

    끝나면 model에는 마지막 에폭의 가중치가 들어 있습니다(predictions도 그 가중치의 예측).
    """
    if not heldout:
        raise ValueError("따로 둔 사진이 없습니다. 나누기에 쓰고 남은 사진이 있는 폴더를 주세요.")
    transform = recipe_transform(recipe)
    train_loader, val_loader = recipe_loaders(train_items, val_items, transform, recipe.batch_size, seed,
                                              pin_memory=torch.device(device).type == "cuda")
    optimizer, scheduler = recipe_optimizer(model, recipe, len(train_loader))
    start = time.perf_counter()
    history = fit(model, optimizer, train_loader, val_loader, device,
                  nn.CrossEntropyLoss(label_smoothing=recipe.smoothing), recipe.epochs, scheduler=scheduler,
                  scheduler_interval="step", options=options)
    seconds = time.perf_counter() - start
    heldout_set = ImageListDataset(heldout, transform, phase="val",  # 두 번 재므로 한 번만 디코딩
                                   cache=transform.resize_val + 8).fill_cache()
    best = heldout_predictions(model, heldout_set, transform, device, class_names)  # fit이 되돌린 검증 최고 에폭
    if history.last_state is not None:
        model.load_state_dict(history.last_state)
    last = heldout_predictions(model, heldout_set, transform, device, class_names)
    return RecipeResult(history, float(best["correct"].mean()), float(last["correct"].mean()), last, seconds)
