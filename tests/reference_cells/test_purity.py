"""reference_cells/ is the oracle: pure NumPy, never Keras or TensorFlow.

Two checks, so that neither an import hidden in a function nor one pulled in
indirectly slips through: every module's source is parsed for imports, and a
fresh interpreter imports the package and must not have loaded any of them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "reference_cells"
FORBIDDEN = ("keras", "tensorflow", "tf_keras", "jax", "torch", "harness")
ALLOWED_THIRD_PARTY = {"numpy", "ml_dtypes"}  # ml_dtypes: the bfloat16 dtype (a NumPy extension)
MODULES = sorted(PACKAGE.glob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_package_has_modules():
    assert len(MODULES) >= 6  # guards against the glob silently matching nothing


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_imports_only_numpy_and_stdlib(path: Path) -> None:
    imported = _imports(path)
    third_party = imported - set(sys.stdlib_module_names) - {"reference_cells", "__future__"}
    assert not (imported & set(FORBIDDEN)), f"{path.name} imports {sorted(imported & set(FORBIDDEN))}"
    assert third_party <= ALLOWED_THIRD_PARTY, f"{path.name} imports {sorted(third_party - ALLOWED_THIRD_PARTY)}"


def test_importing_the_package_loads_no_framework() -> None:
    code = (
        "import sys, reference_cells, reference_cells.activations;"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "", f"importing reference_cells loaded: {out.stdout.strip()}"


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    import tensorflow as tf\n    return tf\n")
    assert "tensorflow" in _imports(bad)
