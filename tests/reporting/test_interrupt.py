"""Ctrl-C during a sweep or a report: earlier runs stay intact, finished cases are written, marked incomplete.

The command runs in a child process that gets a real SIGINT once its progress bar
shows that some cases finished, as a user's Ctrl-C would arrive.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.keras


def _interrupt_after_progress(argv: list[str], *, cases_done: int = 3, deadline: float = 240.0) -> tuple[int, str]:
    """Run ``rnn-parity argv``; SIGINT once the progress bar shows ``cases_done`` finished cases."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks: list[bytes] = []
    # tqdm redraws with "\r", so read raw bytes as they come rather than lines.
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(proc.stderr.fileno(), 4096), b"")),
                              daemon=True)
    reader.start()
    start = time.monotonic()
    while time.monotonic() - start < deadline and proc.poll() is None:
        done = [int(n) for n in re.findall(rb"(\d+)/\d+ \[", b"".join(chunks))]
        if done and max(done) >= cases_done:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    out = proc.stdout.read().decode()
    proc.wait(timeout=deadline)
    reader.join(timeout=10)
    err = b"".join(chunks).decode(errors="replace")
    assert "Traceback" not in err, err
    return proc.returncode, out + err


def test_ctrl_c_during_report_keeps_earlier_runs_and_marks_the_new_one_incomplete(tmp_path: Path):
    root = tmp_path / "reports"
    # An earlier, complete run that must survive untouched.
    earlier = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--examples", "1", "--cells", "GRU",
                              "--no-cases", "--no-progress", "--out", str(root)], cwd=ROOT, capture_output=True, text=True)
    assert earlier.returncode == 0, earlier.stderr
    (first,) = [p for p in root.iterdir() if not p.name.startswith(".") and p.name != "latest"]
    before = {p: p.read_bytes() for p in first.rglob("*") if p.is_file()}

    code, output = _interrupt_after_progress(["report", "--examples", "40", "--cells", "LSTM", "--no-cases",
                                              "--seed", "3", "--out", str(root)])
    assert code == 130, output
    assert "incomplete" in output
    assert {p: p.read_bytes() for p in first.rglob("*") if p.is_file()} == before
    runs = sorted(p for p in root.iterdir() if not p.name.startswith(".") and p.name != "latest")
    assert len(runs) == 2 and not [p for p in root.iterdir() if p.name.endswith(".partial")]
    (second,) = [p for p in runs if p != first]
    assert (root / "latest").resolve() == second.resolve()
    provenance = json.loads((second / "provenance.json").read_text())
    assert provenance["complete"] is False
    cases = pd.read_csv(second / "cases.csv")
    assert 3 <= len(cases) < 40, "the finished cases are kept, the rest are not invented"
    assert set(cases.status) <= {"pass", "ill-conditioned"}
    assert "Incomplete run" in (second / "index.html").read_text()


def test_ctrl_c_during_sweep_writes_the_finished_cases_marked_incomplete(tmp_path: Path):
    out = tmp_path / "sweep"
    code, output = _interrupt_after_progress(["sweep", "--examples", "40", "--cells", "SimpleRNN", "--seed", "5",
                                              "--out", str(out)])
    assert code == 130, output
    assert "interrupted" in output
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["complete"] is False
    cases = pd.read_csv(out / "cases.csv")
    assert 3 <= len(cases) < 40
    records = pd.read_csv(out / "records.csv")
    assert set(records.case_id) == set(cases.case_id)
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary files left behind"
