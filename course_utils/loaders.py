"""분류 학습의 데이터 준비: 디코딩 캐시를 채운 Dataset 세 개와, 같은 시드면 같은 순서로 섞는 DataLoader 두 개.

04_lenet5가 같은 준비를 직접 작성해 보이고 이 모듈과 같은지 확인합니다. 05-08은 여기서 가져다 씁니다.
"""
from __future__ import annotations

from typing import Callable, Sequence

from torch.utils.data import DataLoader, Dataset

from .data import ImageListDataset, Item, cache_size_for
from .setup import make_generator, seed_worker

__all__ = ["cached_datasets", "seeded_loaders"]


def cached_datasets(train_items: Sequence[Item], val_items: Sequence[Item], test_items: Sequence[Item],
                    transform: Callable, cache: int | None) -> tuple[ImageListDataset, ImageListDataset, ImageListDataset]:
    """훈련('train')/검증('val')/테스트('val') Dataset. 훈련과 검증은 디코딩 캐시를 미리 채웁니다.

    cache: 캐시에 둘 짧은 변 크기. 사진이 많아 메모리(2 GiB)를 넘치면 캐시 없이 매번 디코딩합니다(cache_size_for).
    미리 채워 두어야 DataLoader 작업자들이 같은 캐시를 물려받습니다. 테스트는 한 번만 읽으므로 캐시하지 않습니다.
    """
    cache = cache_size_for(len(train_items) + len(val_items), cache)
    train_set = ImageListDataset(train_items, transform, phase="train", cache=cache).fill_cache()
    val_set = ImageListDataset(val_items, transform, phase="val", cache=cache).fill_cache()
    test_set = ImageListDataset(test_items, transform, phase="val")
    return train_set, val_set, test_set


def seeded_loaders(train_set: Dataset, val_set: Dataset, batch_size: int, seed: int, num_workers: int = 0,
                   pin_memory: bool = False) -> tuple[DataLoader, DataLoader]:
    """(훈련 로더, 검증 로더). 훈련은 seed로 섞어, 같은 seed로 다시 만들면 같은 순서로 배치를 냅니다.

    비교 실험마다 새로 만들면 두 모델이 같은 데이터를 같은 순서로 봅니다. 작업자의 NumPy/random 시드는 seed_worker가 맞춥니다.
    """
    common = dict(batch_size=batch_size, num_workers=num_workers, pin_memory=pin_memory, worker_init_fn=seed_worker)
    train_loader = DataLoader(train_set, shuffle=True, generator=make_generator(seed), **common)
    val_loader = DataLoader(val_set, shuffle=False, **common)
    return train_loader, val_loader
