"""course_utils.pretrained: 캐시에서 불러오기, 오프라인 대체, 로컬 HTTP 내려받기, 분류기 교체."""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import pretrained
from course_utils.pretrained import (
    find_classifier,
    load_torchvision_model,
    replace_classifier,
    weights_cache_path,
)

OFFLINE = SimpleNamespace(offline=True, quick=False)
ONLINE = SimpleNamespace(offline=False, quick=False)
QUICK = SimpleNamespace(offline=False, quick=True)


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    """빈 임시 TORCH_HOME: 실제 사용자 캐시를 건드리지 않습니다."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(pretrained, "_NOTICED", set())  # 시험마다 처음 알리는 것처럼
    return tmp_path / "torch_home"


def _random_state_dict(builder, seed: int, **kwargs) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return builder(weights=None, **kwargs).state_dict()


def _saved(payload) -> bytes:
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def _place_in_cache(weights, data: bytes, monkeypatch, *, hash_ok: bool = True) -> Path:
    """data를 캐시 파일로 둡니다. hash_ok면 URL을 바꿔 파일 이름의 해시 접두사가 내용과 맞게 합니다."""
    if hash_ok:
        prefix = hashlib.sha256(data).hexdigest()[:8]
        monkeypatch.setattr(weights.value, "url", f"https://download.invalid/weights-{prefix}.pth")
    path = weights_cache_path(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


class _Payload:
    """풀리면(unpickle) marker 파일을 만드는 객체: 가중치 파일에 숨은 코드의 대역."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _assert_same_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    own = model.state_dict()
    assert own.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(own[key], value), key


def test_cache_path_is_what_torchvision_uses(torch_home):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    path = weights_cache_path(weights)
    assert path == torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert weights_cache_path("ResNet18_Weights.IMAGENET1K_V1") == path


def test_loads_from_cache_when_offline(torch_home, monkeypatch, capsys):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    state = _random_state_dict(models.resnet18, seed=1)
    _place_in_cache(weights, _saved(state), monkeypatch)

    torch.manual_seed(2)  # 무작위 초기화였다면 다른 값이 나옵니다
    model, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE)
    assert loaded is True
    _assert_same_weights(model, state)
    assert "안내" not in capsys.readouterr().out


def test_offline_empty_cache_returns_random_model_with_notice(torch_home, capsys):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    model, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE)
    out = capsys.readouterr().out
    assert loaded is False
    assert "사전 훈련 가중치" in out and "오프라인" in out and "무작위" in out
    assert model.fc.out_features == 1000  # 가중치를 썼을 때와 같은 구조
    assert not weights_cache_path(weights).exists()


def test_second_notice_for_the_same_weights_is_one_line(torch_home, capsys):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    load_torchvision_model(models.resnet18, weights, OFFLINE)
    first = capsys.readouterr().out
    _, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE)
    second = capsys.readouterr().out
    assert loaded is False and first.count("\n") >= 3
    assert second.count("\n") == 1 and "앞에서 알린 대로" in second and str(weights) in second
    load_torchvision_model(models.resnet18, weights, QUICK)  # 까닭이 다르면 다시 자세히 알립니다
    assert "빠른 모드" in capsys.readouterr().out


def test_quick_mode_never_downloads(torch_home, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise AssertionError("빠른 모드에서 내려받으려 했습니다")

    monkeypatch.setattr(torch.hub, "download_url_to_file", boom)
    monkeypatch.setattr(pretrained, "download_file", boom)
    model, loaded = load_torchvision_model(models.resnet18, models.ResNet18_Weights.DEFAULT, QUICK)
    assert loaded is False
    assert "빠른 모드" in capsys.readouterr().out


@pytest.mark.parametrize("hash_ok, why", [(False, "해시"), (True, "읽지 못했습니다")])
def test_corrupt_cache_file_falls_back(torch_home, monkeypatch, capsys, hash_ok, why):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    path = _place_in_cache(weights, b"not a checkpoint", monkeypatch, hash_ok=hash_ok)
    model, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE)
    out = capsys.readouterr().out
    assert loaded is False
    assert why in out and "지우고" in out and str(path) in out
    assert path.read_bytes() == b"not a checkpoint"  # 손으로 둔 파일을 지우지 않음


@pytest.mark.parametrize("hash_ok", [False, True], ids=["name-hash-mismatch", "name-hash-forged"])
def test_weights_file_never_runs_code(torch_home, tmp_path, monkeypatch, capsys, hash_ok):
    """손으로 캐시에 둔 파일 안의 코드는 실행되지 않습니다: 해시 검사, 그리고 weights_only=True."""
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    marker = tmp_path / "code-ran"
    _place_in_cache(weights, _saved({"fc.weight": _Payload(marker)}), monkeypatch, hash_ok=hash_ok)
    model, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE)
    assert not marker.exists()
    assert loaded is False and "[안내]" in capsys.readouterr().out
    # 같은 파일을 전체 언피클러로 읽으면 정말 marker가 생깁니다 (이 시험이 실패할 수 있다는 확인)
    torch.load(weights_cache_path(weights), weights_only=False)
    assert marker.exists()


def test_num_classes_mismatch_is_an_argument_error_not_a_corrupt_file(torch_home, monkeypatch, capsys):
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    _place_in_cache(weights, _saved(_random_state_dict(models.resnet18, seed=4)), monkeypatch)
    with pytest.raises(ValueError, match=r"num_classes=2.*replace_classifier\(model, 2\)"):
        load_torchvision_model(models.resnet18, weights, OFFLINE, num_classes=2)
    assert "지우고" not in capsys.readouterr().out
    model, loaded = load_torchvision_model(models.resnet18, weights, OFFLINE, num_classes=1000)
    assert loaded is True and model.fc.out_features == 1000


def test_weights_of_another_model_are_refused_in_korean(torch_home):
    with pytest.raises(ValueError, match="resnet18의 가중치가 아닙니다.*ResNet18_Weights.DEFAULT"):
        load_torchvision_model(models.resnet18, models.ResNet50_Weights.DEFAULT, OFFLINE)


@pytest.mark.parametrize("name, listed", [
    ("ResNet50_Weights.IMAGENET", "ResNet50_Weights.IMAGENET1K_V2"),  # 값 이름 오타
    ("ResNet5O_Weights.DEFAULT", "ResNet50_Weights.DEFAULT"),  # 열거형 이름 오타 (O와 0)
    ("resnet50", "ResNet50_Weights.IMAGENET1K_V1"),  # 모델 이름을 넘김
])
def test_unknown_weights_name_lists_valid_names(name, listed):
    with pytest.raises(ValueError, match="모르는 가중치 이름") as err:
        load_torchvision_model(models.resnet50, name, OFFLINE)
    assert listed in str(err.value)


def test_none_weights_is_plain_random_model(torch_home):
    model, loaded = load_torchvision_model(models.resnet18, None, OFFLINE, num_classes=3)
    assert loaded is False and model.fc.out_features == 3


def test_googlenet_fallback_matches_pretrained_structure(torch_home):
    model, loaded = load_torchvision_model(models.googlenet, models.GoogLeNet_Weights.DEFAULT, OFFLINE)
    assert loaded is False
    assert model.aux1 is None and model.aux2 is None  # 가중치를 쓴 googlenet과 같은 구조
    model.train()
    out = model(torch.randn(2, 3, 64, 64))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1000)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # 테스트 출력에 접속 기록을 남기지 않습니다
        pass


@pytest.fixture
def local_server(tmp_path):
    """127.0.0.1에서만 도는 파일 서버(인터넷 없이 내려받기 경로를 시험)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _serve_resnet18(root, base, monkeypatch, seed):
    """임의의 resnet18 가중치를 서버 폴더에 torch hub식 이름(sha256 접두사)으로 두고 URL을 그리로 돌립니다."""
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    state = _random_state_dict(models.resnet18, seed=seed)
    tmp = root / "tmp.pth"
    torch.save(state, tmp)
    data = tmp.read_bytes()
    prefix = hashlib.sha256(data).hexdigest()[:8]  # 파일 이름의 해시 접두사로 받은 파일을 검사합니다
    tmp.rename(root / f"resnet18-{prefix}.pth")
    monkeypatch.setattr(weights.value, "url", f"{base}/resnet18-{prefix}.pth")
    return weights, state, data


def test_downloads_from_url_into_cache(torch_home, local_server, monkeypatch):
    weights, state, _ = _serve_resnet18(*local_server, monkeypatch, seed=3)
    model, loaded = load_torchvision_model(models.resnet18, weights, ONLINE, progress=False)
    assert loaded is True
    _assert_same_weights(model, state)
    assert weights_cache_path(weights).is_file()


def test_interrupted_download_is_finished_from_its_part_file(torch_home, local_server, monkeypatch):
    # 지난번에 끊긴 내려받기(.part)가 캐시 폴더에 남아 있어도 다음 실행이 마저 받아 검사하고, 찌꺼기를 남기지 않습니다
    weights, state, data = _serve_resnet18(*local_server, monkeypatch, seed=4)
    cache = weights_cache_path(weights)
    cache.parent.mkdir(parents=True)
    cache.with_name(cache.name + ".part").write_bytes(data[: len(data) // 2])

    model, loaded = load_torchvision_model(models.resnet18, weights, ONLINE, progress=False)
    assert loaded is True
    _assert_same_weights(model, state)
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]


def test_download_failure_falls_back(torch_home, local_server, monkeypatch, capsys):
    _, base = local_server
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    monkeypatch.setattr(weights.value, "url", f"{base}/missing-0123abcd.pth")  # 404
    model, loaded = load_torchvision_model(models.resnet18, weights, ONLINE, progress=False)
    assert loaded is False
    assert "내려받기 실패" in capsys.readouterr().out
    assert isinstance(model, models.ResNet)


def test_downloaded_file_with_wrong_hash_is_not_kept(torch_home, local_server, monkeypatch, capsys):
    root, base = local_server
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    torch.save(_random_state_dict(models.resnet18, seed=5), root / "resnet18-00000000.pth")
    monkeypatch.setattr(weights.value, "url", f"{base}/resnet18-00000000.pth")
    model, loaded = load_torchvision_model(models.resnet18, weights, ONLINE, progress=False)
    assert loaded is False and "내려받기 실패" in capsys.readouterr().out
    assert list(weights_cache_path(weights).parent.iterdir()) == []  # 틀린 파일도 임시 파일도 없음


def test_wrong_weights_type_raises_korean_message():
    with pytest.raises(TypeError, match="가중치 열거형"):
        load_torchvision_model(models.resnet18, 123, OFFLINE)


@pytest.mark.parametrize(
    "builder, expected",
    [(models.resnet18, "fc"), (models.vgg11, "classifier.6"), (models.googlenet, "fc"),
     (models.mobilenet_v3_small, "classifier.3")],
)
def test_find_classifier(builder, expected):
    with torch.device("meta"):
        kwargs = {"aux_logits": False, "init_weights": False} if builder is models.googlenet else {}
        model = builder(**kwargs)
    assert find_classifier(model) == expected


def test_replace_classifier_freeze_trains_only_head():
    model = models.resnet18(num_classes=1000)
    replace_classifier(model, 2, freeze=True)
    assert model.fc.out_features == 2 and model.fc.in_features == 512
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    # 한 번의 학습 단계에서 백본은 그대로, 분류기만 바뀌어야 합니다
    before = model.conv1.weight.clone()
    head_before = model.fc.weight.clone()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.eval()
    loss = nn.functional.cross_entropy(model(torch.randn(4, 3, 32, 32)), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    optimizer.step()
    assert torch.equal(model.conv1.weight, before)
    assert not torch.equal(model.fc.weight, head_before)


def test_replace_classifier_vgg_no_freeze():
    with torch.device("meta"):
        model = models.vgg11()
    replace_classifier(model, 2)
    assert model.classifier[6].out_features == 2
    assert all(p.requires_grad for p in model.parameters())


def test_replace_classifier_rejects_non_linear():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 2))
    with pytest.raises(TypeError, match="nn.Linear"):
        replace_classifier(model, 2, name="0")


def test_never_uses_deprecated_pretrained_argument(torch_home, monkeypatch):
    """`pretrained=`(폐기 예정) 대신 `weights=`만 쓰므로 torchvision의 경고가 나지 않습니다."""
    import warnings

    weights = models.ResNet18_Weights.IMAGENET1K_V1
    _place_in_cache(weights, _saved(_random_state_dict(models.resnet18, seed=6)), monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_torchvision_model(models.resnet18, weights, OFFLINE)[1] is True
        assert load_torchvision_model(models.resnet34, models.ResNet34_Weights.DEFAULT, OFFLINE)[1] is False
    assert "pretrained=True" in pretrained.__doc__ and "weights=" in pretrained.__doc__
