"""신경망은 무엇을 보나: 특성 맵 훅, Grad-CAM 의 정의, 그리고 학습한 모델의 CAM 이 증거 위에 모이는지."""
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.saliency import cam_on_mask, feature_maps, grad_cam


def _small_cnn(width: int = 16) -> nn.Sequential:
    block = lambda c_in, c_out, stride: nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.ReLU())  # noqa: E731
    return nn.Sequential(block(3, width, 1), block(width, 2 * width, 2), block(2 * width, 2 * width, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 2))


def test_feature_maps_are_the_layer_outputs_and_mode_is_restored():
    torch.manual_seed(0)
    model = _small_cnn().train()
    x = torch.randn(2, 3, 16, 16)
    maps = feature_maps(model, x, {"첫 층": model[0], "둘째 층": model[1]})
    model.eval()
    with torch.no_grad():
        first = model[0](x)
        second = model[1](first)
    assert torch.allclose(maps["첫 층"], first) and torch.allclose(maps["둘째 층"], second)
    assert maps["둘째 층"].shape == (2, 32, 8, 8)


def test_grad_cam_of_gap_linear_head_is_the_class_activation_map():
    # 마지막 특성 맵 A 뒤가 전역 평균 풀링 + 선형층이면 d 점수 / d A_c = w_c / (h w) 라서
    # Grad-CAM 은 CAM(Zhou et al., 2016) ReLU(sum_c w_c A_c) 와 같은 지도가 됩니다 (크기만 다름).
    torch.manual_seed(1)
    model = _small_cnn().train()
    x = torch.randn(3, 3, 20, 28)                                     # 정사각형이 아닌 입력
    classes = torch.tensor([0, 1, 1])
    cams = grad_cam(model, model[2], x, classes)
    with torch.no_grad():
        acts = model[:3](x)                                           # (3, 32, 10, 14)
    weights = model[5].weight[classes]                                # (3, 32)
    cam = F.relu(torch.einsum("nc,nchw->nhw", weights, acts))[:, None]
    cam = F.interpolate(cam, size=(20, 28), mode="bilinear", align_corners=False)[:, 0]
    cam = cam / cam.amax(dim=(1, 2), keepdim=True)
    assert torch.allclose(cams, cam, atol=1e-5)
    assert model.training and all(p.grad is None for p in model.parameters())   # 모드와 .grad 는 그대로
    predicted = grad_cam(model, model[2], x)                          # 클래스를 안 주면 예측한 클래스
    assert torch.allclose(predicted, grad_cam(model, model[2], x, model.eval()(x).argmax(1)))


def test_grad_cam_on_a_frozen_backbone_and_inplace_relu():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 8, 3, padding=1),
                          nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    for p in model[:4].parameters():
        p.requires_grad_(False)                                       # 전이 학습처럼 얼린 백본
    cams = grad_cam(model, model[2], torch.randn(2, 3, 12, 12))       # 뒤의 inplace ReLU 가 바꾸기 전의 특성 맵
    assert cams.shape == (2, 12, 12) and torch.isfinite(cams).all() and cams.amax() == 1


def test_cam_on_mask_is_one_for_a_flat_map_and_ignores_border_pixels():
    masks = torch.zeros(2, 4, 4, dtype=torch.long)
    masks[:, :2, :2] = 1
    masks[1, 3, :] = 255
    flat = torch.ones(2, 4, 4)
    assert torch.allclose(cam_on_mask(flat, masks), torch.ones(2))
    on_animal = (masks == 1).float()
    assert torch.allclose(cam_on_mask(on_animal, masks), torch.tensor([16 / 4, 12 / 4]))
    assert torch.allclose(cam_on_mask(1 - on_animal, masks), torch.zeros(2))


def _planted(n: int, seed: int, size: int = 32, patch: int = 8):
    """부드러운 잡음 배경. 레이블 1 이면 무작위 위치에 체커보드 조각(증거)을 심습니다. 마스크 = 그 위치."""
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, 3, size // 4, size // 4, generator=g), size=size, mode="bilinear")
    x = x + 0.1 * torch.randn(n, 3, size, size, generator=g)
    labels = torch.randint(0, 2, (n,), generator=g)
    masks = torch.zeros(n, size, size, dtype=torch.long)
    checker = ((torch.arange(patch)[:, None] + torch.arange(patch)) % 2).float()
    for i in range(n):
        r, c = torch.randint(0, size - patch + 1, (2,), generator=g).tolist()
        masks[i, r:r + patch, c:c + patch] = 1
        if labels[i] == 1:
            x[i, :, r:r + patch, c:c + patch] = checker
    return x, labels, masks


def test_trained_cam_lands_on_the_evidence_more_than_a_random_model(one_thread):
    x, y, _ = _planted(256, seed=0)
    x_test, y_test, m_test = _planted(96, seed=1)
    torch.manual_seed(0)
    model = _small_cnn(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(80):
        idx = torch.randint(0, len(x), (32,))
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        assert (model(x_test).argmax(1) == y_test).float().mean() > 0.9
    pos = y_test == 1                                                 # 증거가 있는 이미지의 '1' 지도
    target = torch.ones(int(pos.sum()), dtype=torch.long)
    trained = cam_on_mask(grad_cam(model, model[2], x_test[pos], target), m_test[pos]).nanmean()
    randoms = []
    for seed in range(5):
        torch.manual_seed(100 + seed)
        rand_model = _small_cnn(8)
        randoms.append(cam_on_mask(grad_cam(rand_model, rand_model[2], x_test[pos], target), m_test[pos]).nanmean())
    # 조각은 그림의 1/16: 고르게 퍼진 지도는 1, 모두 조각 위면 16
    assert trained > 4 and trained > 2 * max(randoms), (float(trained), [round(float(r), 2) for r in randoms])
