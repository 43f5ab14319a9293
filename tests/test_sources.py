"""course_utils.sources와 명령줄: 분류 데이터 찾기(어떤 구조든), 상태 표(잘못된 폴더와 주석 파일에도 멈추지 않음)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from test_data import LAYOUTS, _build, _class_dirs

from course_utils import data as cdata
from course_utils import sources as csources
from course_utils.__main__ import main as cli


@pytest.fixture(autouse=True)
def _no_env_paths(monkeypatch):
    monkeypatch.delenv(csources.DOGS_VAR, raising=False)
    monkeypatch.delenv(csources.PETS_VAR, raising=False)


def _env(tmp_path: Path, quick: bool, offline: bool = True) -> SimpleNamespace:
    return SimpleNamespace(data_dir=tmp_path / "data", quick=quick, offline=offline, seed=42)


def test_quick_mode_is_synthetic_and_announced(tmp_path, capsys):
    (tmp_path / "data" / "dogs-vs-cats" / "Cat").mkdir(parents=True)  # 진짜 데이터가 있어도 빠른 모드는 합성
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=True), n_per_class=6, size=64)
    out = capsys.readouterr().out
    assert src.kind == "synthetic" and "[합성 데이터]" in out and "진짜 개/고양이 사진의 성능이 아닙니다" in out
    assert src.root.is_relative_to(tmp_path / "data" / "synthetic")
    index = cdata.index_images(src)  # DataSource는 경로처럼 씁니다
    assert index.class_counts() == {"Cat": 6, "Dog": 6} and index.n_skipped == 0


@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_given_folder_of_any_layout_is_found(kind, tmp_path, monkeypatch, capsys):
    _build(kind, tmp_path / "mine")
    monkeypatch.setenv(csources.DOGS_VAR, str(tmp_path / "mine"))
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=True))  # 직접 준 경로는 빠른 모드에서도 씁니다
    out = capsys.readouterr().out
    assert src.kind == "user" and "환경 변수 COURSE_DOGS_VS_CATS로 준" in out and src.layout.describe() in out
    assert cdata.index_images(src).classes == LAYOUTS[kind][0]


def test_given_folder_that_cannot_be_read_says_where_it_came_from(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="인자로 준 경로를 쓸 수 없습니다.*폴더가 없습니다"):
        csources.find_dogs_vs_cats(_env(tmp_path, quick=True), path=tmp_path / "nowhere")
    _class_dirs(tmp_path / "one", ["Cat"])
    monkeypatch.setenv(csources.DOGS_VAR, str(tmp_path / "one"))
    with pytest.raises(cdata.DataFolderError, match="(?s)환경 변수 COURSE_DOGS_VS_CATS.*Cat/ 하나뿐"):
        csources.find_dogs_vs_cats(_env(tmp_path, quick=True))


def test_full_mode_uses_any_local_layout_and_explains_a_broken_one(tmp_path, capsys):
    local = tmp_path / "data" / "dogs-vs-cats"
    _class_dirs(local, ["Cat"])  # 한 클래스뿐인 폴더: 쓰지 않고 이유를 알림
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=False), n_per_class=3, size=64)
    out = capsys.readouterr().out
    assert src.kind == "synthetic" and "있지만 쓸 수 없습니다" in out and "하나뿐" in out
    assert "PetImages" in out  # 손으로 받는 방법 안내
    _build("keras train/test", local)  # Keras 구조(train/cats, test/cats ...)를 넣으면 그것을 씁니다
    for p in (local / "Cat").iterdir():
        p.unlink()
    (local / "Cat").rmdir()
    src = csources.find_dogs_vs_cats(_env(tmp_path, quick=False))
    assert src.kind == "local" and src.layout.splits == ["train", "test"]


def test_status_never_crashes_on_a_bad_folder_or_annotation_file(tmp_path, monkeypatch):
    rows = csources.dataset_status(_env(tmp_path, quick=True))
    assert [r["present"] for r in rows] == [False, False, False] and all(r["problem"] == "" for r in rows)
    pets = tmp_path / "data" / "oxford-pets"
    pets.mkdir(parents=True)
    for bad in ('{"images": [', "[1, 2]", '{"annotations": []}'):  # 문법 오류, 객체가 아님, images 없음
        (pets / "instances.json").write_text(bad)
        row = csources.dataset_status(_env(tmp_path, quick=True))[1]
        assert row["present"] is False and "주석 파일을 읽을 수 없습니다" in row["problem"]
    (pets / "instances.json").write_bytes(b'\xef\xbb\xbf{"images": [{"id": 1}], "annotations": [], "categories": []}')
    assert csources.dataset_status(_env(tmp_path, quick=True))[1]["n_images"] == 1  # 메모장의 BOM은 읽습니다
    _class_dirs(tmp_path / "one", ["Cat"])
    monkeypatch.setenv(csources.DOGS_VAR, str(tmp_path / "one"))
    row = csources.dataset_status(_env(tmp_path, quick=True))[0]
    assert row["present"] is False and "하나뿐" in row["problem"]
    monkeypatch.setenv(csources.DOGS_VAR, str(tmp_path / "nowhere"))
    assert "폴더가 없습니다" in csources.dataset_status(_env(tmp_path, quick=True))[0]["problem"]
    _build("kaggle flat", tmp_path / "kaggle")
    monkeypatch.setenv(csources.DOGS_VAR, str(tmp_path / "kaggle"))
    row = csources.dataset_status(_env(tmp_path, quick=True))[0]
    assert row["present"] and row["n_images"] == 12 and row["path"] == str(tmp_path / "kaggle" / "train")


def test_cli_check_and_status(tmp_path, capsys):
    _build("train/val/test", tmp_path / "good")
    assert cli(["check", str(tmp_path / "good")]) == 0
    assert "나뉜 폴더 train/, val/, test/" in capsys.readouterr().out
    _class_dirs(tmp_path / "bad", ["Cat"])
    assert cli(["check", str(tmp_path / "bad")]) == 1
    assert "하나뿐" in capsys.readouterr().err
    (tmp_path / "data" / "oxford-pets").mkdir(parents=True)
    (tmp_path / "data" / "oxford-pets" / "instances.json").write_text("{")
    assert cli(["--data-dir", str(tmp_path / "data"), "status"]) == 0
    assert "문제: " in capsys.readouterr().out


@pytest.mark.parametrize("finder", ["find_dogs_vs_cats", "find_pets"])
def test_synthetic_data_in_a_folder_that_cannot_be_written_gets_a_korean_message(finder, tmp_path):
    """데이터 폴더에 쓸 수 없으면(여기서는 폴더 자리에 파일이 있음) 날것의 OSError가 아니라 무엇을 할지 알려 줍니다."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    env = SimpleNamespace(data_dir=blocker / "data", quick=True, offline=True, seed=42)
    with pytest.raises(csources.dl.DownloadError, match="COURSE_DATA"):
        getattr(csources, finder)(env, size=64)
