"""사진을 한 번만 디코딩해 장치(GPU) 메모리에 올려 두고, 배치 증강까지 장치 위에서 하는 데이터 공급.

큰 데이터(개·고양이 25,000장)를 GPU 한 장에서 빨리 학습할 때 씁니다(``benchmarks/recipe.py``).
1. ``decode_all``: 모든 사진을 짧은 변 size로 줄이고 가운데를 잘라 (N, 3, size, size) uint8 텐서 하나로 쌓습니다.
2. ``DeviceBatches``: 그 텐서에서 배치를 뽑아 augment.gpu_train_batch(이미지마다 다른 RandomResizedCrop, 뒤집기,
   정규화)로 증강해 내줍니다. DataLoader처럼 ``train_one_epoch`` 에 넘깁니다.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from . import augment
from .constants import IMAGENET_MEAN, IMAGENET_STD
from .data import Item
from .images import load_rgb

__all__ = ["decode_all", "DeviceBatches"]


class _SquareUint8(Dataset):
    """(경로, 레이블) 목록을 짧은 변 size로 줄이고 가운데를 잘라 ((3, size, size) uint8, 레이블)로 돌려줍니다."""

    def __init__(self, items: Sequence[Item], size: int) -> None:
        self.items = list(items)
        self.tf = v2.Compose([v2.Resize(size), v2.CenterCrop(size)])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path, label = self.items[i]
        return self.tf(v2.functional.pil_to_tensor(load_rgb(path))), int(label)


def decode_all(items: Sequence[Item], size: int, workers: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """모든 이미지를 한 번 디코딩해 (N, 3, size, size) uint8 텐서와 (N,) 레이블 텐서로 쌓습니다 (작업자 workers개)."""
    if not items:
        raise ValueError("디코딩할 이미지가 없습니다. (경로, 레이블) 목록을 확인하세요.")
    loader = DataLoader(_SquareUint8(items, size), batch_size=256, num_workers=workers)
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys)


class DeviceBatches:
    """장치 위 uint8 텐서 x (N, 3, S, S)와 레이블 y에서 배치를 뽑아 내주는 반복자.

    train=True: 에폭마다 seed에서 이어지는 순서로 섞고, 나머지 배치는 버리며(drop_last), 장치 위에서 증강합니다.
    train=False: 순서대로 전부, 정규화한 뒤 size로 줄이기만 합니다(antialias).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch: int, size: int, train: bool, seed: int = 0,
                 mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 scale: tuple[float, float] = (0.35, 1.0)) -> None:
        if len(x) != len(y):
            raise ValueError(f"이미지 {len(x)}장과 레이블 {len(y)}개의 수가 다릅니다.")
        self.x, self.y, self.batch, self.size, self.train = x, y, batch, size, train
        self.mean, self.std, self.scale = tuple(mean), tuple(std), scale
        self.gen = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.x) // self.batch) if self.train else -(-len(self.x) // self.batch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        if self.train:
            order = torch.randperm(n, generator=self.gen).to(self.x.device)
        else:
            order = torch.arange(n, device=self.x.device)
        for b in range(len(self)):
            idx = order[b * self.batch:(b + 1) * self.batch]
            if self.train:
                yield augment.gpu_train_batch(self.x[idx], self.size, self.mean, self.std, scale=self.scale,
                                              generator=self.gen), self.y[idx]
            else:
                xb = augment.gpu_eval_batch(self.x[idx], self.mean, self.std)
                yield F.interpolate(xb, size=self.size, mode="bilinear", antialias=True), self.y[idx]
