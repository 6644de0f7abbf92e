"""Dask scale-out (harness.sweep.dask_run, ``--scheduler``).

* Default run (skipped when the ``dask`` extra is missing): results come back in group
  order, a group whose worker process dies mid-group is run again - every group
  delivered exactly once -, and ``--scheduler`` without Dask is one clear line.
* Default run, the matrix (``matrix --scheduler``, harness.sweep.dask_targets): its tasks, run
  here as one worker would, write the sweep's files byte for byte; a target missing on the
  worker is one error line per case and the matrix finishes; a dead child is one line;
  ``matrix --scheduler`` without Dask is one clear line.
* ``dask`` marker (``make test-dask``): a ``dask scheduler`` and two ``dask worker``
  processes on 127.0.0.1 stand in for a cluster; the sweep run against them writes
  record files byte-identical to the single-process sweep with the same seed, and so does
  the matrix over tensorflow and one more installed target.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import cli
from harness.errors import WorkerError

NO_DASK = "the dask extra is not installed (pip install -e '.[dask]' or make test-dask)"


def square_or_die(item: tuple[int, str]) -> int:
    """A task whose worker process dies the first time it runs group 2 (a marker file remembers)."""
    n, marker = item
    if n == 2 and not os.path.exists(marker):
        Path(marker).write_text("died once")
        os._exit(1)
    time.sleep(0.05 * (5 - n))  # early groups finish last
    if n == 4:
        raise RuntimeError("group 4 is broken")
    return n * n


def test_groups_come_back_in_order_once_each_and_a_group_whose_worker_died_is_run_again(tmp_path):
    pytest.importorskip("distributed", reason=NO_DASK)
    import cloudpickle

    from harness.sweep.dask_run import run_on_dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import the tests
    marker = str(tmp_path / "died")
    delivered: list[int] = []
    results = run_on_dask(square_or_die, [(n, marker) for n in range(6)], address="local",
                          on_result=lambda i, r: delivered.append(i), on_lost=lambda i, exc: f"error: {exc}")
    assert Path(marker).exists()  # a worker did die in group 2
    assert results == [0, 1, 4, 9, "error: group 4 is broken", 25]
    assert sorted(delivered) == list(range(6))  # nothing lost, nothing twice


def slow_identity(n: int) -> int:
    time.sleep(0.3 * n)
    return n


def test_ctrl_c_cancels_the_rest_and_keeps_the_finished_groups():
    pytest.importorskip("distributed", reason=NO_DASK)
    import cloudpickle

    from harness.sweep.dask_run import run_on_dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    seen: list[int] = []

    def interrupt_on_the_second(i: int, result: int) -> None:
        seen.append(i)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        run_on_dask(slow_identity, list(range(8)), address="local", on_result=interrupt_on_the_second,
                    on_lost=lambda i, exc: None)
    partial = info.value.partial
    assert [i for i, r in enumerate(partial) if r is not None] == sorted(seen)
    assert sum(r is not None for r in partial) == 2


@pytest.mark.parametrize("command", [
    ["sweep", "--cells", "GRU", "--examples", "2", "--no-progress"],
    ["matrix", "--targets", "tensorflow", "--cells", "GRU", "--examples", "1"],
], ids=["sweep", "matrix"])
def test_scheduler_without_dask_is_one_line(command, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    code = cli.main(command + ["--scheduler", "local", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == cli.EXIT_ERROR and err.count("\n") == 0 and ".[dask]" in err


def test_matrix_scheduler_runs_the_matrix_on_dask(monkeypatch, tmp_path, capsys):
    import pandas as pd

    from harness.reporting import matrix

    calls = []
    monkeypatch.setattr(matrix, "run_targets_on_dask", lambda names, **kw: calls.append((names, kw)) or matrix.MatrixRun(
        cases=pd.DataFrame()))
    cli.main(["matrix", "--targets", "tensorflow", "--cells", "GRU", "--examples", "1", "--scheduler", "tcp://h:8786",
              "--out", str(tmp_path)])
    capsys.readouterr()
    assert calls == [(("tensorflow",), dict(address="tcp://h:8786", out=tmp_path, cells=("GRU",), examples=1, seed=7,
                                            max_timesteps=64))]


def run_inline(task, items, *, address, on_result, on_lost):
    """``run_on_dask`` with every task run here, in order, as by one worker process."""
    results = []
    for i, item in enumerate(items):
        try:
            results.append(task(item))
        except Exception as exc:  # noqa: BLE001 - as run_on_dask: the group's cases become errors
            results.append(on_lost(i, exc))
        on_result(i, results[-1])
    return results


@pytest.mark.keras
def test_matrix_tasks_write_the_sweeps_files_and_a_target_missing_on_the_worker_is_one_line(monkeypatch, tmp_path):
    pytest.importorskip("distributed", reason=NO_DASK)
    import json
    import types

    import pandas as pd

    from harness.reporting import matrix
    from harness.sweep import dask_run, dask_targets
    from harness.sweep.run import SweepOptions, run_sweep, write_outputs
    from harness.target import targets

    monkeypatch.setattr(dask_run, "run_on_dask", run_inline)
    monkeypatch.setattr(targets, "installed", lambda name: True)  # the client has jax ...
    monkeypatch.setattr(dask_targets, "targets", types.SimpleNamespace(  # ... the worker does not
        installed=lambda name: name == "tensorflow", get=targets.get))
    monkeypatch.setattr(dask_targets, "_CHILDREN", {})
    sizes = dict(cells=("GRU",), examples=3, seed=3, max_timesteps=4)
    try:
        run = matrix.run_targets_on_dask(["tensorflow", "jax"], address="local", out=tmp_path / "dask", echo=False,
                                         **sizes)
        child = dask_targets._CHILDREN["tensorflow"]
        child.proc.kill()
        with pytest.raises(WorkerError, match="killed by signal") as dead:
            child.run([])
        assert "\n" not in str(dead.value)
        started = []
        monkeypatch.setattr(dask_targets, "TargetChild", lambda target: types.SimpleNamespace(
            alive=lambda: True, run=lambda group, versions: started.append(target) or b""))
        dask_targets.target_group(("tensorflow", [], False))  # the next task of the target: a new child
        assert started == ["tensorflow"]
    finally:
        for child in dask_targets._CHILDREN.values():
            if hasattr(child, "proc"):
                child.proc.kill()
                child.proc.wait()
    matrix.write_matrix(run, tmp_path / "dask")  # the matrix finishes
    jax = pd.read_csv(tmp_path / "dask" / "jax" / "cases.csv")
    assert list(jax.status) == ["error"] * 3
    reason = jax.error[0]
    assert reason.startswith("TargetError: jax is not installed on Dask worker") and ".[jax]" in reason
    assert "\n" not in reason
    ran = json.loads((tmp_path / "dask" / "tensorflow" / "provenance.json").read_text())
    assert ran["versions"]["target"] == "tensorflow" and ran["options"]["scheduler"] == "local"
    here = run_sweep(SweepOptions(**sizes), progress=False)  # the subprocess sweep's outcomes
    write_outputs(here, tmp_path / "here")
    for name in ("records.csv", "cases.csv", "summary.csv"):
        assert (tmp_path / "dask" / "tensorflow" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """``dask scheduler`` + two ``dask worker`` processes on 127.0.0.1, stopped at the end
    (and by themselves: the scheduler after 5 idle minutes, the workers 30 s after it)."""
    pytest.importorskip("distributed", reason=NO_DASK)
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                               "--idle-timeout", "300"], **quiet)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                           "--no-dashboard", "--death-timeout", "30"], **quiet))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.dask
@pytest.mark.keras
def test_a_sweep_on_a_dask_cluster_writes_the_local_sweeps_records_byte_for_byte(dask_cluster, tmp_path, capsys):
    sweep = ["sweep", "--cells", "SimpleRNN,LSTM,GRU,Bidirectional", "--examples", "12", "--per-config", "4",
             "--seed", "5", "--max-timesteps", "12", "--no-progress"]
    assert cli.main(sweep + ["--out", str(tmp_path / "local")]) in (cli.EXIT_OK, 1)
    assert cli.main(sweep + ["--scheduler", dask_cluster, "--out", str(tmp_path / "dask")]) in (cli.EXIT_OK, 1)
    capsys.readouterr()
    for name in ("records.csv", "cases.csv", "summary.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "local" / "cases.csv")) == 48  # rows, not lines: a Keras crash's text has newlines


@pytest.mark.dask
@pytest.mark.keras
def test_a_matrix_on_a_dask_cluster_writes_the_local_matrix_byte_for_byte(dask_cluster, tmp_path, capsys):
    from harness.target import targets

    other = next((name for name in ("jax", "torch") if targets.installed(name)), None)
    if other is None:
        pytest.skip("neither jax nor torch is installed (pip install -e '.[jax]')")
    matrix = ["matrix", "--targets", f"tensorflow,{other}", "--cells", "GRU,LSTM", "--examples", "4", "--seed", "3",
              "--max-timesteps", "6"]
    assert cli.main(matrix + ["--out", str(tmp_path / "local")]) in (cli.EXIT_OK, 1)
    assert cli.main(matrix + ["--scheduler", dask_cluster, "--out", str(tmp_path / "dask")]) in (cli.EXIT_OK, 1)
    capsys.readouterr()
    names = ["matrix.csv", "matrix.html", "matrix_cases.csv"] + [
        f"{target}/{name}" for target in ("tensorflow", other) for name in ("records.csv", "cases.csv", "summary.csv")]
    for name in names:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    import pandas as pd

    assert len(pd.read_csv(tmp_path / "local" / other / "cases.csv")) == 8
