"""The Makefile's targets expand to the commands the README promises (``make -n``: nothing runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Under `make test` this runs inside make: drop the parent's flags so the dry run prints only commands.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_report_runs_the_report_and_nothing_else():
    out = _dry_run("report")
    assert "rnn-parity report --examples 100 --seed 7" in out and "pip install" not in out


def test_make_report_with_exports_installs_the_extras_first():
    lines = _dry_run("report", "EXPORTS=onnx,litert").splitlines()
    assert lines[0].endswith("pip install --quiet -e '.[test,onnx,litert]'"), lines
    assert lines[1].endswith("--exports onnx,litert"), lines


@pytest.mark.parametrize("target", ["test", "report-check", "bench", "docs", "test-exports", "test-backends"])
def test_every_documented_target_expands(target):
    assert _dry_run(target).strip()
