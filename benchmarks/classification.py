"""교재의 나누기(400/92/10, 시드 42)에서 분류 모델 레시피를 처음부터 학습하고, 따로 둔 사진으로 정확도를 잽니다.

04-08 노트북의 비교와 같은 조건입니다: 같은 폴더, 같은 course_split, 검증 최고 에폭의 가중치, 나누기가 남긴
사진에서 뽑은 평가 세트(heldout_items, 기본 2,000장). 시드마다 한 줄, 끝에 모델별 평균을 찍습니다.
따로 둔 정확도는 두 가중치로 잽니다: 검증 92장에서 가장 좋던 에폭과 마지막 에폭(fit의 History.last_state).

    python -m benchmarks.classification --data ../shared/data/dogs-vs-cats-20k --model lenet --epochs 150 --image-size 64
    python -m benchmarks.classification --data ../shared/data/dogs-vs-cats-20k --model lenet --seeds 0 1 2
    python -m benchmarks.classification --data data/dogs-vs-cats --model resnet lenet-book --image-size 96

레시피 (사전 훈련 가중치 없음):
- *-book: 교재 설정 그대로 (LeNet: 마지막 Softmax + SGD lr=0.001, 10 에폭. VGG/ResNet: Adam lr=1e-7, 10 에폭).
- 나머지(lenet, alexnet, vgg, googlenet, resnet): 증강(RandomResizedCrop + 뒤집기 + 색 흔들기), AdamW + 가중치 감쇠,
  OneCycle 학습률, 레이블 스무딩, 배치 정규화, 400장에 맞춘 폭과 이미지 크기.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torchvision import models

from course_utils.data import ImageListDataset, course_split, heldout_items, index_images
from course_utils.evaluation import heldout_predictions
from course_utils.loaders import seeded_loaders
from course_utils.models import small_alexnet, small_googlenet, small_resnet, small_vgg
from course_utils.setup import setup
from course_utils.train import LoopOptions, fit
from course_utils.transforms import ImageTransform


def lenet(size: int, softmax: bool = False, batch_norm: bool = False) -> nn.Module:
    """04의 LeNet-5 (합성곱 16, 32 / 5x5, 완전연결 512). softmax=True면 교재처럼 확률을 내보냅니다."""
    side = ((size - 4) // 2 - 4) // 2
    bn = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
    layers = [nn.Conv2d(3, 16, 5), bn(16), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), bn(32), nn.ReLU(),
              nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5 if batch_norm else 0.0), nn.Linear(32 * side * side, 512),
              nn.ReLU(), nn.Linear(512, 2)]
    return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))


# 이름 -> (모델 만들기(size), 옵티마이저 만들기(params, lr), 학습률, 에폭, 레이블 스무딩, 강한 증강, OneCycle)
RECIPES: dict[str, dict] = {
    "lenet-book": dict(model=lambda s: lenet(s, softmax=True), opt="sgd", lr=1e-3, epochs=10, smoothing=0.0,
                       strong=False, onecycle=False),
    "lenet": dict(model=lambda s: lenet(s, batch_norm=True), opt="adamw", lr=2e-3, epochs=40, smoothing=0.1,
                  strong=True, onecycle=True),
    "alexnet": dict(model=lambda s: small_alexnet(32), opt="adamw", lr=3e-3, epochs=40, smoothing=0.1, strong=True,
                    onecycle=True),
    "googlenet": dict(model=lambda s: small_googlenet(), opt="adamw", lr=3e-3, epochs=40, smoothing=0.1, strong=True,
                      onecycle=True),
    "vgg-book": dict(model=lambda s: models.vgg16(num_classes=2), opt="adam", lr=1e-7, epochs=10, smoothing=0.0,
                     strong=False, onecycle=False),
    "vgg": dict(model=lambda s: small_vgg(16), opt="adamw", lr=3e-3, epochs=40, smoothing=0.1, strong=True,
                onecycle=True),
    "resnet-book": dict(model=lambda s: models.resnet50(num_classes=2), opt="adam", lr=1e-7, epochs=10,
                        smoothing=0.0, strong=False, onecycle=False),
    "resnet": dict(model=lambda s: small_resnet(16), opt="adamw", lr=3e-3, epochs=40, smoothing=0.1, strong=True,
                   onecycle=True),
}


def recipe_transform(size: int, strong: bool) -> ImageTransform:
    """강한 증강: 원래 면적의 25-100%를 잘라 쓰고 밝기·대비·채도를 흔듭니다. 약한 증강은 교재의 ImageTransform."""
    return ImageTransform(size, scale=(0.25, 1.0), color_jitter=0.3) if strong else ImageTransform(size)


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.05)


def run_one(recipe: dict, split, heldout, classes, size: int, seed: int, device, epochs: int | None,
            batch_size: int = 32, log: Callable | None = None) -> dict:
    """레시피 하나를 시드 하나로 학습하고 {'val', 'heldout', 'seconds', 'epochs'}를 돌려줍니다."""
    torch.manual_seed(seed)
    transform = recipe_transform(size, recipe["strong"])
    cache = transform.resize_val + 8
    train_set, val_set = (ImageListDataset(items, transform, phase=p, cache=cache).fill_cache()
                          for items, p in ((split[0], "train"), (split[1], "val")))
    train_loader, val_loader = seeded_loaders(train_set, val_set, batch_size, seed)
    model = recipe["model"](size)
    optimizer = make_optimizer(recipe["opt"], model.parameters(), recipe["lr"])
    epochs = epochs or recipe["epochs"]
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer, recipe["lr"], epochs=epochs,
                                                     steps_per_epoch=len(train_loader)) if recipe["onecycle"] else None)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe["smoothing"])
    start = time.perf_counter()
    history = fit(model, optimizer, train_loader, val_loader, device, loss_fn, epochs, scheduler=scheduler,
                  scheduler_interval="step", options=LoopOptions(progress=False, log=log))
    seconds = time.perf_counter() - start
    best = heldout_accuracy(model, heldout, transform, device, classes)  # fit이 되돌린 검증 최고 에폭의 가중치
    model.load_state_dict(history.last_state)
    return dict(val=history.best_value, heldout=best, heldout_last=heldout_accuracy(model, heldout, transform, device,
                classes), seconds=seconds, epochs=epochs, n_heldout=len(heldout))


def heldout_accuracy(model: nn.Module, heldout: list, transform, device, classes: list[str]) -> float:
    """따로 둔 사진에서의 정확도 (사진이 없으면 nan)."""
    if not heldout:
        return float("nan")
    return float(heldout_predictions(model, heldout, transform, device, classes)["correct"].mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="클래스 폴더가 든 사진 폴더")
    parser.add_argument("--model", nargs="+", default=["lenet"], choices=sorted(RECIPES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=None, help="레시피의 에폭 수 대신")
    parser.add_argument("--heldout", type=int, default=2000, help="따로 둔 평가 사진 수 (나누기가 남긴 사진에서)")
    args = parser.parse_args(argv)
    env = setup(seed=42)
    index = index_images(args.data)
    split = course_split(index)  # 노트북과 같은 나누기 (시드 42): 학습 시드만 바뀝니다
    heldout = heldout_items(index, args.heldout, split=split)
    print(f"데이터 {args.data} | 나누기 {'/'.join(str(len(s)) for s in split)} | 따로 둔 평가 {len(heldout)}장 | "
          f"장치 {env.device} | {args.image_size}px")
    for name in args.model:
        rows = []
        for seed in args.seeds:
            row = run_one(RECIPES[name], split, heldout, index.classes, args.image_size, seed, env.device, args.epochs)
            rows.append(row)
            print(f"{name:12s} seed {seed}: 검증 최고 {row['val']:.3f} | 따로 둔 {row['n_heldout']}장: 검증 최고 에폭 "
                  f"{row['heldout']:.3f}, 마지막 에폭 {row['heldout_last']:.3f} | {row['epochs']} 에폭 "
                  f"{row['seconds']:.0f}초", flush=True)
        mean, mean_last = (sum(r[k] for r in rows) / len(rows) for k in ("heldout", "heldout_last"))
        print(f"{name:12s} 평균(시드 {len(rows)}개): 따로 둔 정확도 검증 최고 에폭 {mean:.3f}, 마지막 에폭 {mean_last:.3f}",
              flush=True)


if __name__ == "__main__":
    main()
