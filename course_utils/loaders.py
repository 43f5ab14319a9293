"""학습 데이터 준비: 훈련/검증/테스트 Dataset과, 같은 시드면 같은 순서로 섞는 DataLoader.

- 분류(개·고양이): ``cached_datasets`` + ``seeded_loaders``. 04_lenet5가 직접 작성해 보이고 이 모듈과 같은지
  확인합니다. 05-08은 여기서 가져다 씁니다.
- 분할(반려동물 마스크): ``pets_segmentation_sets`` + ``seeded_loaders(drop_last=True)``. 13_fcn이 직접 작성해 보이고
  같은지 확인합니다. 15-17은 여기서 가져다 씁니다.
"""
from __future__ import annotations

from typing import Callable, Sequence

from torch.utils.data import DataLoader, Dataset, Subset

from .coco import PetsSegmentation
from .data import ImageListDataset, Item, cache_size_for
from .setup import make_generator, seed_worker
from .sources import DataSource
from .transforms import segmentation_transforms

__all__ = ["cached_datasets", "pets_segmentation_sets", "seeded_loaders"]


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


def pets_segmentation_sets(source: DataSource, size: int, n_train: int,
                           n_val: int) -> tuple[Subset, Subset, Subset, list[str]]:
    """반려동물 분할 데이터의 (훈련, 검증, 테스트, 클래스 이름). 이미지는 size x size로 맞춥니다.

    훈련: train 쪽 앞 n_train장(증강). 학습에 쓰지 않는 val 쪽 앞 n_val장을 번갈아 반씩 나눠
    검증(fit이 가장 좋은 에폭을 고름)과 테스트(고르는 데 쓰지 않은 사진으로 마지막 점수)로 씁니다.
    """
    train_full = PetsSegmentation(source, split="train", transforms=segmentation_transforms(train=True, size=size))
    val_full = PetsSegmentation(source, split="val", transforms=segmentation_transforms(train=False, size=size))
    held_out = range(min(n_val, len(val_full)))
    return (Subset(train_full, range(min(n_train, len(train_full)))), Subset(val_full, held_out[0::2]),
            Subset(val_full, held_out[1::2]), train_full.classes)


def seeded_loaders(train_set: Dataset, val_set: Dataset, batch_size: int, seed: int, num_workers: int = 0,
                   pin_memory: bool = False, drop_last: bool = False) -> tuple[DataLoader, DataLoader]:
    """(훈련 로더, 검증 로더). 훈련은 seed로 섞어, 같은 seed로 다시 만들면 같은 순서로 배치를 냅니다.

    비교 실험마다 새로 만들면 두 모델이 같은 데이터를 같은 순서로 봅니다. 작업자의 NumPy/random 시드는 seed_worker가 맞춥니다.
    drop_last: 훈련의 마지막 작은 배치를 버립니다(배치 정규화가 한두 장짜리 배치에서 흔들리지 않게).
    """
    common = dict(batch_size=batch_size, num_workers=num_workers, pin_memory=pin_memory, worker_init_fn=seed_worker)
    train_loader = DataLoader(train_set, shuffle=True, drop_last=drop_last, generator=make_generator(seed), **common)
    val_loader = DataLoader(val_set, shuffle=False, **common)
    return train_loader, val_loader
