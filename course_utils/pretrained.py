"""사전 훈련 가중치 불러오기와 전이 학습용 분류기 교체.

torchvision 0.13부터 `pretrained=True` 인자는 폐기 예정(deprecated)이 되었고, 지금은
`weights=` 인자에 가중치 열거형(예: `models.ResNet50_Weights.DEFAULT`)을 넘깁니다.
이 모듈은 그 `weights=` API 위에서 다음 순서로 가중치를 찾습니다.

1. torch hub 캐시(`$TORCH_HOME/hub/checkpoints/<파일 이름>`)에 파일이 있으면 그것을 씁니다.
2. 없으면 내려받습니다. 단, 오프라인 모드(COURSE_OFFLINE=1)나 빠른 모드에서는 내려받지 않습니다.
3. 둘 다 안 되면 한국어 안내를 출력하고 무작위로 초기화한 같은 구조의 모델을 돌려줍니다.
   수업은 계속 진행되지만, 그 결과는 전이 학습의 효과를 보여 주지 않는다는 점에 주의하세요.

가중치 파일은 pickle 형식이라 아무 파일이나 그대로 읽으면 그 안의 코드가 실행될 수 있습니다.
그래서 파일 이름에 든 sha256 접두사와 내용이 맞는지 먼저 확인하고, `torch.load(..., weights_only=True)`로
텐서만 읽습니다.
"""
from __future__ import annotations

import contextlib
import difflib
import http.client
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_model_weights, get_weight, list_models

from .download import DownloadError, Source, download_file, file_digest

__all__ = [
    "WeightsFileError",
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

# 파일을 얻거나 읽을 때 날 수 있는 오류: 네트워크(OSError의 하위 클래스들, 불완전한 HTTP 응답),
# torch.hub의 해시 불일치(RuntimeError), 망가진 파일(EOFError, RuntimeError),
# 가중치가 아닌 객체가 든 파일(weights_only=True가 거부하는 UnpicklingError).
_FILE_ERRORS = (OSError, http.client.HTTPException, RuntimeError, EOFError, pickle.UnpicklingError)


class WeightsFileError(RuntimeError):
    """가중치 파일을 얻거나 검사하거나 읽지 못했을 때 (메시지는 한국어)."""


def _all_weight_names() -> list[str]:
    """torchvision이 아는 모든 가중치 이름('ResNet50_Weights.IMAGENET1K_V2' 꼴)."""
    names = set()
    for model_name in list_models():
        enum = get_model_weights(model_name)
        names.update(f"{enum.__name__}.{w.name}" for w in enum)
        names.add(f"{enum.__name__}.DEFAULT")
    return sorted(names)


def _unknown_weights_message(name: str) -> str:
    """모르는 가중치 이름에 대한 한국어 안내: 같은 열거형의 값들이나 비슷한 이름을 보여 줍니다."""
    known = _all_weight_names()
    enum_name = name.split(".")[0]
    same_enum = [n for n in known if n.split(".")[0] == enum_name]
    if not same_enum and name.lower() in list_models():  # 모델 이름('resnet50')을 넘긴 경우
        same_enum = [n for n in known if n.split(".")[0] == get_model_weights(name.lower()).__name__]
    close = same_enum or difflib.get_close_matches(name, known, n=5, cutoff=0.6)
    hint = f" 쓸 수 있는 이름: {', '.join(close)}." if close else ""
    return (f"'{name}'은(는) torchvision이 모르는 가중치 이름입니다.{hint} 이름은 '<열거형>.<값>' 꼴입니다 "
            f"(예: ResNet50_Weights.DEFAULT). 모델별 이름은 torchvision.models.get_model_weights('resnet50')로 볼 수 있습니다.")


def _resolve_weights(weights: WeightsEnum | str | None) -> WeightsEnum | None:
    """문자열('ResNet50_Weights.DEFAULT')도 가중치 열거형으로 바꿉니다."""
    if weights is None or isinstance(weights, WeightsEnum):
        return weights
    if isinstance(weights, str):
        try:
            return get_weight(weights)
        except (ValueError, KeyError) as err:
            raise ValueError(_unknown_weights_message(weights)) from err
    raise TypeError(
        f"weights에는 torchvision 가중치 열거형(예: models.ResNet50_Weights.DEFAULT)이나 "
        f"그 이름 문자열을 넘기세요. 받은 값: {weights!r}"
    )


def _check_arguments(builder: Callable[..., nn.Module], weights: WeightsEnum, kwargs: dict) -> None:
    """가중치와 맞지 않는 빌더나 클래스 수를 파일을 읽기 전에 한국어로 알립니다."""
    try:
        expected = get_model_weights(builder)
    except (ValueError, KeyError, TypeError, AttributeError):  # torchvision 빌더가 아닌 함수
        expected = None
    if expected is not None and not isinstance(weights, expected):
        raise ValueError(f"{weights}는 {getattr(builder, '__name__', builder)}의 가중치가 아닙니다. "
                         f"{expected.__name__}.DEFAULT 같은 값을 넘기세요.")
    categories = weights.meta.get("categories")
    wanted = kwargs.get("num_classes")
    if categories and wanted is not None and wanted != len(categories):
        raise ValueError(f"{weights}는 클래스 {len(categories)}개로 훈련된 가중치라 num_classes={wanted}로는 불러올 수 "
                         f"없습니다. num_classes 없이 불러온 뒤 replace_classifier(model, {wanted})로 분류기를 바꾸세요.")


def weights_cache_path(weights: WeightsEnum | str) -> Path:
    """torchvision이 이 가중치를 찾는 캐시 파일 경로(hub/checkpoints/<URL의 파일 이름>)."""
    weights = _resolve_weights(weights)
    file_name = os.path.basename(urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / file_name


def _hash_prefix(path: Path) -> str | None:
    """파일 이름에 든 sha256 접두사('resnet18-f37072fd.pth'의 f37072fd), 없으면 None."""
    match = torch.hub.HASH_REGEX.search(path.name)
    return match.group(1) if match and match.group(1) else None


def _download(weights: WeightsEnum, path: Path, progress: bool, timeout_s: float) -> None:
    """강의의 내려받기(download.py)로 받습니다: .part에 받아 이어 받기가 되고, 해시 접두사가 맞을 때만 path로 옮깁니다."""
    print(f"사전 훈련 가중치를 내려받습니다: {weights.url} -> {path}")
    source = Source(url=weights.url, filename=path.name, sha256=_hash_prefix(path))
    manual = f"직접 받으려면 {weights.url} 을 {path} 로 저장하세요."
    try:
        download_file(source, path.parent, timeout=timeout_s, progress=progress, manual=manual)
    except DownloadError as err:
        raise WeightsFileError(f"내려받기 실패 ({err})") from err


def _load_verified(path: Path) -> dict[str, torch.Tensor]:
    """파일 이름의 해시 접두사를 확인한 뒤 weights_only=True로 읽습니다 (파일 안의 코드는 실행하지 않음)."""
    prefix = _hash_prefix(path)
    if prefix is not None:
        digest = file_digest(path, "sha256")
        if not digest.startswith(prefix):
            raise WeightsFileError(f"캐시 파일 {path} 의 sha256({digest[:12]}...)이 파일 이름의 {prefix}와 다릅니다. "
                                   f"망가졌거나 다른 파일이니 읽지 않았습니다. 지우고 다시 실행하면 새로 내려받습니다")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except _FILE_ERRORS as err:
        raise WeightsFileError(f"캐시 파일 {path} 을 가중치로 읽지 못했습니다 ({type(err).__name__}). "
                               f"지우고 다시 실행하면 새로 내려받습니다") from err
    if not isinstance(state, dict):
        raise WeightsFileError(f"캐시 파일 {path} 에 state_dict가 아닌 {type(state).__name__}이(가) 들어 있습니다. "
                               f"지우고 다시 실행하면 새로 내려받습니다")
    return state


def _offline_reason(env: Any) -> str:
    if env is None:
        return "allow_download=False"
    return "오프라인 모드(COURSE_OFFLINE=1)" if getattr(env, "offline", False) else "빠른 모드"


def _state_dict(weights: WeightsEnum, env: Any, allow_download: bool, progress: bool,
                timeout_s: float) -> dict[str, torch.Tensor]:
    """캐시에서(없으면 내려받아서) 검사한 state_dict를 돌려줍니다. 실패하면 WeightsFileError."""
    path = weights_cache_path(weights)
    if not path.is_file():
        if not allow_download:
            raise WeightsFileError(f"캐시에 파일이 없고, {_offline_reason(env)}에서는 내려받지 않습니다")
        _download(weights, path, progress, timeout_s)
    return _load_verified(path)


@contextlib.contextmanager
def _serving(weights: WeightsEnum, state: dict[str, torch.Tensor]) -> Iterator[None]:
    """빌더가 부르는 weights.get_state_dict()가 검사한 state를 돌려주게 합니다.

    torchvision 빌더는 가중치를 읽은 뒤 구조를 맞추는 일(인셉션의 보조 분류기 제거 등)도 하므로
    빌더를 그대로 쓰고, 파일을 여는 부분만 weights_only=True로 읽은 결과로 바꿉니다.
    """
    weights.get_state_dict = lambda *args, **kwargs: state
    try:
        yield
    finally:
        del weights.get_state_dict


_NOTICED: set[tuple[str, str]] = set()  # 이 프로세스에서 이미 자세히 알린 (가중치, 까닭)


def _notice(weights: WeightsEnum, reason: str) -> None:
    """가중치를 못 불러온 까닭과 할 일을 알립니다. 같은 가중치·까닭의 두 번째부터는 한 줄만."""
    if (str(weights), reason) in _NOTICED:
        print(f"[안내] 사전 훈련 가중치 {weights}: 앞에서 알린 대로 없어서 이번에도 무작위 초기화로 만듭니다.")
        return
    _NOTICED.add((str(weights), reason))
    path = weights_cache_path(weights)
    print(
        f"[안내] 사전 훈련 가중치 {weights}를 불러오지 못했습니다: {reason}\n"
        f"       무작위로 초기화한 같은 구조의 모델로 계속합니다. 아래 결과는 전이 학습의 효과를 보여 주지 않습니다.\n"
        f"       가중치를 쓰려면 인터넷에 연결된 곳에서 전체 모드로 실행하거나 ({weights.url}),\n"
        f"       그 주소에서 받은 파일을 {path} 에 두세요 (파일 이름의 해시와 내용이 맞을 때만 가중치로 읽습니다)."
    )


def _fallback_kwargs(builder: Callable[..., nn.Module], weights: WeightsEnum, kwargs: dict) -> dict:
    """가중치를 썼을 때와 같은 구조가 되도록 인자를 맞춥니다(클래스 수 등)."""
    out = dict(kwargs)
    if weights.meta.get("categories"):
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
    파일은 이름의 해시 접두사와 맞는지 확인한 뒤 `weights_only=True`로 읽습니다.
    파일을 얻거나 읽지 못하면 한국어 안내를 출력하고 무작위 초기화 모델과 False를 돌려줍니다.
    가중치와 맞지 않는 인자(빌더, num_classes)는 한국어 ValueError로 알립니다.
    """
    weights = _resolve_weights(weights)
    if weights is None:
        return builder(weights=None, **kwargs), False
    _check_arguments(builder, weights, kwargs)
    if allow_download is None:
        allow_download = not (getattr(env, "offline", False) or getattr(env, "quick", False))
    try:
        state = _state_dict(weights, env, allow_download, progress, timeout_s)
    except WeightsFileError as err:
        _notice(weights, str(err))
        return builder(weights=None, **_fallback_kwargs(builder, weights, kwargs)), False
    with _serving(weights, state):
        return builder(weights=weights, progress=progress, **kwargs), True


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
