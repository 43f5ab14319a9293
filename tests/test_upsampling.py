"""14_transposed_conv 노트북의 손 구현(전치 합성곱, 겹침 횟수)을 nn.ConvTranspose2d와 비교합니다.

노트북에서 함수 정의만 담긴 코드 셀을 읽어 실행하므로, 학습자가 보는 바로 그 코드를 검사합니다.
"""
from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "14_transposed_conv.ipynb"
_DEF_NODES = (ast.FunctionDef, ast.Import, ast.ImportFrom)


def _lesson_functions() -> dict:
    """노트북의 '함수 정의만 있는' 코드 셀을 순서대로 실행해 이름 공간을 돌려줍니다."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    ns: dict = {"torch": torch, "F": F, "nn": nn}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        tree = ast.parse(src)
        if tree.body and all(isinstance(node, _DEF_NODES) for node in tree.body):
            exec(compile(tree, str(NOTEBOOK), "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def lesson() -> dict:
    ns = _lesson_functions()
    for name in ("insert_zeros", "scatter_transposed_conv2d", "zero_insertion_transposed_conv2d",
                 "transposed_output_size", "overlap_count", "bilinear_init"):
        assert name in ns, f"노트북에 {name} 함수가 없습니다"
    return ns


CASES = [  # (c_in, c_out, kernel, stride, padding, output_padding, size)
    (1, 1, 1, 1, 0, 0, (3, 3)),
    (1, 1, 3, 1, 1, 0, (5, 5)),
    (3, 2, 2, 2, 0, 0, (4, 4)),
    (3, 4, 4, 2, 1, 0, (5, 6)),
    (2, 3, 3, 2, 1, 1, (4, 4)),
    (2, 2, 3, 3, 0, 2, (3, 2)),
    (2, 2, (3, 5), (2, 3), (1, 2), (1, 2), (3, 4)),
    (1, 2, 3, 3, 3, 0, (4, 4)),
    (2, 1, 5, 2, 4, 1, (5, 5)),
    (4, 1, 16, 8, 4, 0, (2, 3)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("impl", ["scatter_transposed_conv2d", "zero_insertion_transposed_conv2d"])
def test_hand_transposed_conv_equals_torch(lesson, impl, case):
    c_in, c_out, k, s, p, op, size = case
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(c_in, c_out, k, stride=s, padding=p, output_padding=op, bias=True)
    x = torch.randn(2, c_in, *size)
    with torch.no_grad():
        ref = layer(x)
        out = lesson[impl](x, layer.weight, layer.bias, s, p, op)
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, atol=1e-5)
    kk = k if isinstance(k, int) else k[0]
    ss = s if isinstance(s, int) else s[0]
    pp = p if isinstance(p, int) else p[0]
    oo = op if isinstance(op, int) else op[0]
    assert ref.shape[-2] == lesson["transposed_output_size"](size[0], kk, ss, pp, oo)


def test_without_bias_and_gradients_flow(lesson):
    torch.manual_seed(1)
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    x = torch.randn(1, 3, 4, 4, requires_grad=True)
    out = lesson["zero_insertion_transposed_conv2d"](x, w, None, 2, 1, 1)
    out.square().sum().backward()
    w2, x2 = w.detach().clone().requires_grad_(), x.detach().clone().requires_grad_()
    F.conv_transpose2d(x2, w2, None, 2, 1, 1).square().sum().backward()
    assert torch.allclose(w.grad, w2.grad, atol=1e-4) and torch.allclose(x.grad, x2.grad, atol=1e-4)


def test_insert_zeros_layout(lesson):
    x = torch.arange(1.0, 7.0).view(1, 1, 2, 3)
    z = lesson["insert_zeros"](x, (2, 3))
    assert z.shape == (1, 1, 3, 7)
    assert torch.equal(z[0, 0, ::2, ::3], x[0, 0])
    assert z.sum() == x.sum() and (z != 0).sum() == 6


@pytest.mark.parametrize("k,s", list(itertools.product([2, 3, 4, 5, 6], [1, 2, 3])))
def test_overlap_uniform_iff_kernel_divisible_by_stride(lesson, k, s):
    cnt = lesson["overlap_count"](8, k, s)
    inner = cnt[k:-k, k:-k]
    assert cnt.shape == (7 * s + k, 7 * s + k)
    assert (inner.min() == inner.max()) == (k % s == 0)
    if k % s == 0:
        assert inner.max().item() == (k // s) ** 2


def test_bilinear_init_keeps_constants_and_matches_interpolate(lesson):
    layer = lesson["bilinear_init"](nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1, bias=False))
    with torch.no_grad():
        flat = layer(torch.ones(1, 2, 6, 6))
        x = torch.randn(1, 2, 6, 6)
        up = layer(x)
    assert torch.allclose(flat[..., 1:-1, 1:-1], torch.ones_like(flat[..., 1:-1, 1:-1]))
    ref = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    assert torch.allclose(up[..., 1:-1, 1:-1], ref[..., 1:-1, 1:-1], atol=1e-5)  # 가장자리만 다름
