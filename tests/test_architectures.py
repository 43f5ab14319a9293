"""노트북 06-08에 적힌 모델 코드(클래스, 구성표)만 꺼내 torchvision과 파라미터 수를 비교합니다.

노트북 전체를 돌리지 않고 정의(class/def/구성표 대입)만 실행하므로 빠릅니다. 모델은 'meta' 장치에서
만들어 메모리를 쓰지 않습니다. 정의 하나라도 실행되지 않으면(NameError) 건너뛰지 않고 실패합니다.
"""
from __future__ import annotations

import ast
import json
from collections import namedtuple
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision import models

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KEEP_ASSIGN = {"ResNetConfig", "CHANNELS", "resnet_configs", "VGG_CONFIGS"}


def load_definitions(name: str) -> dict:
    """노트북의 코드 셀에서 최상위 class/def와 구성표 대입만 실행한 이름공간."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    namespace = {"torch": torch, "nn": nn, "namedtuple": namedtuple}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        keep = [node for node in tree.body
                if isinstance(node, (ast.ClassDef, ast.FunctionDef))
                or (isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id in KEEP_ASSIGN for t in node.targets))]
        for node in keep:
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), name, "exec"), namespace)
            except NameError as exc:  # 정의가 실행 중에만 생기는 이름(데이터, env, cfg)에 기대면 여기서 알립니다
                raise AssertionError(f"{name}: 최상위 정의 {getattr(node, 'name', '')!r}의 기본값·데코레이터·부모 "
                                     f"클래스가 노트북 실행 중에만 생기는 이름에 기댑니다 ({exc}). 인자로 받게 "
                                     "바꾸거나 KEEP_ASSIGN을 고치세요.") from exc
    return namespace


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def shapes(model: nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def resnet_ns():
    return load_definitions("08_resnet.ipynb")


@pytest.fixture(scope="module")
def vgg_ns():
    return load_definitions("06_vggnet.ipynb")


@pytest.fixture(scope="module")
def googlenet_ns():
    return load_definitions("07_googlenet.ipynb")


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_resnet_matches_torchvision(resnet_ns, name):
    with torch.device("meta"):
        ours = resnet_ns["ResNet"](resnet_ns["resnet_configs"][name])
        theirs = getattr(models, name)()
    assert n_params(ours) == n_params(theirs)
    assert shapes(ours) == shapes(theirs)


def test_resnet_notes_claims_are_wrong(resnet_ns):
    with torch.device("meta"):
        r34 = n_params(resnet_ns["ResNet"](resnet_ns["resnet_configs"]["resnet34"]))
        r50 = n_params(resnet_ns["ResNet"](resnet_ns["resnet_configs"]["resnet50"]))
    assert round(r34 / 1e6, 1) == 21.8 and round(r50 / 1e6, 1) == 25.6  # 교재: 39.3M, 6.96M


def test_resnet_small_forward_and_zero_init(resnet_ns):
    config = resnet_ns["ResNetConfig"](resnet_ns["BasicBlock"], [1, 1, 1, 1], [8, 16, 32, 64])
    model = resnet_ns["ResNet"](config, num_classes=2, zero_init_residual=True).eval()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 2)
    block = model.layer1[0]
    h = torch.relu(torch.randn(1, 8, 16, 16))
    assert torch.allclose(block(h), h)  # 마지막 BN γ = 0 -> 아이덴티티


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
@pytest.mark.parametrize("bn", [False, True])
def test_vgg_matches_torchvision(vgg_ns, name, bn):
    with torch.device("meta"):
        ours = vgg_ns["VGG"](vgg_ns["VGG_CONFIGS"][name], batch_norm=bn)
        theirs = getattr(models, name + ("_bn" if bn else ""))()
    assert n_params(ours) == n_params(theirs)
    assert shapes(ours) == shapes(theirs)


def test_vgg_rejects_bad_config(vgg_ns):
    with pytest.raises(AssertionError):
        vgg_ns["make_features"]([64, "m"])


@pytest.mark.parametrize("aux", [True, False])
def test_googlenet_matches_torchvision(googlenet_ns, aux):
    with torch.device("meta"):
        ours = googlenet_ns["GoogLeNet"](aux_logits=aux, k5=3)
        theirs = models.googlenet(aux_logits=aux, init_weights=False)
    assert n_params(ours) == n_params(theirs)
    assert shapes(ours) == shapes(theirs)


def test_inception_3a_shape(googlenet_ns):
    module = googlenet_ns["Inception"](192, 64, 96, 128, 16, 32, 32)
    assert module(torch.randn(1, 192, 28, 28)).shape == (1, 256, 28, 28)
