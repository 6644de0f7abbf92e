"""The package layout shows the pipeline: subpackages in dependency order, no import circles.

Order (a module may import from its own floor and the floors below it, never above):
``errors`` (and ``messages``) -> ``layers`` -> ``oracle`` -> ``ports`` -> ``target`` -> ``check`` / ``sweep``
-> ``reporting`` -> ``cli``, ``api``, ``pytest_plugin``. Checked on every import in a
module, function-level ones included, by reading the source (no module is imported).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "harness"
FLOORS = {"errors": 0, "messages": 0, "storage": 0, "layers": 1, "oracle": 2, "ports": 3, "target": 4, "check": 5, "sweep": 5,
          "reporting": 6, "docs_pages": 6, "exports": 4}
TOP = 7  # cli, api, pytest_plugin, __init__, __main__


def _module(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.get(parts[1], TOP) if len(parts) > 1 else TOP


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("harness")}
    return found


MODULES = {_module(p): _imports(p) for p in sorted(HARNESS.rglob("*.py"))}


def test_every_subpackage_says_what_it_owns():
    for init in HARNESS.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 20, f"{init.parent.name}/__init__.py needs a paragraph saying what it owns"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down_the_pipeline(module):
    up = sorted(m for m in MODULES[module] if _floor(m) > _floor(module))
    assert not up, f"{module} (floor {_floor(module)}) imports from a later stage: {', '.join(up)}"


def test_no_import_circles():
    graph = {m: {i for i in deps if i in MODULES and i != m} for m, deps in MODULES.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = path[path.index(n):] + [n]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_word_family_is_gone_from_the_code():
    for path in HARNESS.rglob("*.py"):
        text = path.read_text().lower()
        assert "family" not in text.replace("font-family", ""), f"{path.relative_to(HARNESS.parent)} says 'family'"


def test_the_pytest_plugin_imports_almost_nothing():
    code = ("import sys, harness.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith('harness')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(loaded) == ["harness", "harness.pytest_plugin"], loaded  # noqa: S307 - our own printed list
    assert "keras" not in subprocess.run([sys.executable, "-c", code.replace("startswith('harness')",
                                                                             "startswith('keras')")],
                                         capture_output=True, text=True, check=True).stdout.replace("[]", "")
