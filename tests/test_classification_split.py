"""분류 트랙(03-08)의 나누기 약속: 04-08은 03이 정한 course_split 하나를 같은 인자로 부르고, 자기 장수를 두지 않습니다.

그리고 따로 둔 평가 세트(heldout_items)는 나누기의 어느 사진과도 겹치지 않습니다.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils.data import course_split, heldout_items, index_images, split_items
from course_utils.evaluation import comparison_table, confusion_matrix

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CLASSIFICATION = ["04_lenet5", "05_alexnet", "06_vggnet", "07_googlenet", "08_resnet"]


def _code(name: str) -> str:
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_notebook_uses_the_one_course_split(name):
    code = _code(name)
    calls = re.findall(r"course_split\(([^)]*)\)", re.sub(r"#[^\n]*", "", code))  # 주석 속 설명은 빼고
    assert calls == ["index"], f"{name}: course_split(index)를 한 번, 인자 없이 불러야 합니다: {calls}"
    assert "split_items(" not in code, f"{name}: 자기 나누기(split_items)를 따로 부릅니다"
    for knob in ("n_train", "n_val", "n_test"):
        assert not re.search(rf"\b{knob}\s*=", code), f"{name}: 설정 셀에 자기 나누기 장수 {knob}가 있습니다"
    assert "heldout_items(index, cfg.n_heldout" in code


def _built_with(code: str, name: str) -> list[str]:
    """`name = Model(...)` 꼴로 name을 만드는 줄들 (모델 생성자나 make_*/replace_classifier 호출만)."""
    return re.findall(rf"^\s*{name}\s*=\s*((?:[A-Z]\w*|make_\w+|replace_classifier)\(.*)$", code, re.M)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_trained_models_take_the_class_count_from_the_folder(name):
    """내 사진 폴더의 클래스가 셋이면 학습하는 모델의 출력도 셋이어야 합니다: 데이터를 읽은 뒤에는 2를 박아 두지 않습니다."""
    code = re.sub(r"#[^\n]*", "", _code(name))
    _, found, after = code.partition("index = index_images(source.root)\n")
    assert found and after.startswith("n_classes = len(index.classes)"), f"{name}: 데이터를 읽은 뒤 n_classes를 정해야 합니다"
    trained = set(re.findall(r"\b(?:fit|heldout_predictions|heldout_report)\((\w+)", after))
    lines = [line for var in trained for line in _built_with(after, var)]
    for factory in set(re.findall(r"train_with_lr\((\w+)", after)):  # def make_x(): return Model(...)
        lines += re.findall(rf"def {factory}\(\):\n\s+return (.*)", after)
    assert lines, f"{name}: 학습하는 모델을 만드는 줄을 찾지 못했습니다"
    fixed = [line for line in lines if "n_classes" not in line and not re.fullmatch(r"make_\w+\(\)", line.strip())]
    assert not fixed, f"{name}: 클래스 수를 폴더에서 받지 않고 만드는 모델: {fixed}"


def test_03_states_the_split_the_others_use():
    code = _code("03_dogs_vs_cats_data")
    assert "course_split(index" in code
    assert re.search(r"n_train=400, n_val=92, n_test=10", code)


def _folder(tmp_path: Path, n_per_class: int) -> Path:
    from PIL import Image
    for cls, color in (("Cat", (200, 50, 50)), ("Dog", (50, 50, 200))):
        (tmp_path / cls).mkdir()
        for i in range(n_per_class):
            Image.new("RGB", (16, 16), color).save(tmp_path / cls / f"{cls.lower()}.{i}.jpg")
    return tmp_path


def test_heldout_is_disjoint_from_the_split_and_seeded(tmp_path):
    index = index_images(_folder(tmp_path, 300))
    split = course_split(index)
    assert [len(s) for s in split] == [400, 92, 10]
    assert split == split_items(index.items, 400, 92, 10, seed=42)  # 교재와 같은 나누기
    held = heldout_items(index, 50)
    used = {p for s in split for p, _ in s}
    assert len(held) == 50 and not {p for p, _ in held} & used
    assert held == heldout_items(index, 50) and held != heldout_items(index, 50, seed=7)
    assert len(heldout_items(index, 10_000)) == 600 - 502  # 남은 사진 전부까지만


def test_heldout_empty_when_nothing_is_left(tmp_path):
    index = index_images(_folder(tmp_path, 251))  # 교재처럼 502장
    assert heldout_items(index, 2000) == []


def test_confusion_matrix_counts_rows_as_truth():
    cm = confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2)
    assert cm.tolist() == [[1, 1], [1, 2]] and np.trace(cm) == 3
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], 2)


def test_comparison_table_keeps_missing_as_nan():
    table = comparison_table({"교재": {"최고 검증": 0.64, "따로 둔 사진": float("nan")},
                              "고친": {"최고 검증": 0.7, "따로 둔 사진": 0.68}})
    assert list(table.index) == ["교재", "고친"] and pd.isna(table.loc["교재", "따로 둔 사진"])


def test_heldout_report_predicts_prints_and_draws_both_figures(tmp_path, capsys):
    """05-08이 쓰는 heldout_report: 04의 손 평가와 같은 표, 정확도 한 줄, 혼동 행렬과 틀린 사진 그림 두 장."""
    import matplotlib.pyplot as plt
    import torch
    from torch import nn

    from course_utils.evaluation import heldout_predictions, heldout_report
    from course_utils.transforms import ImageTransform

    index = index_images(_folder(tmp_path, 260))
    items = heldout_items(index, 12)
    transform = ImageTransform(32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    plt.close("all")
    res = heldout_report(model, items, transform, torch.device("cpu"), index.classes, best_val=0.7, val_size=92)
    expected = heldout_predictions(model, items, transform, torch.device("cpu"), index.classes)
    assert res[["true", "label", "correct"]].equals(expected[["true", "label", "correct"]])
    out = capsys.readouterr().out
    assert f"따로 둔 {len(items)}장의 정확도 {res['correct'].mean():.3f}" in out and "검증 92장" in out
    n_figs = len(plt.get_fignums())
    assert n_figs == (2 if (~res["correct"]).any() else 1)
    plt.close("all")


def test_show_comparison_draws_one_labelled_row_per_run_in_table_order():
    """가로 막대: 긴 실험 이름이 겹치지 않게 줄마다 왼쪽에, 표와 같은 순서로. 막대 길이가 표의 값."""
    import matplotlib.pyplot as plt

    from course_utils.evaluation import show_comparison

    table = comparison_table({"교재 코드 (SGD lr=0.001, 10에폭)": {"최고 검증": 0.54, "따로 둔 사진": 0.50},
                              "작은 AlexNet (64px, 150에폭, 마지막 에폭)": {"최고 검증": 0.79, "따로 둔 사진": float("nan")}})
    fig = show_comparison(table, title="t")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(table.index)
    widths = [round(p.get_width(), 3) for p in ax.patches]
    assert widths == [0.54, 0.79, 0.50, 0.0]  # 열마다(최고 검증, 따로 둔 사진) 줄 순서로; 빈칸은 길이 0
    ys = [t.get_position()[1] for t in ax.get_yticklabels()]
    assert ax.yaxis_inverted() and ys == sorted(ys)  # 첫 줄이 맨 위
    plt.close(fig)


def test_evaluation_figures_draw_hangul_without_missing_glyphs():
    """혼동 행렬과 비교 그림은 한글 제목과 이름을 그립니다: 글꼴을 스스로 등록해 네모(빠진 글리프)로 깨지지 않습니다."""
    import warnings

    import matplotlib.pyplot as plt

    from course_utils.evaluation import show_comparison, show_confusion_matrix

    table = comparison_table({"교재 코드": {"최고 검증": 0.5, "따로 둔 사진": 0.5}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # 'Glyph ... missing from font(s)'는 UserWarning
        for fig in (show_confusion_matrix(np.array([[3, 1], [0, 4]]), ["고양이", "개"]), show_comparison(table)):
            fig.canvas.draw()
            plt.close(fig)
