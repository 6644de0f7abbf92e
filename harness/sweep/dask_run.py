"""Running the sweep's compile groups on a Dask cluster (``--scheduler ADDRESS``, extra ``.[dask]``).

One compile group is one Dask task: :func:`dask_group`, which runs the group
with the Keras runner its worker process keeps (:func:`harness.sweep.task.run_group`,
what the local worker pool runs), so a group's trace is paid once, wherever it
runs. Results are handed on in group order, so the record files are byte-identical
to the single-process sweep with the same seed (``tests/sweep/test_dask.py``).

* ``--scheduler tcp://HOST:PORT``: an existing ``dask scheduler`` with its
  ``dask worker`` processes (start workers with ``--nthreads 1``: a worker thread
  holds one Keras runner, and TensorFlow gets one thread per op).
* ``--scheduler local``: a ``LocalCluster`` of :data:`LOCAL_WORKERS` worker
  processes on 127.0.0.1 (no dashboard), closed when the sweep ends.
* A worker that dies mid-group: the scheduler runs its group again on another
  worker (Dask retries a task whose worker died up to
  ``distributed.scheduler.allowed-failures`` times, 3 by default). A group's
  result is taken once, by its index, so nothing is lost and nothing is
  duplicated. A group that keeps killing workers (``KilledWorker``), or fails
  in any other way, becomes ``error`` results for its cases (``on_lost``).
* Ctrl-C cancels the tasks not yet finished and re-raises with the finished
  groups attached (``exc.partial``), as the local pool does.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, Sequence

from harness.errors import SetupError
from harness.sweep.task import run_group

#: Worker processes of ``--scheduler local`` (one per core of the 2-core reference machine).
LOCAL_WORKERS = 2
#: Seconds to wait for a remote scheduler before giving up with one clear line.
CONNECT_TIMEOUT = 30

_CONFIGURED: dict[str, bool] = {}


def dask_group(group: list) -> list:
    """Dask task: one compile group on this worker process's Keras runner (TensorFlow pinned to one thread)."""
    if not _CONFIGURED.get("threads"):
        import os
        import warnings

        warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from harness.target.keras_env import import_tensorflow

        tf = import_tensorflow()
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already ran something in this process: keep its setting
            pass
        _CONFIGURED["threads"] = True
    return run_group(group)


def require_dask() -> None:
    """One-line SetupError when the ``dask`` extra is missing (before any work is done)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SetupError("--scheduler needs Dask: pip install -e '.[dask]'") from None


def connect(address: str) -> tuple[Any, Any]:
    """``(client, cluster or None)`` for ``address`` (``local`` starts a LocalCluster on 127.0.0.1)."""
    require_dask()
    from distributed import Client, LocalCluster

    if address == "local":
        from harness.target.keras_env import quiet_environment

        quiet_environment()  # the worker processes inherit it: no TensorFlow start-up chatter, the same backend
        cluster = LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError) as exc:
        raise SetupError(f"--scheduler {address}: no Dask scheduler answered ({type(exc).__name__}: {exc})") from None


def run_on_dask(
    task: Callable[[Any], Any],
    groups: Sequence[Any],
    *,
    address: str,
    on_result: Callable[[int, Any], None],
    on_lost: Callable[[int, BaseException], Any],
) -> list[Any]:
    """``[task(g) for g in groups]`` as Dask tasks; ``on_result(i, r)`` as each finishes (any order);
    the returned list is in group order."""
    client, cluster = connect(address)
    from distributed import as_completed

    results: list[Any] = [None] * len(groups)
    run = uuid.uuid4().hex[:12]  # keys unique to this sweep: nothing is shared with another client's tasks
    futures = []
    try:
        futures = [client.submit(task, group, key=f"rnn-parity-{run}-group-{i}", pure=False)
                   for i, group in enumerate(groups)]
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            i = index[future.key]
            if results[i] is not None:
                continue  # taken once
            try:
                results[i] = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker or the task itself: recorded, sweep goes on
                results[i] = on_lost(i, exc)
            future.release()
            on_result(i, results[i])
    except KeyboardInterrupt as exc:
        client.cancel(futures)
        exc.partial = results  # type: ignore[attr-defined]
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results
