"""학습 루프: 한 에폭 학습, 평가, 전체 학습(fit), 예측(predict).

모든 의존성(모델, 데이터로더, 손실 함수, 옵티마이저, 장치)은 인자로 받습니다. 노트북 전역 변수는 쓰지 않습니다.
fit은 에폭마다 기록(history: 리스트의 사전)을 쌓고, 검증 정확도가 가장 좋았던 가중치를 깊은 복사로
보관했다가 끝에 되돌려 놓습니다. checkpoint_path를 주면 에폭마다 체크포인트를 원자적으로 저장하고,
다시 부르면 중단된 곳부터 이어서 학습합니다 (중단 없이 돌린 것과 같은 가중치, 같은 기록).

모델 출력은 로짓 텐서 (N, C) 또는 (N, C, H, W)입니다. torchvision 분할 모델처럼 {'out': ...} 사전을
돌려주면 'out'을, 보조 출력이 붙은 튜플이면 첫 원소를 로짓으로 씁니다.
분할(로짓 (N, C, H, W), 정답 (N, H, W))의 정확도는 정답이 255(무시)인 픽셀을 뺀 픽셀 정확도입니다.
"""
from __future__ import annotations

import copy
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.metrics import count_correct, topk_correct

IGNORE_INDEX = 255
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


# ---------------------------------------------------------------- 작은 도우미들
def resolve_amp(amp: str | bool | None, device: torch.device) -> tuple[torch.dtype | None, Any]:
    """혼합 정밀도 설정 -> (autocast dtype, GradScaler). CUDA에서만 켜고, 그 밖의 장치에서는 (None, None).

    amp: 'auto'(bf16을 지원하면 bf16, 아니면 fp16) | 'bf16' | 'fp16' | False/None(끔).
    fp16일 때만 기울기 언더플로를 막는 GradScaler를 씁니다 (bf16은 지수 범위가 fp32와 같아 필요 없습니다).
    """
    device = torch.device(device)
    if not amp or device.type != "cuda":
        return None, None
    if amp == "auto":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if amp not in ("bf16", "fp16"):
        raise ValueError(f"amp={amp!r}는 알 수 없는 값입니다. 'auto', 'bf16', 'fp16', False 중 하나를 쓰세요.")
    if amp == "bf16":
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")


def resolve_channels_last(channels_last: str | bool, device: torch.device) -> bool:
    """channels_last 메모리 배치 사용 여부. 'auto'면 CUDA에서만 켭니다."""
    if channels_last == "auto":
        return torch.device(device).type == "cuda"
    return bool(channels_last)


def _logits(outputs: Any) -> torch.Tensor:
    """모델 출력에서 로짓 텐서를 꺼냅니다 (사전이면 'out', 튜플이면 첫 원소)."""
    if isinstance(outputs, Mapping):
        return outputs["out"]
    if isinstance(outputs, (tuple, list)):
        return outputs[0]
    return outputs


def _to_device(images: torch.Tensor, targets: torch.Tensor, device: torch.device,
               channels_last: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """배치를 장치로 옮깁니다. pin_memory된 배치라면 non_blocking으로 복사가 계산과 겹칩니다."""
    images = images.to(device, non_blocking=True)
    if channels_last and images.ndim == 4:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, targets.to(device, non_blocking=True)


def _check_finite(loss: torch.Tensor, epoch: int, step: int) -> float:
    """손실을 float로 돌려주고, NaN이나 무한대면 한국어 설명과 함께 학습을 멈춥니다."""
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(
            f"에폭 {epoch + 1}의 {step + 1}번째 배치에서 손실이 {value}가 되어 학습을 멈춥니다. "
            "학습률을 낮추거나, 입력 정규화와 레이블 범위(0 ~ 클래스 수-1)를 확인하세요.")
    return value


def _autocast(device: torch.device, amp_dtype: torch.dtype | None):
    """amp_dtype이 있을 때만 켜지는 autocast 문맥."""
    return torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None)


def _ignore_for(logits: torch.Tensor) -> int | None:
    """분할 로짓 (N, C, H, W)이면 255를 무시하고, 분류 로짓이면 아무것도 무시하지 않습니다."""
    return IGNORE_INDEX if logits.ndim > 2 else None


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """첫 파라미터 그룹의 학습률."""
    return float(optimizer.param_groups[0]["lr"])


# ---------------------------------------------------------------- 한 에폭
def train_one_epoch(model: nn.Module, loader: Iterable, loss_fn: Callable, optimizer: torch.optim.Optimizer,
                    device: torch.device, *, scaler: Any = None, amp_dtype: torch.dtype | None = None,
                    channels_last: bool = False, scheduler: Any = None, epoch: int = 0,
                    progress: bool = True) -> dict[str, float]:
    """한 에폭 학습하고 {'loss', 'acc'}를 돌려줍니다. scheduler를 주면 배치마다 step합니다(OneCycleLR 등)."""
    device = torch.device(device)
    model.train()
    loss_sum, correct, seen, counted = 0.0, 0, 0, 0
    bar = tqdm(loader, desc=f"에폭 {epoch + 1} 학습", leave=False, disable=None if progress else True)
    for step, (images, targets) in enumerate(bar):
        images, targets = _to_device(images, targets, device, channels_last)
        with _autocast(device, amp_dtype):
            logits = _logits(model(images))
            loss = loss_fn(logits, targets)
        value = _check_finite(loss, epoch, step)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:  # fp16: 손실을 키워 역전파한 뒤 되돌려 갱신
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = images.shape[0]
        loss_sum += value * n
        seen += n
        c, t = count_correct(logits.detach(), targets, _ignore_for(logits))
        correct, counted = correct + c, counted + t
        bar.set_postfix(loss=f"{value:.4f}")
    return {"loss": loss_sum / max(seen, 1), "acc": correct / counted if counted else float("nan")}


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, loss_fn: Callable, device: torch.device, *,
             amp_dtype: torch.dtype | None = None, topk: Sequence[int] | None = None,
             channels_last: bool = False, progress: bool = True) -> dict[str, float]:
    """기울기 없이 평가해 {'loss', 'acc'}(topk를 주면 'top1', 'top5' 같은 키도)를 돌려줍니다."""
    device = torch.device(device)
    model.eval()
    ks = tuple(topk or ())
    loss_sum, correct, seen, counted = 0.0, 0, 0, 0
    hits = [0] * len(ks)
    for images, targets in tqdm(loader, desc="평가", leave=False, disable=None if progress else True):
        images, targets = _to_device(images, targets, device, channels_last)
        with _autocast(device, amp_dtype):
            logits = _logits(model(images))
            loss = loss_fn(logits, targets)
        n = images.shape[0]
        loss_sum += loss.item() * n
        seen += n
        c, t = count_correct(logits, targets, _ignore_for(logits))
        correct, counted = correct + c, counted + t
        if ks:
            hits = [h + k for h, k in zip(hits, topk_correct(logits.float(), targets, ks))]
    result = {"loss": loss_sum / max(seen, 1), "acc": correct / counted if counted else float("nan")}
    result.update({f"top{k}": h / max(seen, 1) for k, h in zip(ks, hits)})
    return result


# ---------------------------------------------------------------- 체크포인트
def _loader_generators(loader: Any) -> list[torch.Generator]:
    """데이터로더가 섞기에 쓰는 난수 생성기들 (DataLoader.generator, sampler.generator)."""
    found = [getattr(loader, "generator", None), getattr(getattr(loader, "sampler", None), "generator", None)]
    unique: list[torch.Generator] = []
    for g in found:
        if isinstance(g, torch.Generator) and all(g is not u for u in unique):
            unique.append(g)
    return unique


def rng_state(loader: Any = None) -> dict[str, Any]:
    """random, NumPy, torch(CPU, CUDA), 데이터로더 생성기의 난수 상태 (weights_only로 불러올 수 있는 형태)."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "loader": [g.get_state() for g in _loader_generators(loader)],
    }


def set_rng_state(state: dict[str, Any], loader: Any = None) -> None:
    """rng_state()로 저장한 난수 상태를 되돌립니다."""
    random.setstate(state["python"])
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for g, s in zip(_loader_generators(loader), state["loader"]):
        g.set_state(s)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """임시 파일에 쓴 뒤 os.replace로 바꿔치기합니다: 저장 중에 멈춰도 이전 체크포인트는 온전합니다."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """체크포인트를 CPU로 읽습니다 (weights_only=True: 텐서와 기본 자료형만 허용)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise RuntimeError(f"체크포인트 {path}를 읽을 수 없습니다 ({err}). 파일을 지우고 처음부터 학습하세요.") from err


# ---------------------------------------------------------------- 전체 학습
def _new_state() -> dict[str, Any]:
    """fit이 에폭 사이에 들고 다니는 상태의 초깃값."""
    return {"epoch": 0, "history": {k: [] for k in HISTORY_KEYS}, "best_state": None,
            "best_acc": -math.inf, "best_epoch": 0}


def _restore(ckpt: dict[str, Any], model, optimizer, scheduler, scaler, loader) -> dict[str, Any]:
    """체크포인트의 모델·옵티마이저·스케줄러·스케일러·난수 상태를 되살리고 fit 상태를 돌려줍니다."""
    try:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
    except (RuntimeError, ValueError, KeyError) as err:
        raise RuntimeError(
            f"체크포인트가 지금 모델이나 옵티마이저와 맞지 않습니다 ({err}). "
            "모델을 바꿨다면 체크포인트 파일을 지우거나 fit(..., resume=False)로 처음부터 학습하세요.") from err
    if scheduler is not None and ckpt.get("scheduler") is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    if scaler is not None and ckpt.get("scaler") is not None:
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"], loader)
    return {k: ckpt[k] for k in ("epoch", "history", "best_state", "best_acc", "best_epoch")}


def _checkpoint(state, model, optimizer, scheduler, scaler, loader) -> dict[str, Any]:
    """한 에폭이 끝난 시점의 모든 것을 담은 체크포인트 사전."""
    return {**state, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None, "rng": rng_state(loader)}


def _step_scheduler(scheduler: Any, val_loss: float) -> None:
    """에폭 단위 스케줄러를 한 걸음. ReduceLROnPlateau는 검증 손실을 받습니다."""
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(val_loss)
    else:
        scheduler.step()


def _log_line(h: dict[str, list], epochs: int, best: bool) -> str:
    """기록의 마지막 에폭을 한 줄로 씁니다."""
    return (f"에폭 {h['epoch'][-1]}/{epochs} | 훈련 손실 {h['train_loss'][-1]:.4f} 정확도 {h['train_acc'][-1]:.3f}"
            f" | 검증 손실 {h['val_loss'][-1]:.4f} 정확도 {h['val_acc'][-1]:.3f} | 학습률 {h['lr'][-1]:.2e}"
            f" | {h['seconds'][-1]:.1f}초" + (" *" if best else ""))


def fit(model: nn.Module, train_loader: Iterable, val_loader: Iterable, loss_fn: Callable,
        optimizer: torch.optim.Optimizer, device: torch.device, epochs: int, *, scheduler: Any = None,
        checkpoint_path: str | Path | None = None, resume: bool = True, amp: str | bool | None = "auto",
        channels_last: str | bool = "auto", log: Callable[[str], Any] | None = print,
        topk: Sequence[int] | None = None, progress: bool = True) -> dict[str, list]:
    """epochs 에폭까지 학습하고 기록(history)을 돌려줍니다. 끝나면 검증 정확도가 가장 좋던 가중치로 되돌립니다.

    scheduler는 에폭마다 한 번 step합니다. checkpoint_path가 있으면 에폭마다 저장하고, resume이면 그 파일에서
    이어서 학습합니다. amp/channels_last는 'auto'일 때 CUDA에서만 켭니다. topk=(1, 5)면 기록에 val_top5 등이 붙습니다.
    """
    device, log = torch.device(device), log or (lambda _: None)
    amp_dtype, scaler = resolve_amp(amp, device)
    cl = resolve_channels_last(channels_last, device)
    model.to(device, memory_format=torch.channels_last if cl else torch.preserve_format)
    state = _new_state()
    if checkpoint_path is not None and resume and Path(checkpoint_path).exists():
        state = _restore(load_checkpoint(checkpoint_path), model, optimizer, scheduler, scaler, train_loader)
        log(f"체크포인트 {checkpoint_path}에서 이어서 학습합니다: {state['epoch']}/{epochs} 에폭 완료")
    hist = state["history"]
    for epoch in range(state["epoch"], epochs):
        start, lr = time.perf_counter(), current_lr(optimizer)
        tr = train_one_epoch(model, train_loader, loss_fn, optimizer, device, scaler=scaler, amp_dtype=amp_dtype,
                             channels_last=cl, epoch=epoch, progress=progress)
        va = evaluate(model, val_loader, loss_fn, device, amp_dtype=amp_dtype, topk=topk,
                      channels_last=cl, progress=progress)
        if scheduler is not None:
            _step_scheduler(scheduler, va["loss"])
        row = {"epoch": epoch + 1, "train_loss": tr["loss"], "train_acc": tr["acc"], "val_loss": va["loss"],
               "val_acc": va["acc"], "lr": lr, "seconds": time.perf_counter() - start}
        row.update({f"val_{k}": v for k, v in va.items() if k.startswith("top")})
        for key, value in row.items():
            hist.setdefault(key, []).append(value)
        improved = va["acc"] > state["best_acc"]
        if improved:  # state_dict()는 모델 텐서를 가리키는 참조이므로 깊은 복사로 그 순간을 떠 둡니다
            state.update(best_state=copy.deepcopy(model.state_dict()), best_acc=va["acc"], best_epoch=epoch + 1)
        state["epoch"] = epoch + 1
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, _checkpoint(state, model, optimizer, scheduler, scaler, train_loader))
        log(_log_line(hist, epochs, improved))
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
        log(f"검증 정확도가 가장 좋았던 에폭 {state['best_epoch']}(정확도 {state['best_acc']:.3f})의 가중치로 되돌렸습니다.")
    return hist


# ---------------------------------------------------------------- 예측
def _item_ids(loader: Any, n: int) -> tuple[list[str], list[str]]:
    """데이터셋에 .paths가 있으면 '부모폴더/파일이름' id와 경로를, 없으면 순번을 돌려줍니다."""
    paths = getattr(getattr(loader, "dataset", None), "paths", None)
    if paths is not None and len(paths) == n:
        paths = [Path(p) for p in paths]
        return [f"{p.parent.name}/{p.name}" for p in paths], [str(p) for p in paths]
    return [str(i) for i in range(n)], [""] * n


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: torch.device, *, class_names: Sequence[str] | None = None,
            csv_path: str | Path | None = None, amp_dtype: torch.dtype | None = None,
            progress: bool = True) -> pd.DataFrame:
    """분류 예측표: id, path, true(정답), label(예측 번호), pred_name, prob_<클래스>, correct.

    로더는 섞지 않아야(shuffle=False) 행이 데이터셋 순서(.paths)와 맞습니다. csv_path를 주면 CSV로도 저장합니다.
    """
    device = torch.device(device)
    model.eval()
    probs, trues = [], []
    for images, targets in tqdm(loader, desc="예측", leave=False, disable=None if progress else True):
        with _autocast(device, amp_dtype):
            logits = _logits(model(images.to(device, non_blocking=True)))  # (N, C)
        probs.append(torch.softmax(logits.float(), dim=1).cpu())
        trues.append(torch.as_tensor(targets).cpu())
    prob, true = torch.cat(probs), torch.cat(trues)  # (N, C), (N,)
    names = list(class_names) if class_names is not None else [str(i) for i in range(prob.shape[1])]
    ids, paths = _item_ids(loader, len(true))
    pred = prob.argmax(dim=1)
    df = pd.DataFrame({"id": ids, "path": paths, "true": true.tolist(), "label": pred.tolist(),
                       "pred_name": [names[i] for i in pred.tolist()]})
    for i, name in enumerate(names):
        df[f"prob_{name}"] = prob[:, i].tolist()
    df["correct"] = df["true"] == df["label"]
    if csv_path is not None:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(csv_path, index=False)
    return df
