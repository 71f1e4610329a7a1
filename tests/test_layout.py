"""The layout's rules (README "Layout"): the import-linter contracts in pyproject.toml hold, they
fail when a room imports upwards, nothing inside cells/ imports the facade, and the facade still
gives every public name."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cells

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the packages under ``root`` with ``root``'s pyproject.toml."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": ""}, capture_output=True, text=True,
                          timeout=300)


def test_the_contracts_hold():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.fixture(scope="module")
def copy_of_the_code(tmp_path_factory) -> Path:
    """cells/ and app/ (code only) and pyproject.toml in a scratch folder, to break on purpose."""
    root = tmp_path_factory.mktemp("layout")
    for package in ("cells", "app"):
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("static", "*_data", "__pycache__", "*.png"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("cells/core/lstm.py", "from cells.models import reader", "The engine's rooms import downwards only"),
    ("cells/music/notation.py", "from cells.core import cell", "The engine's rooms import downwards only"),
    ("cells/io/npz.py", "import cells.train.trainer", "The engine's rooms import downwards only"),
    ("cells/models/reader.py", "import app.view.state", "The engine never imports the app"),
    ("cells/core/cell.py", "import plotly", "The engine is NumPy"),
    ("app/compute/models.py", "from app.widgets import page", "The app's rooms import downwards only"),
    ("app/charts/base.py", "import streamlit", "Chart builders and the view state are pure"),
    ("app/view/state.py", "from app.compute import models", "The app's rooms import downwards only"),
])
def test_an_upward_import_breaks_a_contract(copy_of_the_code, module, line, contract):
    path = copy_of_the_code / module
    original = path.read_text()
    path.write_text(original + f"\n\ndef _planted():\n    {line}\n")  # a lazy import counts too
    try:
        run = lint_imports(copy_of_the_code)
    finally:
        path.write_text(original)
    assert run.returncode != 0
    broken = [ln for ln in run.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(ln.startswith(contract) for ln in broken), run.stdout[-3000:]


def facade_imports(path: Path) -> list[str]:
    """The imports in ``path`` that reach the ``cells`` facade itself (cells/__init__.py) rather
    than a room: ``import cells`` or ``from cells import <a name that is not a room>``."""
    rooms = {p.name for p in (ROOT / "cells").iterdir() if (p / "__init__.py").exists()}
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name == "cells" for a in node.names):
            found.append(ast.unparse(node))
        if isinstance(node, ast.ImportFrom) and node.module == "cells" and node.level == 0 \
                and any(a.name not in rooms for a in node.names):
            found.append(ast.unparse(node))
    return found


def test_nothing_inside_the_engine_imports_its_facade():
    inside = [p for p in (ROOT / "cells").rglob("*.py") if p != ROOT / "cells" / "__init__.py"]
    offenders = {str(p.relative_to(ROOT)): facade_imports(p) for p in inside}
    assert {k: v for k, v in offenders.items() if v} == {}
    planted = ROOT / "cells" / "core" / "cell.py"
    assert facade_imports(planted) == []  # and the check sees one when there is one:
    assert facade_imports(Path(__file__)) == ["import cells"]


def test_the_facade_gives_every_public_name():
    assert sorted(cells.__all__) == sorted(set(cells.__all__))
    missing = [name for name in cells.__all__ if not hasattr(cells, name)]
    assert missing == []
    for name in ("make_cell", "init_params", "read_model", "pretrained", "jacobian_norms", "CELLS",
                 "Reader", "train_task", "save_model", "load", "save"):
        assert name in cells.__all__
