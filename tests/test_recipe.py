"""400장 레시피(course_utils.recipe): 05가 손으로 쓰는 설정과 같은 학습, 두 가중치의 따로 둔 정확도."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils import synthetic
from course_utils.data import ImageListDataset, index_images, split_items
from course_utils.evaluation import heldout_predictions
from course_utils.loaders import seeded_loaders
from course_utils.models import small_vgg
from course_utils.recipe import Recipe, recipe_optimizer, recipe_transform, train_recipe
from course_utils.train import LoopOptions, fit
from course_utils.transforms import ImageTransform

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = synthetic.make_classification_set(tmp_path_factory.mktemp("recipe") / "data", n_per_class=24, size=48)
    index = index_images(root)
    return (*split_items(index.items, 16, 12, 20, seed=0), index.classes)


def test_train_recipe_is_the_hand_written_setup_of_05(split, one_thread):
    """05 11절이 한 줄씩 쓰는 것(강한 증강, 캐시, AdamW 0.05, 배치마다 OneCycle, 스무딩 0.1)과 같은 기록과 예측."""
    train, val, held, classes = split
    recipe = Recipe(size=32, epochs=3, batch_size=8)
    torch.manual_seed(0)
    result = train_recipe(small_vgg(4), recipe, train, val, held, classes, CPU, seed=0,
                          options=LoopOptions(progress=False, log=None))

    transform = ImageTransform(32, scale=(0.25, 1.0), color_jitter=0.3)
    cache = transform.resize_val + 8
    sets = [ImageListDataset(items, transform, phase=p, cache=cache).fill_cache()
            for items, p in ((train, "train"), (val, "val"), (held, "val"))]
    train_loader, val_loader = seeded_loaders(sets[0], sets[1], 8, 0)
    torch.manual_seed(0)
    model = small_vgg(4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=3 * len(train_loader))
    history = fit(model, optimizer, train_loader, val_loader, CPU, nn.CrossEntropyLoss(label_smoothing=0.1), 3,
                  scheduler=scheduler, scheduler_interval="step", options=LoopOptions(progress=False, log=None))
    same = [k for k in history if k != "seconds"]  # 걸린 시간만 다릅니다
    assert {k: result.history[k] for k in same} == {k: history[k] for k in same} and "val_acc" in same
    best = heldout_predictions(model, sets[2], transform, CPU, classes)["correct"].mean()
    model.load_state_dict(history.last_state or model.state_dict())
    last = heldout_predictions(model, sets[2], transform, CPU, classes)
    assert result.best_epoch_acc == pytest.approx(best) and result.last_epoch_acc == pytest.approx(last["correct"].mean())
    assert result.predictions[["true", "label"]].equals(last[["true", "label"]])
    assert result.seconds > 0


def test_train_recipe_leaves_the_last_epoch_weights_in_the_model(split, one_thread):
    train, val, held, classes = split
    torch.manual_seed(1)
    model = small_vgg(4)
    result = train_recipe(model, Recipe(size=32, epochs=4, batch_size=8, lr=0.5), train, val, held, classes, CPU,
                          seed=1, options=LoopOptions(progress=False, log=None))
    expected = result.history.last_state
    if expected is not None:  # 가장 좋던 에폭이 마지막이 아니었으면 fit이 되돌렸다가 여기서 다시 마지막으로
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in expected.items())
    assert len(result.predictions) == len(held)


def test_recipe_optimizer_choices():
    model = nn.Linear(3, 2)
    opt, sched = recipe_optimizer(model, Recipe(epochs=5), steps_per_epoch=4)
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["weight_decay"] == 0.05
    assert sched.total_steps == 20
    for _ in range(19):  # 20번째 배치의 학습률이 마지막 값
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] < 3e-3 / 1000  # OneCycle은 끝에서 학습률을 거의 0까지 내립니다
    opt, sched = recipe_optimizer(model, Recipe(optimizer="sgd", lr=1e-3, onecycle=False), steps_per_epoch=4)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9 and sched is None
    with pytest.raises(ValueError, match="옵티마이저"):
        recipe_optimizer(model, Recipe(optimizer="rmsprop"), steps_per_epoch=4)


def test_recipe_transform_strong_and_book():
    strong, book = recipe_transform(Recipe(size=48)), recipe_transform(Recipe(size=48, strong=False))
    assert (strong.scale, strong.color_jitter) == ((0.25, 1.0), 0.3)
    assert (book.scale, book.color_jitter) == ((0.5, 1.0), 0.0) and strong.resize_val == book.resize_val
    img = torch.zeros(3, 60, 80, dtype=torch.uint8)
    from torchvision.transforms.functional import to_pil_image
    assert strong(to_pil_image(img), "train").shape == book(to_pil_image(img), "val").shape == (3, 48, 48)


def test_train_recipe_needs_heldout_photos(split):
    train, val, _, classes = split
    with pytest.raises(ValueError, match="따로 둔 사진"):
        train_recipe(small_vgg(4), Recipe(size=32, epochs=1), train, val, [], classes, CPU, seed=0)


def test_heldout_predictions_reads_a_given_dataset(split):
    _, _, held, classes = split
    transform = ImageTransform(32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    from_items = heldout_predictions(model, held, transform, CPU, classes)
    from_set = heldout_predictions(model, ImageListDataset(held, transform, phase="val"), transform, CPU, classes)
    assert from_items[["true", "label", "correct"]].equals(from_set[["true", "label", "correct"]])
