"""course_utils 패키지: 안내문이 모든 모듈을 말하고, 모듈마다 __all__이 실제로 있는 이름만 내보내는지."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def test_package_docstring_names_every_module():
    doc = course_utils.__doc__
    missing = [m for m in MODULES if m not in doc]
    assert not missing, f"course_utils/__init__.py 안내문에 없는 모듈: {missing}"


@pytest.mark.parametrize("name", [m for m in MODULES if m != "__main__"])
def test_module_all_lists_existing_public_names(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    assert any(isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in n.targets)
               for n in tree.body), f"{name}.py에 __all__이 없습니다"
    module = importlib.import_module(f"course_utils.{name}")
    assert not [n for n in module.__all__ if not hasattr(module, n)]
    assert len(set(module.__all__)) == len(module.__all__)
