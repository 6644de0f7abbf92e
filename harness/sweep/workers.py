"""Running the sweep's compile groups in worker processes, results in a fixed order.

Each worker is a fresh interpreter (``spawn``: TensorFlow's thread pools do
not survive ``fork``) holding its own :class:`~harness.target.runner.KerasRunner`, so
a group's layer is built and traced once in the worker that runs the whole
group. Results are put back in group order whatever order the workers finish
in, so records are byte-identical for any number of workers. Workers ignore
SIGINT: Ctrl-C reaches the parent, which keeps every finished group, cancels
the rest and reports the sweep as interrupted. A worker that dies (a crash in
native code) turns the groups it could not finish into ``error`` results
through ``on_lost``; the sweep goes on with a new pool.

With ``local`` given, the parent process is one of the workers: it runs
groups itself (taking them from the end of the queue, which the pool has not
reached) while the pool's processes start, so a short sweep is never slower
than running it in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence, TypeVar

G = TypeVar("G")
R = TypeVar("R")

#: TensorFlow threads per worker: with one worker per core, more threads only contend.
WORKER_THREADS = 1


def limit_threads() -> None:
    """Worker initialiser: ignore Ctrl-C (the parent handles it) and pin TF to one thread per op."""
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # As the CLI does: Keras's model-design advice is about layers drawn on purpose.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")
    os.environ.setdefault("OMP_NUM_THREADS", str(WORKER_THREADS))
    from harness.target.keras_env import import_tensorflow

    tf = import_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(WORKER_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(WORKER_THREADS)
    except RuntimeError:  # already initialised (cannot happen in a fresh spawn; harmless if it does)
        pass


def ignore_interrupts() -> None:
    """Initialiser for workers that need no TensorFlow (tests)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_in_order(
    task: Callable[[G], R],
    groups: Sequence[G],
    *,
    workers: int,
    on_result: Callable[[int, R], None],
    on_lost: Callable[[int, BaseException], R],
    initializer: Callable[[], None] | None = limit_threads,
    local: Callable[[G], R] | None = None,
) -> list[R | None]:
    """``[task(g) for g in groups]`` on ``workers`` processes; ``task`` must be picklable (module level).

    ``local``: the same work done in this process (then ``workers - 1`` are
    started). ``on_result(i, r)`` is called as each group finishes (progress
    bars); the returned list is in group order. On KeyboardInterrupt the list
    holds ``None`` for the groups that did not finish and the interrupt is
    re-raised with the partial list attached as ``exc.partial``.
    """
    results: list[Any] = [None] * len(groups)
    pending = list(range(len(groups)))
    context = multiprocessing.get_context("spawn")
    processes = workers - 1 if local is not None else workers
    while pending:
        pool = ProcessPoolExecutor(max_workers=max(1, min(processes, len(pending))), mp_context=context,
                                   initializer=initializer)
        futures: dict[int, Future] = {}

        def collect(done: set[Future]) -> None:
            for future in sorted(done, key=lambda f: index[f]):
                i = index[future]
                if results[i] is not None or future.cancelled():
                    continue
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    continue  # retried below on a fresh pool (or given up on, see on_lost)
                except Exception as exc:  # noqa: BLE001 - the task itself failed: recorded, sweep goes on
                    results[i] = on_lost(i, exc)
                on_result(i, results[i])

        try:
            futures = {i: pool.submit(task, groups[i]) for i in pending}
            index = {f: i for i, f in futures.items()}
            waiting = set(futures.values())
            while waiting:
                mine = None
                if local is not None:  # take the last group nobody has started
                    # (cancel() is also True for a future cancelled before: skip the groups already taken)
                    mine = next((i for i in reversed(pending)
                                 if not futures[i].cancelled() and futures[i].cancel()), None)
                if mine is not None:
                    waiting.discard(futures[mine])
                    results[mine] = local(groups[mine])
                    on_result(mine, results[mine])
                    done = {f for f in waiting if f.done()}
                else:
                    done, _ = wait(waiting, return_when=FIRST_COMPLETED)
                waiting -= done
                collect(done)
        except KeyboardInterrupt as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            exc.partial = results  # type: ignore[attr-defined]
            raise
        pool.shutdown(wait=True)
        unfinished = [i for i in pending if results[i] is None]
        if not unfinished:
            break
        # The pool broke: the first unfinished group is the likely culprit; record it and retry the rest.
        culprit = unfinished[0]
        results[culprit] = on_lost(culprit, BrokenProcessPool("a worker process died while running this group"))
        on_result(culprit, results[culprit])
        pending = unfinished[1:]
    return results
