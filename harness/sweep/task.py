"""One compile group as a unit of work for a worker process (local pool or Dask worker).

A worker keeps one :class:`~harness.target.runner.KerasRunner` for its whole
life, created on its first group, so a group's layer is built and traced once
where the whole group runs; every :data:`RELEASE_EVERY` groups it releases the
runner's traces (memory stays flat on long sweeps).
"""

from __future__ import annotations

from harness.sweep.parity import CaseOutcome, check_group
from harness.target.runner import KerasRunner

#: Compile groups between two ``KerasRunner.release()`` calls (keeps a long sweep's memory flat;
#: groups rarely share a trace, so little is lost).
RELEASE_EVERY = 16

# One runner per worker process, created on its first group (process-local, never shared).
_WORKER_RUNNERS: dict[str, object] = {}


def run_group(group: list) -> list[CaseOutcome]:
    """Worker task: check every case of one compile group with this process's runner."""
    runner = _WORKER_RUNNERS.get("runner")
    if runner is None:
        runner = _WORKER_RUNNERS["runner"] = KerasRunner()
    count = _WORKER_RUNNERS["groups"] = _WORKER_RUNNERS.get("groups", 0) + 1  # type: ignore[operator]
    if count % RELEASE_EVERY == 0:
        runner.release()  # type: ignore[attr-defined]
    return check_group(group, runner)  # type: ignore[arg-type]
