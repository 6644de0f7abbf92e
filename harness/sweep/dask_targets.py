"""The matrix on Dask: a target's compile group runs in a child process that the Dask worker keeps for that target.

Keras fixes its backend when it is imported, and one Dask worker gets tasks of
every target, so the worker process imports no Keras at all. The first task of
target T on a worker starts ``python -m harness.sweep.dask_targets T``, which
selects T before anything imports Keras; later tasks of T on that worker reuse
it, with its Keras runner and traces (:func:`harness.sweep.task.run_group`, what
every sweep worker runs). Groups go down the child's stdin and outcomes come back
on its stdout, pickled; the outcomes stay bytes on the worker (so it needs no
Keras to hand them on) and the client unpickles them (:func:`decode`).

* T not installed on the worker: the task raises a one-line TargetError; the
  group's cases become ``error`` with that reason (``run_on_dask``'s on_lost).
* The child dies mid-group: the task raises WorkerError (same path); the next
  task of T on that worker starts a new child.
* The worker goes away: the child reads end-of-file and exits (no orphans).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from typing import Any

from harness.errors import RnnParityError, TargetError, WorkerError
from harness.target import targets

MODULE = "harness.sweep.dask_targets"

_CHILDREN: dict[str, "TargetChild"] = {}  # this worker process's child per target
_START = threading.Lock()  # a worker with --nthreads > 1 starts each target's child once


class TargetChild:
    """``python -m harness.sweep.dask_targets TARGET``, fed one pickled group at a time."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()  # one group at a time down the pipe
        # Before NumPy loads: one thread per op, as the sweep's workers run.
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.proc = subprocess.Popen([sys.executable, "-m", MODULE, target], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, group: list, *, versions: bool = False) -> bytes:
        """The child's pickled ``(outcomes, versions or None)`` for ``group``."""
        with self._lock:
            try:
                pickle.dump((group, versions), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self.proc.stdin.flush()  # type: ignore[union-attr]
                status, payload = pickle.load(self.proc.stdout)  # type: ignore[arg-type]
            except (OSError, EOFError, pickle.UnpicklingError):
                raise WorkerError(f"the {self.target} child process on Dask worker {_where()} {self._ended()} "
                                  "mid-group (its stderr is in the worker's log)") from None
        if status != "ok":
            raise WorkerError(f"{self.target} on Dask worker {_where()}: {payload}")
        return payload

    def _ended(self) -> str:
        self.proc.kill()
        code = self.proc.wait()
        return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"


def _where() -> str:
    """This Dask worker's address (the host name outside a worker)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


def target_group(item: tuple[str, list, bool]) -> bytes:
    """Dask task: one compile group ``(target, group, versions)`` on this worker's child process for the
    target (``versions``: also return the package versions, asked once per target for provenance.json)."""
    target, group, versions = item
    with _START:
        child = _CHILDREN.get(target)
        if child is None or not child.alive():
            if not targets.installed(target):
                raise TargetError(f"{target} is not installed on Dask worker {_where()}; install it there with "
                                  f"`{targets.get(target).install_hint()}`")
            child = _CHILDREN[target] = TargetChild(target)
    return child.run(group, versions=versions)


def decode(answer: bytes) -> tuple[list, dict[str, Any] | None]:
    """``(outcomes, versions or None)`` from :func:`target_group`'s answer (on the client)."""
    return pickle.loads(answer)


def serve(target: str) -> int:
    """The child: select ``target`` before Keras is imported, then run groups until end-of-file."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything Keras prints goes to stderr, not into the answers
    requests = sys.stdin.buffer
    try:
        targets.use_target(target)
        from harness.sweep.task import run_group
        from harness.sweep.workers import ignore_interrupts, limit_threads
        from harness.target.keras_env import versions

        # Ctrl-C is the worker's; TensorFlow one thread per op, as in the sweep's workers (JAX and
        # PyTorch run no TensorFlow: importing it would cost seconds and memory for nothing)
        if targets.get(target).keras_backend == "tensorflow":
            limit_threads()
        else:
            ignore_interrupts()
    except RnnParityError as exc:
        print(f"rnn-parity {target} child: {exc}", file=sys.stderr)
        return 2
    while True:
        try:
            group, want_versions = pickle.load(requests)
        except EOFError:
            return 0  # the worker closed the pipe, or died
        try:
            # versions() imports every installed backend (seconds): only when asked, once per target
            # (as plain strings: torch's version is a str subclass whose unpickling imports torch)
            found = {k: str(v) for k, v in versions().items()} if want_versions else None
            answer = ("ok", pickle.dumps((run_group(group), found), protocol=pickle.HIGHEST_PROTOCOL))
        except Exception as exc:  # noqa: BLE001 - the worker raises it as one line; the child goes on
            answer = ("error", f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
        try:
            pickle.dump(answer, answers)
            answers.flush()
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
