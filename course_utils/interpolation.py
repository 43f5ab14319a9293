"""선형 보간법과 양선형 보간법을 손으로 구현한 교육용 버전.

16_pspnet 노트북이 같은 코드를 직접 작성해 보이고, 테스트는 이 모듈이
``torch.nn.functional.interpolate(mode='linear' / 'bilinear')`` 와 같은 값을 내는지 확인합니다.
(안티에일리어싱을 끈 기본값 ``antialias=False`` 와 비교합니다.)
"""
from __future__ import annotations

import math

import torch

__all__ = [
    "output_size",
    "source_coordinates",
    "linear_interpolate",
    "bilinear_interpolate",
]


def output_size(in_size: int, size: int | None, scale_factor: float | None) -> int:
    """출력 길이: ``size`` 가 있으면 그 값, 없으면 ``floor(in_size * scale_factor)``."""
    if (size is None) == (scale_factor is None):
        raise ValueError("size 와 scale_factor 중 정확히 하나만 지정하세요.")
    if size is not None:
        if size < 1:
            raise ValueError(f"출력 크기는 1 이상이어야 합니다 (받은 값: {size}).")
        return int(size)
    if scale_factor <= 0:
        raise ValueError(f"scale_factor 는 양수여야 합니다 (받은 값: {scale_factor}).")
    out = int(math.floor(in_size * scale_factor))
    if out < 1:
        raise ValueError(f"길이 {in_size} 에 scale_factor {scale_factor} 를 곱하면 출력이 0 픽셀이 됩니다. 더 큰 값을 쓰세요.")
    return out


def source_coordinates(in_size: int, out_size: int, align_corners: bool,
                       scale_factor: float | None = None) -> torch.Tensor:
    """출력 픽셀 0..out_size-1 이 입력의 어느 (실수) 좌표에서 값을 가져오는지 계산합니다.

    - ``align_corners=True``: 양 끝 픽셀의 *중심*을 맞춥니다. ``src = dst * (in-1)/(out-1)``
    - ``align_corners=False``: 양 끝 픽셀의 *가장자리*를 맞춥니다.
      ``src = (dst + 0.5) * scale - 0.5`` (``scale = in/out``, scale_factor 를 주면 ``1/scale_factor``),
      음수는 0으로 자릅니다.
    """
    dst = torch.arange(out_size, dtype=torch.float64)
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return dst * scale
    scale = 1.0 / scale_factor if scale_factor is not None else in_size / out_size
    return ((dst + 0.5) * scale - 0.5).clamp(min=0.0)


def _neighbours(src: torch.Tensor, in_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """실수 좌표 ``src`` 의 왼쪽 이웃 i0, 오른쪽 이웃 i1, 오른쪽 이웃의 가중치 t."""
    i0 = src.floor().long().clamp(max=in_size - 1)
    i1 = (i0 + 1).clamp(max=in_size - 1)     # 마지막 픽셀에서는 자기 자신을 다시 씁니다
    t = src - i0.to(src.dtype)               # 0 <= t < 1 (오른쪽 이웃까지의 거리 비율)
    return i0, i1, t


def linear_interpolate(x: torch.Tensor, size: int | None = None, scale_factor: float | None = None,
                       align_corners: bool = False) -> torch.Tensor:
    """마지막 축을 따라 선형 보간합니다: ``(1 - t) * x[i0] + t * x[i1]`` (두 화소 값 사용)."""
    in_size = x.shape[-1]
    out = output_size(in_size, size, scale_factor)
    sf = scale_factor if size is None else None
    i0, i1, t = _neighbours(source_coordinates(in_size, out, align_corners, sf), in_size)
    t = t.to(x.dtype)
    return (1 - t) * x[..., i0] + t * x[..., i1]


def bilinear_interpolate(x: torch.Tensor, size: int | tuple[int, int] | None = None,
                         scale_factor: float | tuple[float, float] | None = None,
                         align_corners: bool = False) -> torch.Tensor:
    """(N, C, H, W) 텐서를 양선형 보간으로 크기 조절합니다.

    한 출력 픽셀은 주변 네 입력 픽셀의 가중합입니다. 가로로 두 번(윗줄, 아랫줄),
    그 결과를 세로로 한 번, 모두 세 번의 선형 보간으로 계산합니다.
    """
    if x.dim() != 4:
        raise ValueError(f"(N, C, H, W) 4차원 텐서를 넣으세요 (받은 모양: {tuple(x.shape)}).")
    if not x.is_floating_point():
        raise TypeError("보간은 실수 텐서에서만 정의됩니다. x.float() 로 바꿔 넣으세요.")
    H, W = x.shape[-2:]
    sizes = (size, size) if isinstance(size, int) or size is None else tuple(size)
    factors = (scale_factor, scale_factor) if not isinstance(scale_factor, (tuple, list)) else tuple(scale_factor)
    out_h = output_size(H, sizes[0], factors[0])
    out_w = output_size(W, sizes[1], factors[1])
    sf_h = factors[0] if sizes[0] is None else None
    sf_w = factors[1] if sizes[1] is None else None

    y0, y1, ty = _neighbours(source_coordinates(H, out_h, align_corners, sf_h), H)
    x0, x1, tx = _neighbours(source_coordinates(W, out_w, align_corners, sf_w), W)
    ty = ty.to(x.dtype).view(-1, 1)          # (out_h, 1): 행마다 하나의 세로 가중치
    tx = tx.to(x.dtype)                      # (out_w,):  열마다 하나의 가로 가중치

    top = x[:, :, y0, :]                     # (N, C, out_h, W): 위쪽 이웃 행
    bottom = x[:, :, y1, :]                  # (N, C, out_h, W): 아래쪽 이웃 행
    top = (1 - tx) * top[..., x0] + tx * top[..., x1]              # 가로 선형 보간 1
    bottom = (1 - tx) * bottom[..., x0] + tx * bottom[..., x1]     # 가로 선형 보간 2
    return (1 - ty) * top + ty * bottom                            # 세로 선형 보간 3
