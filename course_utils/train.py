"""학습 루프: 한 에폭 학습, 평가, 전체 학습(fit), 예측(predict).

torchvision `references/`처럼 모든 의존성을 인자로 받고, 인자 순서는 검출 루프(course_utils.detection)와 같습니다:
`train_one_epoch(model, optimizer, loader, device, loss_fn)`, `evaluate(model, loader, device, loss_fn)`,
`fit(model, optimizer, train_loader, val_loader, device, loss_fn, epochs)`.
fit은 에폭마다 기록(History: 리스트의 사전)을 쌓고, 고르는 지표(best_by: 분류는 검증 정확도, 분할은 검증 mIoU)가
가장 좋았던 가중치를 깊은 복사로 보관했다가 끝에 되돌려 놓습니다. checkpoint_path를 주면 에폭마다 체크포인트를
원자적으로 저장하고, 다시 부르면 중단된 곳부터 이어서 학습합니다 (중단 없이 돌린 것과 같은 가중치, 같은 기록).

모델 출력은 로짓 텐서 (N, C) 또는 (N, C, H, W)입니다 (사전·튜플 출력은 metrics.model_logits의 규칙으로 꺼냅니다).
분할(로짓 (N, C, H, W), 정답 (N, H, W))의 정확도는 정답이 255(무시)인 픽셀을 뺀 픽셀 정확도이고, mIoU도 함께 잽니다.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.optim import lr_scheduler

from course_utils.checkpoint import (
    check_writable,
    data_fingerprint,
    incompatibility,
    load_checkpoint,
    overridden_settings,
    rng_state,
    save_checkpoint,
    set_rng_state,
    training_settings,
)
from course_utils.constants import IGNORE_INDEX
from course_utils.metrics import count_correct, model_logits, topk_correct
from course_utils.progress import progress as progress_bar
from course_utils.segmentation import confusion_matrix, mean_iou

__all__ = [
    "HISTORY_KEYS", "CHECKPOINT_FORMAT", "LoopOptions", "History", "resolve_amp", "resolve_channels_last",
    "current_lr", "check_finite", "optimizer_step", "train_mode", "empty_loader_error", "check_not_empty",
    "train_one_epoch", "evaluate", "fit", "predict",
]

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
CHECKPOINT_FORMAT = 2
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)
_METRIC_NAMES = {"val_acc": "검증 정확도", "val_miou": "검증 mIoU", "val_loss": "검증 손실"}


@dataclass(frozen=True)
class LoopOptions:
    """결과가 아니라 속도와 표시만 바꾸는 선택지.

    amp: 혼합 정밀도 'auto'(CUDA에서 bf16, 안 되면 fp16) | 'bf16' | 'fp16' | False.
    channels_last: 'auto'(CUDA에서만) | True | False. progress: 배치 진행 막대.
    log: 에폭마다 한 줄을 받는 함수 (None이면 조용히).
    """

    amp: str | bool | None = "auto"
    channels_last: str | bool = "auto"
    progress: bool = True
    log: Callable[[str], Any] | None = print


class History(dict):
    """fit의 기록(키마다 에폭별 리스트)과, 가중치를 고른 지표: best_by, best_epoch, best_value.

    last_state: 되돌리기 전 마지막 에폭의 가중치(state_dict 복사본). 되돌리지 않았으면 None.
    """

    best_by: str | None = None
    best_epoch: int = 0
    best_value: float = math.nan
    last_state: dict[str, torch.Tensor] | None = None


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


def _to_device(images: torch.Tensor, targets: torch.Tensor, device: torch.device,
               channels_last: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """배치를 장치로 옮깁니다. pin_memory된 배치라면 non_blocking으로 복사가 계산과 겹칩니다."""
    images = images.to(device, non_blocking=True)
    if channels_last and images.ndim == 4:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, targets.to(device, non_blocking=True)


def _bar(loader: Iterable, desc: str, progress: bool) -> Iterable:
    """배치 진행 막대 (progress=False면 막대 없이 그대로)."""
    return progress_bar(loader, desc=desc, enabled=progress)


def _autocast(device: torch.device, amp_dtype: torch.dtype | None):
    """amp_dtype이 있을 때만 켜지는 autocast 문맥."""
    return torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None)


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    """첫 파라미터 그룹의 학습률."""
    return float(optimizer.param_groups[0]["lr"])


# ---------------------------------------------------------------- 두 루프(분류·검출)가 함께 쓰는 규칙
def check_finite(loss: torch.Tensor, epoch: int, step: int, parts: Mapping[str, torch.Tensor] | None = None) -> float:
    """손실을 float로 돌려주고, NaN이나 무한대면 갱신하기 전에 한국어 설명과 함께 학습을 멈춥니다."""
    value = loss.item()
    if not math.isfinite(value):
        detail = f" (항목별: { {k: round(v.item(), 4) for k, v in parts.items()} })" if parts else ""
        what = "박스 좌표(x1 < x2, y1 < y2)" if parts else "입력 정규화와 레이블 범위(0 ~ 클래스 수-1)"
        raise FloatingPointError(
            f"에폭 {epoch + 1}의 {step + 1}번째 배치에서 손실이 {value}가 되어 학습을 멈춥니다{detail}. "
            f"학습률을 낮추거나 {what}를 확인하세요.")
    return value


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, *, scaler: Any = None,
                   max_norm: float | None = None, scheduler: Any = None) -> None:
    """기울기 초기화 -> 역전파 -> (기울기 자르기) -> 갱신 -> (배치 단위 스케줄러) 한 걸음."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:  # fp16: 손실을 키워 역전파한 뒤 되돌려 갱신
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
    else:
        loss.backward()
    if max_norm is not None:
        nn.utils.clip_grad_norm_(
            [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None], max_norm)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    if scheduler is not None:
        scheduler.step()


def train_mode(model: nn.Module) -> nn.Module:
    """model.train()과 같되, 파라미터(γ, β)를 모두 얼린 배치 정규화 층은 평가 모드로 둡니다.

    학습 모드의 배치 정규화는 파라미터를 얼려도 배치 통계로 정규화하고 running_mean/var를 새 데이터 쪽으로
    옮깁니다. 얼린 백본은 사전 학습 때의 통계를 그대로 써야 하므로 평가 모드로 남깁니다.
    """
    model.train()
    for m in model.modules():
        params = list(m.parameters(recurse=False)) if isinstance(m, _BATCH_NORMS) else []
        if params and not any(p.requires_grad for p in params):
            m.eval()
    return model


def empty_loader_error(loader: Any, name: str) -> ValueError:
    """배치를 하나도 내주지 않는 로더에 대한 한국어 오류: 어느 로더인지, 왜 비었는지."""
    dataset = getattr(loader, "dataset", None)
    n = len(dataset) if hasattr(dataset, "__len__") else None
    size, drop_last = getattr(loader, "batch_size", None), getattr(loader, "drop_last", False)
    if n == 0:
        why = "데이터셋이 비어 있습니다(0장). 데이터 폴더 경로와 나누기 비율(n_train, n_val)을 확인하세요."
    elif n is not None and drop_last and size and n < size:
        why = (f"데이터 {n}장이 batch_size {size}보다 적은데 drop_last=True라서 배치가 하나도 나오지 않습니다. "
               f"batch_size를 {n} 이하로 줄이거나 drop_last=False로 두세요.")
    else:
        why = "배치를 하나도 내주지 않았습니다. 데이터 수와 batch_size를 확인하세요."
    return ValueError(f"{name}: {why}")


def check_not_empty(loader: Any, name: str) -> None:
    """len()을 아는 로더가 배치 0개면 학습을 시작하기 전에 멈춥니다 (모르면 돌면서 확인합니다)."""
    try:
        n_batches = len(loader)
    except TypeError:
        return
    if n_batches == 0:
        raise empty_loader_error(loader, name)


# ---------------------------------------------------------------- 한 에폭
class _Tally:
    """배치마다 손실 합, 맞힌 수, top-k, (분할이면) 혼동 행렬을 모아 에폭 평균을 냅니다."""

    def __init__(self, topk: Sequence[int] = ()):
        self.ks, self.hits = tuple(topk), [0] * len(topk)
        self.loss_sum, self.correct, self.seen, self.counted, self.cm = 0.0, 0, 0, 0, None

    def add(self, value: float, logits: torch.Tensor, targets: torch.Tensor, miou: bool = False) -> None:
        n = logits.shape[0]
        self.loss_sum, self.seen = self.loss_sum + value * n, self.seen + n
        ignore = IGNORE_INDEX if logits.ndim > 2 else None  # 분할 로짓 (N, C, H, W)이면 255를 무시
        c, t = count_correct(logits, targets, ignore)
        self.correct, self.counted = self.correct + c, self.counted + t
        if self.ks:
            self.hits = [h + k for h, k in zip(self.hits, topk_correct(logits.float(), targets, self.ks))]
        if miou and logits.ndim > 2:
            cm = confusion_matrix(logits.argmax(dim=1), targets, logits.shape[1], IGNORE_INDEX)
            self.cm = cm if self.cm is None else self.cm + cm

    def result(self, loader: Any, name: str) -> dict[str, float]:
        if self.seen == 0:
            raise empty_loader_error(loader, name)
        out = {"loss": self.loss_sum / self.seen, "acc": self.correct / self.counted if self.counted else math.nan}
        out.update({f"top{k}": h / self.seen for k, h in zip(self.ks, self.hits)})
        if self.cm is not None:
            out["miou"] = mean_iou(self.cm.cpu())
        return out


def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, loader: Iterable, device: torch.device,
                    loss_fn: Callable, *, epoch: int = 0, scheduler: Any = None, scaler: Any = None,
                    amp_dtype: torch.dtype | None = None, channels_last: bool = False,
                    max_norm: float | None = None, progress: bool = True) -> dict[str, float]:
    """한 에폭 학습하고 {'loss', 'acc'}를 돌려줍니다. scheduler를 주면 배치마다 step합니다(OneCycleLR 등)."""
    device = torch.device(device)
    train_mode(model)
    tally = _Tally()
    bar = _bar(loader, f"에폭 {epoch + 1} 학습", progress)
    for step, (images, targets) in enumerate(bar):
        images, targets = _to_device(images, targets, device, channels_last)
        with _autocast(device, amp_dtype):
            logits = model_logits(model(images))
            loss = loss_fn(logits, targets)
        value = check_finite(loss, epoch, step)
        optimizer_step(loss, optimizer, scaler=scaler, max_norm=max_norm, scheduler=scheduler)
        tally.add(value, logits.detach(), targets)
        bar.set_postfix(loss=f"{value:.4f}")
    return tally.result(loader, "학습 데이터로더")


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, device: torch.device, loss_fn: Callable, *,
             amp_dtype: torch.dtype | None = None, topk: Sequence[int] | None = None,
             channels_last: bool = False, progress: bool = True) -> dict[str, float]:
    """기울기 없이 평가해 {'loss', 'acc'}를 돌려줍니다. topk를 주면 'top1', 'top5' 같은 키가, 분할이면 'miou'가 붙습니다."""
    device = torch.device(device)
    model.eval()
    tally = _Tally(topk or ())
    for images, targets in _bar(loader, "평가", progress):
        images, targets = _to_device(images, targets, device, channels_last)
        with _autocast(device, amp_dtype):
            logits = model_logits(model(images))
            loss = loss_fn(logits, targets)
        tally.add(loss.item(), logits, targets, miou=True)
    return tally.result(loader, "평가 데이터로더")


# ---------------------------------------------------------------- 전체 학습
def _new_state(settings: dict[str, Any], best_by: str | None) -> dict[str, Any]:
    """fit이 에폭 사이에 들고 다니는(그리고 체크포인트에 저장하는) 상태의 초깃값."""
    return {"epoch": 0, "history": {k: [] for k in HISTORY_KEYS}, "best_state": None, "best_by": best_by,
            "best_value": None, "best_epoch": 0, "settings": settings}


def _why_not_resume(ckpt: dict[str, Any], model: nn.Module, state: dict[str, Any]) -> str | None:
    """체크포인트를 이 fit에 이어 붙일 수 없는 이유 (이어 붙일 수 있으면 None)."""
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        return "예전 형식의 체크포인트입니다"
    if state["best_by"] is not None and ckpt["best_by"] != state["best_by"]:
        return f"가중치를 고르는 지표가 다릅니다: 체크포인트는 {ckpt['best_by']}, 지금은 {state['best_by']}"
    return incompatibility(ckpt["settings"], state["settings"], ckpt["model"], model)


def _resume(path: Path, model, optimizer, scheduler, scaler, loader, state: dict[str, Any],
            log: Callable[[str], Any]) -> dict[str, Any]:
    """체크포인트를 점검하고(맞지 않으면 아무것도 바꾸기 전에 멈춤) 모든 상태를 되살려 fit 상태를 돌려줍니다."""
    ckpt = load_checkpoint(path)
    why = _why_not_resume(ckpt, model, state)
    if why is not None:
        raise RuntimeError(
            f"체크포인트 {path}에서 이어서 학습할 수 없습니다: {why}. 처음부터 학습하려면 fit(..., resume=False)로 "
            "부르거나(노트북에서는 설정 셀의 resume을 False로) 체크포인트 파일을 지우거나 이름을 바꾸세요. "
            "저장된 학습을 이어 가려면 그때와 같은 모델·옵티마이저·스케줄러로 부르세요.")
    lines = overridden_settings(ckpt["settings"], state["settings"])
    if lines:
        log("이어서 학습하므로 체크포인트에 저장된 설정이 지금 준 설정 대신 쓰입니다 "
            "(바꾼 설정으로 학습하려면 resume=False로 처음부터):\n" + "\n".join(lines))
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    if scaler is not None and ckpt.get("scaler") is not None:
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"], loader)
    return {k: ckpt[k] for k in state}


def _checkpoint(state, model, optimizer, scheduler, scaler, loader) -> dict[str, Any]:
    """한 에폭이 끝난 시점의 모든 것을 담은 체크포인트 사전."""
    return {**state, "format": CHECKPOINT_FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None, "rng": rng_state(loader)}


def _check_schedule(scheduler: Any, interval: str, epochs: int, loader: Any) -> None:
    """스케줄러와 step 간격(에폭/배치)이 맞는지 학습 전에 확인합니다."""
    if interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval={interval!r}: 'epoch'(에폭마다) 또는 'step'(배치마다)을 쓰세요.")
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau) and interval != "epoch":
        raise ValueError("ReduceLROnPlateau는 검증 결과를 보고 에폭마다 step합니다: scheduler_interval='epoch'을 쓰세요.")
    if isinstance(scheduler, lr_scheduler.CyclicLR) and interval != "step":
        raise ValueError("CyclicLR은 배치마다 step하는 스케줄러입니다: scheduler_interval='step'을 쓰세요.")
    if isinstance(scheduler, lr_scheduler.OneCycleLR) and hasattr(loader, "__len__"):
        need = epochs * (len(loader) if interval == "step" else 1)
        if scheduler.total_steps != need:
            raise ValueError(
                f"OneCycleLR의 total_steps={scheduler.total_steps}가 scheduler_interval={interval!r}로 "
                f"{epochs}에폭 동안 부를 step 수 {need}와 다릅니다. 배치마다 바꾸려면 "
                "OneCycleLR(..., total_steps=epochs * len(train_loader))와 scheduler_interval='step'을 쓰세요.")


def _step_epoch_scheduler(scheduler: Any, row: dict[str, float], best_by: str) -> None:
    """에폭 단위 스케줄러를 한 걸음. ReduceLROnPlateau는 mode='min'이면 검증 손실, 'max'면 best_by 지표를 받습니다."""
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        scheduler.step(row["val_loss"] if scheduler.mode == "min" else row[best_by])
    else:
        scheduler.step()


def _pick_best_by(best_by: str | None, row: dict[str, float]) -> str:
    """가중치를 고를 지표: 주어진 것, 없으면 분할은 val_miou, 분류는 val_acc."""
    best_by = best_by or ("val_miou" if "val_miou" in row else "val_acc")
    if best_by not in row:
        raise ValueError(f"best_by={best_by!r}는 기록에 없는 지표입니다. 고를 수 있는 것: "
                         f"{[k for k in row if k.startswith('val_')]}")
    return best_by


def _is_better(value: float, best: float | None, best_by: str) -> bool:
    """손실은 작을수록, 나머지 지표(정확도, mIoU)는 클수록 좋습니다."""
    if best is None:
        return not math.isnan(value)
    return value < best if best_by.endswith("loss") else value > best


def _track_best(state: dict[str, Any], row: dict[str, float], model: nn.Module) -> bool:
    """이번 에폭이 best_by로 가장 좋으면 가중치를 떠 두고 True."""
    state["best_by"] = best_by = _pick_best_by(state["best_by"], row)
    if not _is_better(row[best_by], state["best_value"], best_by):
        return False
    # state_dict()는 모델 텐서를 가리키는 참조이므로 깊은 복사로 그 순간을 떠 둡니다
    state.update(best_state=copy.deepcopy(model.state_dict()), best_value=row[best_by], best_epoch=row["epoch"])
    return True


def _log_line(h: dict[str, list], epochs: int, best: bool) -> str:
    """기록의 마지막 에폭을 한 줄로 씁니다."""
    miou = f" mIoU {h['val_miou'][-1]:.3f}" if "val_miou" in h else ""
    return (f"에폭 {h['epoch'][-1]}/{epochs} | 훈련 손실 {h['train_loss'][-1]:.4f} 정확도 {h['train_acc'][-1]:.3f}"
            f" | 검증 손실 {h['val_loss'][-1]:.4f} 정확도 {h['val_acc'][-1]:.3f}{miou} | 학습률 {h['lr'][-1]:.2e}"
            f" | {h['seconds'][-1]:.1f}초" + (" *" if best else ""))


def _epoch_row(model, optimizer, train_loader, val_loader, device, loss_fn, epoch: int, topk, scheduler,
               interval: str, run: dict[str, Any], opts: LoopOptions) -> dict[str, float]:
    """학습 한 에폭 + 검증 -> 기록 한 줄."""
    start, lr = time.perf_counter(), current_lr(optimizer)
    tr = train_one_epoch(model, optimizer, train_loader, device, loss_fn, epoch=epoch,
                         scheduler=scheduler if interval == "step" else None, progress=opts.progress, **run)
    va = evaluate(model, val_loader, device, loss_fn, amp_dtype=run["amp_dtype"], topk=topk,
                  channels_last=run["channels_last"], progress=opts.progress)
    row = {"epoch": epoch + 1, "train_loss": tr["loss"], "train_acc": tr["acc"], "val_loss": va["loss"],
           "val_acc": va["acc"], "lr": lr}
    row.update({f"val_{k}": v for k, v in va.items() if k not in ("loss", "acc")})
    return {**row, "seconds": time.perf_counter() - start}


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, train_loader: Iterable, val_loader: Iterable,
        device: torch.device, loss_fn: Callable, epochs: int, *, scheduler: Any = None,
        scheduler_interval: str = "epoch", best_by: str | None = None, topk: Sequence[int] | None = None,
        checkpoint_path: str | Path | None = None, resume: bool = True,
        options: LoopOptions = LoopOptions()) -> History:
    """epochs 에폭까지 학습하고 기록(History)을 돌려줍니다. 끝나면 best_by가 가장 좋던 에폭의 가중치로 되돌립니다.

    scheduler_interval: 'epoch'이면 검증 뒤 에폭마다, 'step'이면 배치마다(OneCycleLR) scheduler.step().
    best_by: 'val_acc' | 'val_miou' | 'val_loss' | 'val_top5' ... (None이면 분할은 val_miou, 분류는 val_acc).
    checkpoint_path가 있으면 에폭마다 저장하고, resume이면 그 파일에서 이어서 학습합니다.
    topk=(1, 5)면 기록에 val_top1, val_top5가 붙습니다. options: 혼합 정밀도, channels_last, 진행 막대, 로그.
    """
    device, log = torch.device(device), options.log or (lambda _: None)
    _check_schedule(scheduler, scheduler_interval, epochs, train_loader)
    check_not_empty(train_loader, "학습 데이터로더(train_loader)")
    check_not_empty(val_loader, "검증 데이터로더(val_loader)")
    if checkpoint_path is not None:
        check_writable(Path(checkpoint_path).parent)
    amp_dtype, scaler = resolve_amp(options.amp, device)
    cl = resolve_channels_last(options.channels_last, device)
    model.to(device, memory_format=torch.channels_last if cl else torch.preserve_format)
    run = {"scaler": scaler, "amp_dtype": amp_dtype, "channels_last": cl}
    settings = {**training_settings(optimizer, scheduler), "data": data_fingerprint(train_loader, val_loader)}
    state = _new_state(settings, best_by)
    if checkpoint_path is not None and resume and Path(checkpoint_path).exists():
        state = _resume(Path(checkpoint_path), model, optimizer, scheduler, scaler, train_loader, state,
                        options.log or print)
        log(f"체크포인트 {checkpoint_path}에서 이어서 학습합니다: {state['epoch']}/{epochs} 에폭 완료")
    hist = state["history"]
    for epoch in range(state["epoch"], epochs):
        row = _epoch_row(model, optimizer, train_loader, val_loader, device, loss_fn, epoch, topk, scheduler,
                         scheduler_interval, run, options)
        for key, value in row.items():
            hist.setdefault(key, []).append(value)
        improved = _track_best(state, row, model)
        if scheduler is not None and scheduler_interval == "epoch":
            _step_epoch_scheduler(scheduler, row, state["best_by"])
        state["epoch"] = epoch + 1
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, _checkpoint(state, model, optimizer, scheduler, scaler, train_loader))
        log(_log_line(hist, epochs, improved))
    return _finish(model, state, log)


def _finish(model: nn.Module, state: dict[str, Any], log: Callable[[str], Any]) -> History:
    """가장 좋던 가중치로 되돌리고, 어느 지표로 어느 에폭을 골랐는지와 마지막 에폭의 가중치를 담은 History를 돌려줍니다."""
    hist = History(state["history"])
    if state["best_state"] is not None:
        hist.last_state = copy.deepcopy(model.state_dict())
        model.load_state_dict(state["best_state"])
        hist.best_by, hist.best_epoch, hist.best_value = state["best_by"], state["best_epoch"], state["best_value"]
        name = _METRIC_NAMES.get(hist.best_by, hist.best_by)
        log(f"{name}({hist.best_by})가 가장 좋았던 에폭 {hist.best_epoch}({hist.best_value:.3f})의 가중치로 되돌렸습니다.")
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
    for images, targets in _bar(loader, "예측", progress):
        with _autocast(device, amp_dtype):
            logits = model_logits(model(images.to(device, non_blocking=True)))  # (N, C)
        probs.append(torch.softmax(logits.float(), dim=1).cpu())
        trues.append(torch.as_tensor(targets).cpu())
    if not probs:
        raise empty_loader_error(loader, "예측할 데이터로더")
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
