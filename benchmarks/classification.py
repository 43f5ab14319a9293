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
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torchvision import models

from course_utils.data import course_split, heldout_items, index_images
from course_utils.models import small_alexnet, small_googlenet, small_resnet, small_vgg
from course_utils.recipe import Recipe, train_recipe
from course_utils.setup import setup
from course_utils.train import LoopOptions


def lenet(size: int, softmax: bool = False, batch_norm: bool = False) -> nn.Module:
    """04의 LeNet-5 (합성곱 16, 32 / 5x5, 완전연결 512). softmax=True면 교재처럼 확률을 내보냅니다."""
    side = ((size - 4) // 2 - 4) // 2
    bn = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
    layers = [nn.Conv2d(3, 16, 5), bn(16), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), bn(32), nn.ReLU(),
              nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5 if batch_norm else 0.0), nn.Linear(32 * side * side, 512),
              nn.ReLU(), nn.Linear(512, 2)]
    return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))


# 이름 -> (모델 만들기(size), 학습 설정). 레시피 모델은 course_utils.recipe의 기본값(AdamW, OneCycle, 강한 증강, 스무딩)
BOOK = dict(epochs=10, smoothing=0.0, onecycle=False, strong=False)
RECIPES: dict[str, dict] = {
    "lenet-book": dict(model=lambda s: lenet(s, softmax=True), recipe=Recipe(optimizer="sgd", lr=1e-3, **BOOK)),
    "lenet": dict(model=lambda s: lenet(s, batch_norm=True), recipe=Recipe(lr=2e-3, epochs=40)),
    "alexnet": dict(model=lambda s: small_alexnet(32), recipe=Recipe(epochs=40)),
    "googlenet": dict(model=lambda s: small_googlenet(), recipe=Recipe(epochs=40)),
    "vgg-book": dict(model=lambda s: models.vgg16(num_classes=2), recipe=Recipe(optimizer="adam", lr=1e-7, **BOOK)),
    "vgg": dict(model=lambda s: small_vgg(16), recipe=Recipe(epochs=40)),
    "resnet-book": dict(model=lambda s: models.resnet50(num_classes=2),
                        recipe=Recipe(optimizer="adam", lr=1e-7, **BOOK)),
    "resnet": dict(model=lambda s: small_resnet(16), recipe=Recipe(epochs=40)),
}


def run_one(spec: dict, split, heldout, classes, size: int, seed: int, device, epochs: int | None,
            batch_size: int = 32, log: Callable | None = None) -> dict:
    """레시피 하나를 시드 하나로 학습하고 {'val', 'heldout', 'heldout_last', 'seconds', 'epochs', 'n_heldout'}를 돌려줍니다."""
    recipe = replace(spec["recipe"], size=size, batch_size=batch_size, epochs=epochs or spec["recipe"].epochs)
    torch.manual_seed(seed)
    model = spec["model"](size)
    heldout = heldout or split[2]  # 남은 사진이 없는 폴더(교재의 502장)에서는 노트북처럼 테스트 사진으로
    result = train_recipe(model, recipe, split[0], split[1], heldout, classes, device, seed,
                          options=LoopOptions(progress=False, log=log))
    return dict(val=result.history.best_value, heldout=result.best_epoch_acc, heldout_last=result.last_epoch_acc,
                seconds=result.seconds, epochs=recipe.epochs, n_heldout=len(heldout))


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
