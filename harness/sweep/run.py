"""The sweep: N Hypothesis-drawn cases per cell, Keras against the reference.

Cases come in *compile groups*: ``per_config`` cases that share one layer
configuration and compile signature (see :func:`harness.layers.strategies.case_groups`),
so each traced Keras graph serves the whole group. ``examples`` stays the
number of cases per cell: ``ceil(examples / per_config)`` configurations,
``per_config`` data draws each, the last group cut to fit.

Groups are the unit of work: ``workers > 1`` runs them in worker processes
(:mod:`harness.sweep.workers`), ``scheduler`` as tasks on a Dask cluster
(:mod:`harness.sweep.dask_run`), each with its references computed at once
(:mod:`harness.oracle.group`), and ``shard=(k, n)`` keeps the k-th of n contiguous
blocks of groups (:mod:`harness.sweep.shard`), so a trace is paid once and the
concatenation of the shards, in shard order, is the unsharded sweep.

One broken case never kills a sweep: it is recorded as ``error`` and the
sweep goes on. Results are records (see :mod:`harness.oracle.compare`), written as
CSV when an output directory is given.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from harness.layers.columns import option_groups, spec_columns
from harness.layers.composite import COMPOSITE_KINDS
from harness.layers.generate import draw_examples
from harness.layers.grid import core_cases
from harness.layers.strategies import INPUT_SCALES, RECURRENT_GAINS, case_groups, case_specs, composite_cases
from harness.oracle.compare import records_frame
from harness.sweep.interrupts import watching
from harness.sweep.parity import CaseOutcome, check_case, check_group, prepare_group
from harness.sweep.shard import shard_slice
from harness.sweep.task import RELEASE_EVERY, run_group
from harness.target.runner import KerasRunner
from reference_cells.layer_config import CELL_KINDS

ALL_KINDS = CELL_KINDS + COMPOSITE_KINDS
#: Composite layers (Bidirectional, stacked cells, ConvLSTM) are drawn with shorter sequences.
COMPOSITE_MAX_TIMESTEPS = 16


@dataclass(frozen=True)
class SweepOptions:
    cells: tuple[str, ...] = CELL_KINDS
    examples: int = 100
    seed: int = 0
    max_timesteps: int = 64
    max_batch: int = 4
    max_units: int = 32
    min_timesteps: int = 1
    recurrent_gains: tuple[float, ...] = RECURRENT_GAINS  # the trust run adds 5.0 (chaotic)
    input_scales: tuple[float, ...] = INPUT_SCALES  # the trust run adds 10.0 (saturating)
    per_config: int = 8  # cases per compile group (1: every case its own configuration)
    workers: int = 1  # worker processes (1: run in this process)
    shard: tuple[int, int] = (1, 1)  # (k, n): the k-th of n blocks of compile groups
    core_grid: bool = False  # also run the core grid (harness/layers/grid.py) of each kind first (the report does)
    scheduler: str | None = None  # a Dask scheduler address, or "local" (harness.sweep.dask_run)

    def __post_init__(self) -> None:
        bad = [c for c in self.cells if c not in ALL_KINDS]
        if not self.cells or bad:
            raise ValueError(f"--cells: unknown cell(s) {', '.join(bad) or '(none given)'}; expected some of {', '.join(ALL_KINDS)}")
        for name in ("examples", "max_timesteps", "max_batch", "max_units"):
            value = getattr(self, name)
            if value < (0 if name == "examples" else 1):
                raise ValueError(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'examples' else '>= 1'}, got {value}")
        if self.min_timesteps < 1 or self.min_timesteps > self.max_timesteps:
            raise ValueError(f"--min-timesteps must be in [1, --max-timesteps={self.max_timesteps}], got {self.min_timesteps}")
        for name in ("recurrent_gains", "input_scales"):
            values = getattr(self, name)
            if not values or any(not v > 0 for v in values):
                raise ValueError(f"--{name.replace('_', '-')} must be positive numbers, got {values}")
        for name in ("per_config", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        k, n = self.shard
        if not 1 <= k <= n:
            raise ValueError(f"--shard {k}/{n}: expected K/N with 1 <= K <= N")


@dataclass
class SweepResult:
    options: SweepOptions
    outcomes: list[CaseOutcome] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False  # Ctrl-C: the outcomes are the cases that finished

    def count(self, cell: str, status: str) -> int:
        return sum(1 for o in self.outcomes if o.result.cell == cell and o.result.status == status)

    @property
    def drifted(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.result.status == "drift"]

    @property
    def errors(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.result.status == "error"]


def draw_groups(options: SweepOptions) -> list[list]:
    """The sweep's compile groups (lists of CaseSpec), in order;
    deterministic for a given seed, and only this shard's (``options.shard``)."""
    groups: list[list] = []
    for cell in options.cells:
        if options.core_grid:
            groups += [[case] for case in core_cases(cell, seed=options.seed)]
        if cell in COMPOSITE_KINDS:
            strategy = composite_cases(kinds=(cell,), max_timesteps=min(options.max_timesteps, COMPOSITE_MAX_TIMESTEPS))
            groups += [[c] for c in draw_examples(strategy, count=options.examples, seed=options.seed)]
            continue
        limits = dict(kinds=[cell], min_timesteps=options.min_timesteps, max_timesteps=options.max_timesteps,
                      max_batch=options.max_batch, max_units=options.max_units,
                      recurrent_gains=options.recurrent_gains, input_scales=options.input_scales)
        if options.per_config == 1:  # one configuration per case (the sweep before compile groups)
            groups += [[c] for c in draw_examples(case_specs(**limits), count=options.examples, seed=options.seed)]
            continue
        count = math.ceil(options.examples / options.per_config)
        drawn = draw_examples(case_groups(size=options.per_config, **limits), count=count, seed=options.seed)
        left = options.examples
        for group in drawn:
            groups.append(list(group[:left]))
            left -= len(groups[-1])
    return groups[shard_slice(len(groups), *options.shard)]


def draw_cases(options: SweepOptions) -> list:
    """The sweep's cases in order: deterministic for a given seed."""
    return [case for group in draw_groups(options) for case in group]


def run_sweep(
    options: SweepOptions,
    *,
    progress: bool = True,
    runner: KerasRunner | None = None,
    on_case: Callable[[int], None] | None = None,
    on_outcome: Callable[[CaseOutcome], None] | None = None,
    keep_records: bool = True,
) -> SweepResult:
    """Run the sweep.

    ``on_case(n)`` is called with the count of finished cases (benchmarks sample
    memory there). ``on_outcome(o)`` receives every outcome in sweep order (for
    any number of workers) as soon as the groups before it are done: the CLI
    streams records to disk with it. ``keep_records=False`` then drops each
    case's records from the result, so a long sweep's memory stays flat (the
    records of 10,000 cases are ~10^6 objects).
    """
    from tqdm import tqdm

    groups = draw_groups(options)
    result = SweepResult(options)
    delivered = 0
    ready: dict[int, list[CaseOutcome]] = {}

    def group_done(i: int, outcomes: list[CaseOutcome]) -> None:
        """Hand finished groups on in order; drop their records if asked."""
        nonlocal delivered
        ready[i] = outcomes
        while delivered in ready:
            flush(ready.pop(delivered))
            delivered += 1

    def flush(outcomes: list[CaseOutcome]) -> None:
        for o in outcomes:
            if on_outcome is not None:
                on_outcome(o)
        if not keep_records:
            outcomes[:] = [dataclasses.replace(o, records=[]) for o in outcomes]

    start = time.perf_counter()
    with tqdm(total=sum(map(len, groups)), desc="sweep", unit="case", disable=not progress, leave=False) as bar:
        drift = err = finished_cases = 0

        def done(outcomes: list[CaseOutcome]) -> None:
            nonlocal drift, err, finished_cases
            finished_cases += len(outcomes)
            drift += sum(o.result.status == "drift" for o in outcomes)
            err += sum(o.result.status == "error" for o in outcomes)
            if outcomes:
                bar.set_postfix_str(f"{outcomes[-1].spec.kind} drift={drift} err={err}", refresh=False)
            bar.update(len(outcomes))
            if on_case is not None:
                on_case(finished_cases)  # bar.n stays 0 when the bar is disabled

        try:
            with watching():  # a Ctrl-C stays a Ctrl-C even when it lands inside a TensorFlow trace
                if options.scheduler:
                    finished = _run_on_dask(groups, options.scheduler, done, group_done)
                elif options.workers > 1 and len(groups) > 1:
                    finished = _run_in_workers(groups, options.workers, done, group_done, runner or KerasRunner())
                else:
                    finished = _run_here(groups, runner or KerasRunner(), done, group_done)
        except KeyboardInterrupt as exc:
            result.interrupted = True  # keep what finished; the caller marks the output incomplete
            finished = getattr(exc, "partial", [])
            for i, outcomes in enumerate(finished):  # what finished after a gap, and a half-done group
                if i >= delivered and outcomes:
                    flush(outcomes)
        result.outcomes = [o for outcomes in finished if outcomes is not None for o in outcomes]
    result.seconds = time.perf_counter() - start
    return result


def _run_here(groups: list[list], runner: KerasRunner, done, group_done) -> list[list[CaseOutcome] | None]:
    finished: list[list[CaseOutcome] | None] = [None] * len(groups)
    try:  # Ctrl-C can land anywhere, also while a finished group is being written: keep what finished
        for i, group in enumerate(groups):
            if i and i % RELEASE_EVERY == 0:
                runner.release()
            outcomes: list[CaseOutcome] = []
            finished[i] = outcomes
            for spec, prepared in zip(group, prepare_group(group, runner)):
                outcomes.append(check_case(spec, runner, prepared=prepared))
                done(outcomes[-1:])
            group_done(i, outcomes)
    except KeyboardInterrupt as exc:
        exc.partial = finished  # type: ignore[attr-defined]
        raise
    return finished


def _run_in_workers(groups: list[list], workers: int, done, group_done, runner: KerasRunner) -> list[list[CaseOutcome] | None]:
    """``workers - 1`` worker processes plus this one (which starts at once, while they import TensorFlow)."""
    from harness.sweep.workers import run_in_order

    lost = lost_groups(groups)
    taken = 0

    def here(group: list) -> list[CaseOutcome]:
        nonlocal taken
        taken += 1
        if taken % RELEASE_EVERY == 0:
            runner.release()
        return check_group(group, runner)

    def finished(i: int, outcomes: list[CaseOutcome]) -> None:
        done(outcomes)
        group_done(i, outcomes)

    return run_in_order(run_group, groups, workers=workers, on_result=finished, on_lost=lost, local=here)


def lost_groups(groups: list[list]) -> Callable[[int, BaseException], list[CaseOutcome]]:
    """``on_lost`` of the pools: a group that could not run becomes ``error`` results for its cases."""
    from harness.oracle.compare import error_result

    def lost(i: int, exc: BaseException) -> list[CaseOutcome]:
        reason = f"{type(exc).__name__}: {exc}"
        return [CaseOutcome(spec, error_result(spec.case_id(), spec.kind, reason), []) for spec in groups[i]]

    return lost


def _run_on_dask(groups: list[list], address: str, done, group_done) -> list[list[CaseOutcome] | None]:
    """Every compile group as a task on the Dask cluster at ``address`` (:mod:`harness.sweep.dask_run`)."""
    from harness.sweep.dask_run import dask_group, run_on_dask

    def finished(i: int, outcomes: list[CaseOutcome]) -> None:
        done(outcomes)
        group_done(i, outcomes)

    return run_on_dask(dask_group, groups, address=address, on_result=finished, on_lost=lost_groups(groups))


def summary_rows(result: SweepResult) -> list[dict]:
    """One row per cell: counts per status and the worst errors."""
    rows = []
    for cell in result.options.cells:
        mine = [o.result for o in result.outcomes if o.result.cell == cell]
        judged = [r for r in mine if r.status in ("pass", "drift")]
        rows.append(
            {
                "cell": cell,
                "cases": len(mine),
                "passed": sum(r.status == "pass" for r in mine),
                "drifted": sum(r.status == "drift" for r in mine),
                "ill-conditioned": sum(r.status == "ill-conditioned" for r in mine),
                "errors": sum(r.status == "error" for r in mine),
                "explained": sum(r.status == "explained" for r in mine),
                "unsupported": sum(r.status == "unsupported" for r in mine),
                "worst error": max((r.worst_abs_err for r in judged), default=float("nan")),
                "worst rel error": max((r.worst_rel_err for r in judged), default=float("nan")),
                # Explained cases differ by design; their size is in the cross-target matrix.
                "worst err/tol": max((r.worst_ratio for r in mine if r.status in ("pass", "drift", "ill-conditioned")),
                                     default=float("nan")),
                "max amplification": max((r.amplification for r in mine if r.status not in ("error", "unsupported")),
                                         default=float("nan")),
            }
        )
    return rows


def case_rows(outcomes: Iterable[CaseOutcome]) -> list[dict]:
    """Per-case table: the result fields, the config columns and the replay command."""
    rows = []
    for o in outcomes:
        row = dataclasses.asdict(o.result)
        row["groups"] = ",".join(option_groups(o.spec))
        row.update(spec_columns(o.spec))
        row["replay"] = o.spec.replay_command()
        rows.append(row)
    return rows


class RecordStream:
    """``records.csv`` written case by case as the sweep goes (pass :meth:`add` as
    ``run_sweep(on_outcome=...)``), into a temporary file renamed into place by
    :meth:`close`: the same bytes as writing all records at once, without holding them."""

    def __init__(self, out: Path) -> None:
        import tempfile

        self.path = Path(out) / "records.csv"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".records.csv.", dir=self.path.parent)
        self._file = open(handle, "w", newline="")
        self._tmp = Path(name)
        records_frame([]).to_csv(self._file, index=False)  # the header

    def add(self, outcome: CaseOutcome) -> None:
        if outcome.records:
            records_frame(outcome.records).to_csv(self._file, index=False, header=False, float_format="%.6g")

    def close(self) -> Path:
        import os

        self._file.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)


def write_outputs(result: SweepResult, out: Path, *, stream: RecordStream | None = None,
                  provenance_extra: dict | None = None) -> list[Path]:
    """``records.csv`` (case x tensor x timestep; from ``stream`` if the sweep streamed it),
    ``cases.csv``, ``summary.csv``, ``provenance.json`` (with ``provenance_extra``'s fields: the
    matrix on Dask gives the versions its workers' children ran)."""
    import pandas as pd

    from harness.sweep.storage import provenance, write_csv, write_json

    out = Path(out)
    if stream is not None:
        records_path = stream.close()
    else:
        records_path = write_csv(records_frame([r for o in result.outcomes for r in o.records]), out / "records.csv")
    return [
        records_path,
        write_csv(pd.DataFrame(case_rows(result.outcomes)), out / "cases.csv"),
        write_csv(pd.DataFrame(summary_rows(result)), out / "summary.csv"),
        write_json(
            provenance(seed=result.options.seed, options=dataclasses.asdict(result.options),
                       seconds=round(result.seconds, 2), complete=not result.interrupted, **(provenance_extra or {})),
            out / "provenance.json",
        ),
    ]

