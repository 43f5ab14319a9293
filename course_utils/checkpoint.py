"""체크포인트: 원자적 저장과 안전한 읽기, 난수 상태, 이어서 학습하기 전의 점검.

- 저장은 같은 폴더의 임시 파일(권한 0600)에 쓰고 디스크에 내린 뒤 os.replace로 바꿔치기합니다. 저장 중에 멈춰도
  이전 체크포인트는 온전하고, 강제 종료로 남은 임시 파일은 다음 저장 때 지웁니다.
- 읽기는 weights_only=True(텐서와 기본 자료형만)로 해서 파일 안의 코드가 실행되지 않습니다.
- 학습을 시작할 때의 옵티마이저·스케줄러 설정과 데이터(훈련·검증 세트의 장수와 파일 목록)를 함께 저장해 두었다가,
  이어서 학습할 때 클래스나 데이터가 바뀌었으면 멈추고, 값(학습률 등)이 바뀌었으면 체크포인트의 값이 쓰인다고 알려 줍니다.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "rng_state", "set_rng_state", "check_writable", "save_checkpoint", "load_checkpoint", "training_settings",
    "data_fingerprint", "incompatibility", "overridden_settings",
]

_SETTING_NAMES = {"lr": "학습률", "weight_decay": "가중치 감쇠", "momentum": "모멘텀"}


# ---------------------------------------------------------------- 난수 상태
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


# ---------------------------------------------------------------- 파일
def _stale_temp(path: Path, name: str) -> bool:
    """save_checkpoint가 만든 임시 파일 이름인지 (mkstemp: 고정된 앞뒤 사이에 [a-z0-9_] 8글자)."""
    return re.fullmatch(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp", name) is not None


def _remove_stale_temps(path: Path) -> None:
    """강제 종료로 남은 이 체크포인트의 임시 파일만 지웁니다 (다른 파일은 건드리지 않습니다)."""
    for old in path.parent.iterdir():
        if _stale_temp(path, old.name) and old.is_file():
            old.unlink(missing_ok=True)


def check_writable(folder: str | Path) -> None:
    """폴더를 만들고 임시 파일을 하나 써 봅니다. 쓸 수 없으면 학습 전에 한국어로 멈춥니다."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-check.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OSError(
            f"체크포인트 폴더 {folder}에 쓸 수 없어 학습을 시작하지 않습니다 ({err.strerror or err}). "
            "쓸 수 있는 폴더를 checkpoint_path로 주거나, 폴더 권한과 남은 디스크 공간을 확인하거나, "
            "checkpoint_path=None으로 체크포인트 없이 학습하세요.") from err


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """임시 파일(권한 0600)에 쓰고 디스크에 내린 뒤 os.replace로 바꿔치기합니다."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 권한 0600
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OSError(f"체크포인트를 {path}에 저장하지 못했습니다 ({err.strerror or err}). 이전 체크포인트는 "
                          "그대로입니다. 남은 디스크 공간과 폴더 권한을 확인하세요.") from err
        raise
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """체크포인트를 CPU로 읽습니다 (weights_only=True: 텐서와 기본 자료형만 허용)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise RuntimeError(f"체크포인트 {path}를 읽을 수 없습니다 ({err}). 파일을 지우고 처음부터 학습하세요.") from err


# ---------------------------------------------------------------- 이어서 학습하기 전의 점검
def _plain(value: Any) -> Any:
    """설정 값을 저장·비교할 수 있는 기본 자료형으로 (텐서 학습률은 float로, 함수 같은 것은 None)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    return value if isinstance(value, (bool, int, float, str, type(None))) else None


def training_settings(optimizer: torch.optim.Optimizer, scheduler: Any = None) -> dict[str, Any]:
    """옵티마이저·스케줄러의 클래스와 설정 값 (학습을 시작할 때 떠 두어 체크포인트에 함께 저장합니다)."""
    groups = [{k: _plain(v) for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    sched = {} if scheduler is None else {k: _plain(v) for k, v in scheduler.state_dict().items()
                                           if not k.startswith("_") and k not in ("last_epoch", "base_lrs")}
    return {"optimizer_class": type(optimizer).__name__,
            "scheduler_class": type(scheduler).__name__ if scheduler is not None else "없음",
            "groups": groups, "scheduler": sched}


def _paths(dataset: Any) -> list[str] | None:
    """데이터셋(또는 그 Subset)의 파일 경로 목록. 경로를 모르는 데이터셋이면 None."""
    if hasattr(dataset, "paths"):
        return [str(p) for p in dataset.paths]
    inner = getattr(dataset, "dataset", None)
    base = None if inner is None else _paths(inner)
    return None if base is None else [base[i] for i in getattr(dataset, "indices", [])]


def data_fingerprint(*loaders: Any) -> list[dict[str, Any]]:
    """로더마다 {'size': 장수, 'files': 파일 목록의 해시}: 다른 사진으로 만든 체크포인트에 이어 붙이지 않게 합니다.

    파일은 '부모 폴더/파일 이름'으로 비교하므로 폴더를 통째로 옮겨도 같은 데이터입니다. 경로가 없는 데이터셋은 장수만.
    """
    prints = []
    for loader in loaders:
        dataset = getattr(loader, "dataset", None)
        try:
            size = len(dataset)
        except TypeError:
            size = None
        paths = None if dataset is None else _paths(dataset)
        names = None if paths is None else sorted(f"{Path(p).parent.name}/{Path(p).name}" for p in paths)
        files = None if names is None else hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
        prints.append({"size": size, "files": files})
    return prints


def _describe_data(prints: list[dict[str, Any]]) -> str:
    return ", ".join(f"{name} {p['size']}장" for name, p in zip(("훈련", "검증"), prints))


def incompatibility(then: dict[str, Any], now: dict[str, Any], stored_model: dict[str, torch.Tensor],
                    model: nn.Module) -> str | None:
    """저장된 학습을 지금 모델·옵티마이저·스케줄러로 이어 갈 수 없는 이유 (이어 갈 수 있으면 None)."""
    stored = {k: tuple(v.shape) for k, v in stored_model.items()}
    current = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if stored != current:
        diff = sorted(set(stored.items()) ^ set(current.items()))[:3]
        return f"모델 구조가 다릅니다 (이름이나 모양이 다른 가중치: {diff})"
    for key, what in (("optimizer_class", "옵티마이저"), ("scheduler_class", "스케줄러")):
        if then[key] != now[key]:
            return f"{what}가 다릅니다: 체크포인트는 {then[key]}, 지금은 {now[key]}"
    if len(then["groups"]) != len(now["groups"]):
        return f"옵티마이저의 파라미터 그룹 수가 다릅니다: 체크포인트 {len(then['groups'])}개, 지금 {len(now['groups'])}개"
    if then.get("data") is not None and now.get("data") is not None and then["data"] != now["data"]:
        same_size = [p["size"] for p in then["data"]] == [p["size"] for p in now["data"]]
        return (f"학습 데이터가 다릅니다: 체크포인트는 {_describe_data(then['data'])}, 지금은 {_describe_data(now['data'])}"
                + (" (장수는 같지만 다른 사진)" if same_size else ""))
    return None


def overridden_settings(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """체크포인트에 저장된 값이 지금 준 값을 대신하는 설정마다 한국어 한 줄."""
    many = len(now["groups"]) > 1
    pairs = [(f"그룹 {i} " if many else "", t, n) for i, (t, n) in enumerate(zip(then["groups"], now["groups"]))]
    pairs.append(("스케줄러 ", then["scheduler"], now["scheduler"]))
    return [f"  {prefix}{_SETTING_NAMES.get(key, key)}: 지금 준 {n.get(key)!r} 대신 체크포인트의 {t.get(key)!r}"
            for prefix, t, n in pairs for key in sorted(set(t) | set(n)) if t.get(key) != n.get(key)]
