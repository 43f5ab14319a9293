"""사전 훈련 가중치 불러오기와 전이 학습용 분류기 교체.

torchvision 0.13부터 `pretrained=True` 인자는 폐기 예정(deprecated)이 되었고, 지금은
`weights=` 인자에 가중치 열거형(예: `models.ResNet50_Weights.DEFAULT`)을 넘깁니다.
이 모듈은 그 `weights=` API 위에서 다음 순서로 가중치를 찾습니다.

1. torch hub 캐시(`$TORCH_HOME/hub/checkpoints/<파일 이름>`)에 파일이 있으면 그것을 씁니다.
2. 없으면 내려받습니다. 단, 오프라인 모드(COURSE_OFFLINE=1)나 빠른 모드에서는 내려받지 않습니다.
3. 둘 다 안 되면 한국어 안내를 출력하고 무작위로 초기화한 같은 구조의 모델을 돌려줍니다.
   수업은 계속 진행되지만, 그 결과는 전이 학습의 효과를 보여 주지 않는다는 점에 주의하세요.
"""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_weight

__all__ = [
    "weights_cache_path",
    "load_torchvision_model",
    "find_classifier",
    "replace_classifier",
    "freeze_backbone",
]

# 가중치를 쓸 때 torchvision이 모델 인자를 고정하는 빌더(인셉션 계열): 무작위 초기화로
# 대신할 때도 같은 구조가 되도록 같은 값을 넣어 줍니다.
_FIXED_WHEN_PRETRAINED = {
    "googlenet": {"aux_logits": False, "transform_input": True, "init_weights": True},
    "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": True},
}


def _resolve_weights(weights: WeightsEnum | str | None) -> WeightsEnum | None:
    """문자열('ResNet50_Weights.DEFAULT')도 가중치 열거형으로 바꿉니다."""
    if weights is None or isinstance(weights, WeightsEnum):
        return weights
    if isinstance(weights, str):
        return get_weight(weights)
    raise TypeError(
        f"weights에는 torchvision 가중치 열거형(예: models.ResNet50_Weights.DEFAULT)이나 "
        f"그 이름 문자열을 넘기세요. 받은 값: {weights!r}"
    )


def weights_cache_path(weights: WeightsEnum | str) -> Path:
    """torchvision이 이 가중치를 찾는 캐시 파일 경로(hub/checkpoints/<URL의 파일 이름>)."""
    weights = _resolve_weights(weights)
    file_name = os.path.basename(urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / file_name


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """내려받기가 응답 없는 서버 앞에서 끝없이 멈추지 않도록 기본 제한 시간을 둡니다."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds if old is None else old)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _notice(weights: WeightsEnum, reason: str) -> None:
    path = weights_cache_path(weights)
    print(
        f"[안내] 사전 훈련 가중치 {weights}를 불러오지 못했습니다: {reason}\n"
        f"       무작위로 초기화한 같은 구조의 모델로 계속합니다. 아래 결과는 전이 학습의 효과를 보여 주지 않습니다.\n"
        f"       가중치를 쓰려면 인터넷에 연결된 곳에서 전체 모드로 실행하거나 ({weights.url}),\n"
        f"       내려받은 파일을 {path} 에 두세요."
    )


def _fallback_kwargs(builder: Callable[..., nn.Module], weights: WeightsEnum, kwargs: dict) -> dict:
    """가중치를 썼을 때와 같은 구조가 되도록 인자를 맞춥니다(클래스 수 등)."""
    out = dict(kwargs)
    out.setdefault("num_classes", len(weights.meta["categories"]))
    for key, value in _FIXED_WHEN_PRETRAINED.get(getattr(builder, "__name__", ""), {}).items():
        out.setdefault(key, value)
    return out


def load_torchvision_model(
    builder: Callable[..., nn.Module],
    weights: WeightsEnum | str | None,
    env: Any = None,
    *,
    allow_download: bool | None = None,
    progress: bool = True,
    timeout_s: float = 60.0,
    **kwargs: Any,
) -> tuple[nn.Module, bool]:
    """`builder(weights=weights, **kwargs)`로 torchvision 모델을 만들고 (모델, 가중치를_불러왔는가)를 돌려줍니다.

    builder: `torchvision.models.resnet50` 같은 빌더 함수. weights: 가중치 열거형, 그 이름 문자열 또는 None.
    env: `course_utils.setup()`의 CourseEnv. `env.offline`이나 `env.quick`이면 내려받지 않습니다
    (캐시에 파일이 있으면 그래도 씁니다). allow_download로 직접 정할 수도 있습니다.
    가중치를 못 쓰면 예외 대신 한국어 안내를 출력하고 무작위 초기화 모델과 False를 돌려줍니다.
    """
    weights = _resolve_weights(weights)
    if weights is None:
        return builder(weights=None, **kwargs), False
    if allow_download is None:
        allow_download = not (getattr(env, "offline", False) or getattr(env, "quick", False))

    path = weights_cache_path(weights)
    if path.is_file():
        try:
            return builder(weights=weights, progress=progress, **kwargs), True
        except Exception as err:  # 손상되었거나 다른 파일
            reason = (f"캐시 파일 {path} 을 읽지 못했습니다 ({type(err).__name__}: {err}). "
                      f"파일을 지우고 다시 실행하면 새로 내려받습니다")
            _notice(weights, reason)
            return builder(weights=None, **_fallback_kwargs(builder, weights, kwargs)), False

    if not allow_download:
        why = "오프라인 모드(COURSE_OFFLINE=1)" if getattr(env, "offline", False) else "빠른 모드"
        if env is None:
            why = "allow_download=False"
        _notice(weights, f"캐시에 파일이 없고, {why}에서는 내려받지 않습니다")
        return builder(weights=None, **_fallback_kwargs(builder, weights, kwargs)), False

    try:
        print(f"사전 훈련 가중치를 내려받습니다: {weights.url} -> {path}")
        with _socket_timeout(timeout_s):
            return builder(weights=weights, progress=progress, **kwargs), True
    except Exception as err:  # 네트워크 오류, 해시 불일치 등
        _notice(weights, f"내려받기 실패 ({type(err).__name__}: {err})")
        return builder(weights=None, **_fallback_kwargs(builder, weights, kwargs)), False


def find_classifier(model: nn.Module) -> str:
    """모델의 마지막 완전연결층(nn.Linear)의 이름을 찾습니다(예: 'fc', 'classifier.6')."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise ValueError("이 모델에는 nn.Linear 층이 없습니다. 분류기 이름을 직접 지정하세요 (name='...').")
    return names[-1]


def freeze_backbone(model: nn.Module, trainable: str = "") -> None:
    """모든 파라미터를 얼리고, 이름이 `trainable`로 시작하는 것만 학습하게 둡니다."""
    for name, param in model.named_parameters():
        param.requires_grad = bool(trainable) and name.startswith(trainable + ".")


def replace_classifier(
    model: nn.Module, num_classes: int, *, freeze: bool = False, name: str | None = None
) -> nn.Module:
    """마지막 완전연결층을 `num_classes` 출력의 새 층으로 바꿉니다(전이 학습의 첫걸음).

    freeze=True면 새 분류기만 학습하고 나머지(백본)는 얼립니다(특성 추출 방식).
    모델을 제자리에서 바꾸고 같은 모델을 돌려줍니다.
    """
    name = name or find_classifier(model)
    old = model.get_submodule(name)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"'{name}'은 nn.Linear가 아닙니다 ({type(old).__name__}). 바꿀 층 이름을 확인하세요.")
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None,
                    device=old.weight.device, dtype=old.weight.dtype)
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)
    if freeze:
        freeze_backbone(model, trainable=name)
    return model
