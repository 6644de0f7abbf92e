"""The backends group: needs the jax/torch/keras2 extras (`make test-backends` installs them).

Every test here is marked ``backends`` (excluded from `make test` by pyproject's addopts) and
runs each target in a subprocess: Keras fixes its backend at import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.target import targets

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/backends/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.backends)


def need(name: str) -> None:
    if not targets.installed(name):
        pytest.skip(f"{name} is not installed ({targets.get(name).install_hint()})")


def run_json(*args: str, timeout: float = 600) -> dict:
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rnn_parity(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)
