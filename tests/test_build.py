"""결과 기록, 결과 표, README 자리 표시, 노트북 고르기, 빌드 폴더, 읽기용 HTML의 재료."""
from __future__ import annotations

import json
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils import book, build
from course_utils.execute import NotebookError
from course_utils.record import RESULTS_VAR, format_data, load_records, record_result, results_dir
from course_utils.setup import setup


@pytest.fixture
def env():
    return setup(seed=0, device="cpu", quiet=True)


def test_record_result_writes_one_json_with_run_info(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(RESULTS_VAR, str(tmp_path))
    env.started -= 12.0  # setup()이 12초 전에 불렸다고 칩니다
    returned = record_result(env, "04_lenet5", metrics={"val_acc": 0.71234, "test_acc": 0.8}, baseline={"교재의 저장된 결과": 0.64},
                             data={"kind": "local", "images": 20000, "split": "400/92/10"})
    assert returned is None  # 노트북 마지막 셀에서 기록 사전이 출력으로 한 번 더 찍히지 않게
    saved = json.loads((tmp_path / "04_lenet5.json").read_text(encoding="utf-8"))
    assert saved["metrics"] == {"val_acc": 0.7123, "test_acc": 0.8}
    assert saved["baseline"] == {"교재의 저장된 결과": 0.64}
    assert saved["mode"] == env.mode and saved["device"] == "cpu" and saved["torch"]
    assert 12.0 <= saved["wall_s"] < 60
    assert load_records(tmp_path)["04_lenet5"] == saved
    line = capsys.readouterr().out
    assert "최고 검증 정확도 0.712" in line and "실제 사진 20,000장 (400/92/10)" in line
    assert not list(tmp_path.glob("*.tmp"))  # 임시 파일이 남지 않습니다


def test_record_result_rejects_unknown_data_kind_in_korean(env, tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_VAR, str(tmp_path))
    with pytest.raises(ValueError, match="source.kind"):
        record_result(env, "04_lenet5", {"val_acc": 0.5}, data={"kind": "photos"})
    assert not list(tmp_path.iterdir())


def test_results_go_under_the_ignored_build_folder_by_default(monkeypatch):
    monkeypatch.delenv(RESULTS_VAR, raising=False)
    assert results_dir("quick") == build.REPO / "build" / "quick" / "results"
    assert format_data({"kind": "synthetic", "images": 160}) == "합성 데이터 160장"


def _row(name, wall_s, record=None):
    return {"notebook": name, "title": "제목", "mode": "quick", "wall_s": wall_s, "device": "cpu",
            "device_name": "CPU x86_64, 스레드 2", "torch": "2.14.1", "finished": "2026-12-02T10:00:00",
            "record": record}


def test_results_table_says_mode_data_device_and_times():
    record = {"metrics": {"miou": 0.7391}, "baseline": {"모두 배경 mIoU": 0.427},
              "data": {"kind": "synthetic", "images": 160}}
    table = build.results_table([_row("00_setup", 11.4), _row("13_fcn", 95.0, record)])
    assert "빠른 모드" in table and "2026-12-02" in table and "CPU x86_64, 스레드 2" in table and "torch 2.14.1" in table
    assert "| `13_fcn` 제목 | 합성 데이터 160장 | mIoU 0.739 | 모두 배경 mIoU 0.427 | 1분 35초 |" in table
    assert "| `00_setup` 제목 | — | — | — | 11초 |" in table
    assert "1분 46초" in table  # 두 노트북 시간의 합
    assert "실제 사진의 성능이 아닙니다" in table
    assert "기록이 없는" not in table  # 기대한 노트북을 주지 않으면 빠진 것도 없습니다


def test_results_table_names_the_notebooks_not_yet_run():
    table = build.results_table([_row("00_setup", 11.4)], expected=["00_setup", "05_alexnet", "13_fcn"])
    assert "기록이 없는 노트북 2개: `05_alexnet`, `13_fcn`." in table
    assert "노트북 1개를 차례로 실행한 시간의 합: 11초." in table


def test_update_readme_replaces_only_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# 제목\n## 측정한 결과\n<!-- results:start -->\n손으로 친 표\n<!-- results:end -->\n끝\n",
                      encoding="utf-8")
    build.update_readme("| 새 표 |\n", readme)
    assert readme.read_text(encoding="utf-8") == (
        "# 제목\n## 측정한 결과\n<!-- results:start -->\n| 새 표 |\n<!-- results:end -->\n끝\n")
    readme.write_text("표시 없음\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="results:start"):
        build.update_readme("| 새 표 |\n", readme)


def test_select_notebooks_by_number_or_name_in_course_order():
    chosen = build.select_notebooks(["13_fcn", "04"])
    assert [p.stem for p in chosen] == ["04_lenet5", "13_fcn"]
    assert len(build.select_notebooks()) == len(list(build.NOTEBOOK_DIR.glob("*.ipynb")))
    with pytest.raises(SystemExit, match="'99'"):
        build.select_notebooks(["99"])


def test_run_one_keeps_copies_of_finished_notebooks_and_drops_stale_ones(tmp_path):
    path, out = tmp_path / "01_tiny.ipynb", tmp_path / "out"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 01. 작은 노트북"), new_code_cell("print('좋아요')")]), path)
    build.run_one(path, out, quick=True, timeout=60)
    copy = nbformat.read(out / "notebooks" / path.name, as_version=4)
    assert copy.cells[1].outputs[0]["text"] == "좋아요\n"
    assert copy.metadata["course_run"]["mode"] == "quick" and copy.metadata["course_run"]["wall_s"] > 0
    assert build.is_done(path, out)
    nbformat.write(new_notebook(cells=[new_code_cell("import warnings; warnings.warn('x')")]), path)
    later = time.time() + 10
    os.utime(path, (later, later))
    assert not build.is_done(path, out)  # 노트북이 바뀌면 다시 실행합니다
    with pytest.raises(NotebookError):
        build.run_one(path, out, quick=True, timeout=60)
    assert not (out / "notebooks" / path.name).exists() and (out / "failed" / path.name).exists()


def test_book_toc_groups_notebooks_by_track():
    toc = book.toc(["00_setup", "04_lenet5", "08_resnet", "13_fcn"])
    assert 'caption: "기초 (00-02)"' in toc and 'caption: "분할 (13-17)"' in toc and "검출" not in toc
    assert toc.index("notebooks/04_lenet5") < toc.index("notebooks/08_resnet") < toc.index("분할")


def test_web_font_has_hangul_and_no_tables_browsers_reject(tmp_path):
    from fontTools.ttLib import TTFont

    font = TTFont(book.write_web_font(tmp_path / "NanumGothic.woff"))
    assert font.flavor == "woff" and not [t for t in font.keys() if t.startswith("TSI")]
    assert ord("한") in font.getBestCmap() and ord("A") in font.getBestCmap()


def test_book_math_loads_mathjax_from_the_build_not_a_cdn(tmp_path):
    pytest.importorskip("jupyter_server_mathjax")
    yaml = pytest.importorskip("yaml")
    sphinx = yaml.safe_load(book.CONFIG)["sphinx"]["config"]
    assert "://" not in sphinx["mathjax_path"]
    book.copy_mathjax(tmp_path)
    # Sphinx는 mathjax_path를 _static 기준으로 읽고, html_extra_path 폴더의 내용은 HTML 맨 위에 놓습니다.
    html = tmp_path / "html"
    (html / "_static").mkdir(parents=True)
    for extra in sphinx["html_extra_path"]:
        for item in (tmp_path / extra).iterdir():
            (html / item.name).symlink_to(item)
    script = (html / "_static" / sphinx["mathjax_path"].split("?")[0]).resolve()
    assert script.name == "MathJax.js" and script.is_file()
    config = sphinx["mathjax_path"].split("config=")[1]
    assert (script.parent / "config" / f"{config}.js").is_file()
    assert (script.parent / "fonts" / "HTML-CSS" / sphinx["mathjax2_config"]["HTML-CSS"]["webFont"]).is_dir()


def test_prep_time_line_is_rewritten_from_build_records(tmp_path):
    from course_utils import prep_times

    data = {"kind": "local", "images": 20000, "split": "400/92/10"}
    rows = [dict(_row("04_lenet5", 723.0, {"data": data}), mode="full"),
            dict(_row("04_lenet5", 90.0, {"data": data}), mode="full", device_name="NVIDIA H200"),
            _row("04_lenet5", 35.0, {"data": {"kind": "synthetic", "images": 520}})]
    line = prep_times.time_line(rows)
    assert line == ("- 시간(강의 빌드로 잰 노트북 전체 시간): 전체 모드는 CPU 2스레드에서 12분 3초, NVIDIA H200에서 1분 30초 "
                    "(실제 사진 20,000장, 나누기 400/92/10), 빠른 모드는 CPU 2스레드에서 35초 (합성 데이터 520장).")
    path = tmp_path / "04_lenet5.ipynb"
    title = "# 04. 제목\n\n## 준비물\n- 데이터: 사진\n- 시간: CPU 10~40분,\n  GPU 2~3분(추정).\n- 먼저 03을 보세요."
    nbformat.write(new_notebook(cells=[new_markdown_cell(title)]), path)
    assert prep_times.rewrite(path, line)
    assert nbformat.read(path, as_version=4).cells[0].source == (
        f"# 04. 제목\n\n## 준비물\n- 데이터: 사진\n{line}\n- 먼저 03을 보세요.")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 04. 시간 항목 없음")]), path)
    assert not prep_times.rewrite(path, line)


def test_prep_times_keeps_a_notebook_with_no_full_mode_record(tmp_path, monkeypatch, capsys):
    from course_utils import prep_times

    monkeypatch.setattr(prep_times, "NOTEBOOK_DIR", tmp_path)
    title = "# 제목\n\n## 준비물\n- 시간: 전체 모드 CPU 약 20분(추정)."
    for name in ("04_lenet5", "12_faster_rcnn"):
        nbformat.write(new_notebook(cells=[new_markdown_cell(title)]), tmp_path / f"{name}.ipynb")
    results = tmp_path / "results.json"
    results.write_text(json.dumps([dict(_row("04_lenet5", 723.0), mode="full"), _row("12_faster_rcnn", 35.0)]),
                       encoding="utf-8")
    assert prep_times.main([str(results)]) == 0
    assert "12분 3초" in nbformat.read(tmp_path / "04_lenet5.ipynb", as_version=4).cells[0].source
    assert nbformat.read(tmp_path / "12_faster_rcnn.ipynb", as_version=4).cells[0].source == title  # 추정이 빠른 모드 시간만으로 바뀌지 않음
    assert "12_faster_rcnn: 전체 모드로 잰 기록이 없어 그대로 둡니다" in capsys.readouterr().out


def test_every_metric_a_notebook_records_has_a_korean_name():
    import re
    from pathlib import Path

    from course_utils.record import METRIC_NAMES

    keys = set()
    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            call = re.search(r"record_result\(.*?metrics=dict\((.*?)\),\s*\n", cell.source, re.S)
            if cell.cell_type == "code" and call:
                keys |= set(re.findall(r"(\w+)=", call.group(1)))
    assert {"val_acc", "heldout_acc", "map50", "miou"} <= keys  # 찾는 방법이 실제로 기록 호출을 읽었는지
    assert keys <= set(METRIC_NAMES), f"결과 표에 영어 키로 나올 지표: {sorted(keys - set(METRIC_NAMES))}"


def test_readme_results_section_is_the_table_of_the_committed_record():
    kept = build.load_kept()
    assert kept, "results/full.json이 없습니다"
    assert all(row["mode"] == "full" for row in kept.values())
    table = build.results_table(list(kept.values()), expected=[p.stem for p in build.select_notebooks()])
    text = build.README.read_text(encoding="utf-8")
    start, end = (text.index(m) for m in build.MARKERS)
    assert text[start + len(build.MARKERS[0]):end].strip() == table.strip()


def test_collect_rows_fills_notebooks_not_run_here_from_the_kept_record(tmp_path):
    out = tmp_path / "full"
    fresh = new_notebook(cells=[new_markdown_cell("# 13. FCN: 완전 합성곱")])
    fresh.metadata["course_run"] = {"wall_s": 60.0, "mode": "full", "device": "cpu", "torch": "2.14.1",
                                    "device_name": "CPU x86_64, 스레드 2", "finished": "2026-12-03T10:00:00"}
    (out / "notebooks").mkdir(parents=True)
    nbformat.write(fresh, out / "notebooks" / "13_fcn.ipynb")
    kept = {"13_fcn": {**_row("13_fcn", 999.0), "mode": "full"}, "04_lenet5": {**_row("04_lenet5", 500.0), "mode": "full"},
            "99_gone": _row("99_gone", 1.0)}
    rows = build.collect_rows(out, kept)
    assert [(r["notebook"], r["wall_s"]) for r in rows] == [("04_lenet5", 500.0), ("13_fcn", 60.0)]
    assert rows[1]["title"] == "FCN"  # 새로 실행한 실행본이 커밋한 기록보다 앞섭니다
    assert [r["notebook"] for r in build.collect_rows(out)] == ["13_fcn"]


def test_readme_flag_refuses_quick_mode():
    with pytest.raises(SystemExit, match="전체 모드"):
        build.main(["--quick", "--readme", "--no-execute"])
