"""벤치마크의 두 루프: 교재식 루프(기준)와 강의 엔진. `python -m benchmarks.loops '<json>'` 로 하나를 잽니다."""
from __future__ import annotations

import io
import json
import os
import resource
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import models
from torchvision import transforms as T

from course_utils.constants import IMAGENET_MEAN as MEAN
from course_utils.constants import IMAGENET_STD as STD


class LeNet(nn.Module):
    """강의 04의 LeNet-5 (로짓 출력). 입력 크기에 맞춰 완전연결층 입력을 정합니다."""

    def __init__(self, size: int = 224, num_classes: int = 2) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        side = ((size - 4) // 2 - 4) // 2
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * side * side, 512), nn.ReLU(),
                                        nn.Linear(512, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_model(name: str, size: int) -> nn.Module:
    """벤치마크 모델을 만듭니다 (가중치는 무작위)."""
    if name == "lenet":
        return LeNet(size)
    return getattr(models, name)(weights=None, num_classes=2)


def make_bench_images(root: Path, n: int, seed: int = 0) -> Path:
    """실제 사진 크기(약 500x375)의 JPEG를 Cat/Dog 폴더에 n장 만듭니다. 내용은 처리량과 무관합니다."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / ("Cat" if i % 2 else "Dog")
        folder.mkdir(parents=True, exist_ok=True)
        h, w = int(rng.integers(300, 420)), int(rng.integers(400, 520))
        base = rng.integers(0, 255, size=(h // 8, w // 8, 3), dtype=np.uint8)
        img = Image.fromarray(base).resize((w, h), Image.BILINEAR)
        img.save(folder / f"{i}.jpg", quality=90)
    return root


def _items(root: Path) -> list[tuple[Path, int]]:
    return [(p, int(p.parent.name == "Dog")) for p in sorted(root.glob("*/*.jpg"))]


class TextbookDataset(Dataset):
    """교재식 데이터셋: 매 에포크 JPEG를 다시 디코딩하고 PIL 변환을 거칩니다."""

    def __init__(self, items: list[tuple[Path, int]], size: int) -> None:
        self.items = items
        self.transform = T.Compose([T.RandomResizedCrop(size, scale=(0.5, 1.0)), T.RandomHorizontalFlip(),
                                    T.ToTensor(), T.Normalize(MEAN, STD)])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        path, label = self.items[i]
        return self.transform(Image.open(path).convert("RGB")), label


def textbook_epoch(model, loader, criterion, optimizer, device) -> None:
    """교재의 train_model 한 에포크(훈련 단계)와 같은 일을 합니다: 배치마다 loss.item() 출력 포함."""
    model.train()
    epoch_loss, epoch_corrects = 0.0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        with torch.set_grad_enabled(True):
            outputs = model(inputs)
            _, preds = torch.max(outputs, 1)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            print(loss.item())
            epoch_loss += loss.item() * inputs.size(0)
            epoch_corrects += torch.sum(preds == labels.data)


def _loaders(spec: dict, items, device: torch.device):
    """루프 종류에 맞는 로더: 교재식은 작업자 0개·매번 디코딩, 강의 엔진은 디코딩 캐시와 작업자,
    course+gpu는 장치 위 uint8 묶음과 GPU 증강(course_utils.gpu_data, benchmarks.recipe와 같은 방식)."""
    if spec["loop"] == "textbook":
        return DataLoader(TextbookDataset(items, spec["size"]), batch_size=spec["batch"], shuffle=True)
    from course_utils.data import ImageListDataset
    from course_utils.transforms import ImageTransform

    store = int(spec["size"] * 256 / 224)
    if spec["loop"].startswith("course+gpu"):
        from course_utils.gpu_data import DeviceBatches, decode_all

        x, y = decode_all(items, store, workers=min(4, os.cpu_count() or 1))  # 한 번 디코딩한 uint8을 장치에 올려 두고 증강도 장치에서
        return DeviceBatches(x.to(device), y.to(device), spec["batch"], spec["size"], train=True)
    # 작업자를 만들기 전에 캐시를 채워야 작업자들이 같은 캐시를 물려받습니다
    ds = ImageListDataset(items, ImageTransform(spec["size"], MEAN, STD), phase="train", cache=store).fill_cache()
    workers = 0 if device.type == "cpu" else 4
    return DataLoader(ds, batch_size=spec["batch"], shuffle=True, num_workers=workers,
                      pin_memory=device.type == "cuda", persistent_workers=workers > 0)


def _course_epoch(model, loader, criterion, optimizer, device) -> None:
    from course_utils.train import train_one_epoch

    cuda = device.type == "cuda"
    train_one_epoch(model, optimizer, loader, device, criterion,
                    amp_dtype=torch.bfloat16 if cuda else None, channels_last=cuda)


def measure(spec: dict) -> dict:
    """준비 에포크 한 번 뒤 한 에포크(steps 배치)를 재서 이미지/초와 최대 메모리를 돌려줍니다."""
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    device = torch.device(spec["device"])
    items = _items(Path(spec["data"]))[: spec["steps"] * spec["batch"]]
    model = build_model(spec["model"], spec["size"]).to(device)
    if device.type == "cuda" and spec["loop"] != "textbook":
        torch.backends.cudnn.benchmark = True
        model = model.to(memory_format=torch.channels_last)
        if spec["loop"].endswith("+compile"):
            model = torch.compile(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    loader = _loaders(spec, items, device)
    epoch = textbook_epoch if spec["loop"] == "textbook" else _course_epoch
    with redirect_stdout(io.StringIO()):
        epoch(model, loader, criterion, optimizer, device)  # 준비: 캐시 채우기, cudnn 탐색, 컴파일
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        epoch(model, loader, criterion, optimizer, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"images_per_s": len(items) / seconds, "peak_mb": peak, "seconds": seconds}


def pipeline_table(root: Path, size: int, threads: int) -> str:
    """디코딩·증강만의 처리량(이미지/초): 캐시 없음/있음, 작업자 0~2개."""
    from course_utils.data import ImageListDataset
    from course_utils.transforms import ImageTransform

    torch.set_num_threads(threads)
    items = _items(root)
    lines = [f"{'데이터 파이프라인':<22}{'작업자':>6}{'이미지/초':>12}", "-" * 40]
    for cache in (None, int(size * 256 / 224)):
        ds = ImageListDataset(items, ImageTransform(size, MEAN, STD), phase="train", cache=cache)
        if cache:
            for i in range(len(ds)):  # 캐시는 한 번 채워 두고 잽니다 (두 번째 에포크부터의 상황)
                ds[i]
        for workers in (0, 1, 2):
            loader = DataLoader(ds, batch_size=32, num_workers=workers)
            start = time.perf_counter()
            n = sum(len(batch[1]) for batch in loader)
            name = "디코딩 캐시" if cache else "매번 JPEG 디코딩"
            lines.append(f"{name:<22}{workers:>6}{n / (time.perf_counter() - start):>12.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    result = measure(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(result) + os.linesep)
