"""Writing result files atomically, with provenance.

A file is written to a temporary name in the same directory and renamed into
place, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(frame: Any, path: Path) -> Path:
    """Write a pandas DataFrame as CSV (no index), atomically."""
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def write_json(data: Any, path: Path) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(**extra: Any) -> dict[str, Any]:
    """Versions, machine, commit and time of a run, plus ``extra`` (seed, profile...; ``versions``
    given: those of the process that ran the cases, e.g. a Dask worker's, not this one's)."""
    from harness.target.keras_env import versions

    ran = extra.pop("versions", None)
    return {
        "versions": ran if ran is not None else versions(),
        "git_commit": git_commit(),
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "host": socket.gethostname(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        **extra,
    }
