"""course_utils.loaders: 캐시를 채운 분류 Dataset, 반려동물 분할 나누기, 같은 시드면 같은 순서로 섞는 로더."""
from __future__ import annotations

import pytest
import torch

from course_utils.data import index_images, split_items
from course_utils.loaders import cached_datasets, pets_segmentation_sets, seeded_loaders
from course_utils.setup import seed_worker
from course_utils.synthetic import make_classification_set, make_detection_set
from course_utils.transforms import ImageTransform


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = make_classification_set(tmp_path_factory.mktemp("cats"), n_per_class=10, size=48, seed=1)
    return split_items(index_images(root).items, 12, 6, 2, seed=0)


def test_cached_datasets_phases_and_cache(splits):
    transform = ImageTransform(32, resize_val=40)
    train_set, val_set, test_set = cached_datasets(*splits, transform, cache=40)
    assert [s.items for s in (train_set, val_set, test_set)] == [list(items) for items in splits]
    assert [s.phase for s in (train_set, val_set, test_set)] == ["train", "val", "val"]
    assert all(a is not None and min(a.shape[:2]) == 40 for a in train_set._cache + val_set._cache)  # 미리 채움
    assert test_set.cache_size is None                                   # 테스트는 한 번만 읽으므로 캐시 없음
    assert torch.equal(val_set[0][0], val_set[0][0]) and val_set[0][0].shape == (3, 32, 32)
    uncached = cached_datasets(*splits, transform, cache=None)[0]
    assert uncached.cache_size is None and uncached.items == train_set.items        # cache=None: 매번 디코딩


def test_seeded_loaders_repeat_the_same_order(splits):
    train_set, val_set, _ = cached_datasets(*splits, ImageTransform(32, resize_val=40), cache=40)
    first, val_loader = seeded_loaders(train_set, val_set, batch_size=4, seed=3)
    again, _ = seeded_loaders(train_set, val_set, batch_size=4, seed=3)
    other, _ = seeded_loaders(train_set, val_set, batch_size=4, seed=4)
    labels = [y.tolist() for _, y in first]
    assert labels == [y.tolist() for _, y in again]                      # 같은 시드 = 같은 순서
    assert list(first.sampler) != list(other.sampler)                    # 다른 시드 = 다른 순서
    assert sorted(sum(labels, [])) == sorted(train_set.labels)           # 한 에폭에 모든 사진 한 번씩
    assert torch.cat([y for _, y in val_loader]).tolist() == val_set.labels   # 검증은 섞지 않음
    assert first.worker_init_fn is seed_worker and val_loader.batch_size == 4


def test_pets_segmentation_sets_split_unused_photos_in_half(tmp_path, one_thread):
    root = make_detection_set(tmp_path / "pets", n_images=24, size=48, seed=0, max_pets=1)
    train_set, val_set, test_set, classes = pets_segmentation_sets(root, size=32, n_train=5, n_val=5)
    assert classes[0] == "background" and len(classes) >= 2
    assert list(train_set.indices) == list(range(5))
    assert list(val_set.indices) == [0, 2, 4] and list(test_set.indices) == [1, 3]         # 번갈아 반씩
    assert train_set.dataset.records is not val_set.dataset.records                      # 다른 쪽(train/val)
    image, mask = val_set[0]
    assert image.shape == (3, 32, 32) and mask.shape == (32, 32) and mask.dtype == torch.int64
    big = pets_segmentation_sets(root, size=32, n_train=10_000, n_val=10_000)
    assert len(big[0]) == len(train_set.dataset) and len(big[1]) + len(big[2]) == len(val_set.dataset)


def test_seeded_loaders_drop_last_only_for_training(splits):
    train_set, val_set, _ = cached_datasets(*splits, ImageTransform(32, resize_val=40), cache=None)
    train_loader, val_loader = seeded_loaders(train_set, val_set, batch_size=5, seed=0, drop_last=True)
    assert [len(y) for _, y in train_loader] == [5, 5]                   # 12장: 마지막 2장짜리 배치는 버림
    assert sum(len(y) for _, y in val_loader) == len(val_set)
