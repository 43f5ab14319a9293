"""pytest가 notebooks/*.ipynb를 모아, 노트북마다 새 커널에서 실행하고 셀 출력을 검사합니다.

`pytest notebooks` (make test)로 실행합니다. 실행과 검사는 강의 빌드와 같은 course_utils.build.run_one이
하므로, 통과한 노트북의 실행본과 기록은 build/<모드>/ 아래에 남고 읽기용 HTML이 그것을 다시 씁니다.
"""
from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"
pytest_plugins = ["pytester"]  # tests/test_execute.py가 이 플러그인 자체를 작은 노트북으로 시험합니다


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--notebook-timeout", type=int, default=600, help="노트북 셀 하나의 제한 시간(초)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".ipynb" and not parent.config.getoption("nbmake", default=False):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


class NotebookFile(pytest.File):
    def collect(self):
        from course_utils.setup import is_quick

        yield NotebookItem.from_parent(self, name="quick" if is_quick() else "full")


class NotebookItem(pytest.Item):
    """노트북 하나의 실행과 출력 검사. 강의 노트북이면 실행본을 build/<모드>/에 남깁니다."""

    def runtest(self) -> None:
        from course_utils.build import build_dir, run_one

        quick = self.name == "quick"
        out = build_dir(self.name) if self.path.parent == NOTEBOOK_DIR else None
        run_one(self.path, out, quick=quick, timeout=self.config.getoption("notebook_timeout"))

    def repr_failure(self, excinfo, style=None):
        from course_utils.execute import NotebookError

        if isinstance(excinfo.value, NotebookError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name} ({self.name})"
