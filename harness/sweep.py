"""The sweep: N Hypothesis-drawn cases per cell, Keras against the reference.

Cases come in *compile groups*: ``per_config`` cases that share one layer
configuration and compile signature (see :func:`harness.strategies.case_groups`),
so each traced Keras graph serves the whole group. ``examples`` stays the
number of cases per cell: ``ceil(examples / per_config)`` configurations,
``per_config`` data draws each, the last group cut to fit.

Groups are the unit of work: ``workers > 1`` runs them in worker processes
(:mod:`harness.workers`) and ``shard=(k, n)`` keeps the k-th of n contiguous
blocks of groups (:mod:`harness.shard`), so a trace is paid once and the
concatenation of the shards, in shard order, is the unsharded sweep.

One broken case never kills a sweep: it is recorded as ``error`` and the
sweep goes on. Results are records (see :mod:`harness.compare`), written as
CSV when an output directory is given.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from harness.case import CaseSpec
from harness.compare import records_frame
from harness.generate import draw_examples
from harness.parity import CaseOutcome, check_case
from harness.runner import KerasRunner
from harness.shard import shard_slice
from harness.strategies import case_groups, case_specs
from harness.case_columns import spec_columns, spec_kind
from harness.family import FAMILY_KINDS, FamilyRunner, FamilySpec, check_family, family_specs
from reference_cells.layer_config import CELL_KINDS

ALL_KINDS = CELL_KINDS + FAMILY_KINDS
#: Family layers (Bidirectional, stacked cells, ConvLSTM) are drawn with shorter sequences.
FAMILY_MAX_TIMESTEPS = 16


@dataclass(frozen=True)
class SweepOptions:
    cells: tuple[str, ...] = CELL_KINDS
    examples: int = 100
    seed: int = 0
    max_timesteps: int = 64
    max_batch: int = 4
    max_units: int = 32
    per_config: int = 8  # cases per compile group (1: every case its own configuration)
    workers: int = 1  # worker processes (1: run in this process)
    shard: tuple[int, int] = (1, 1)  # (k, n): the k-th of n blocks of compile groups

    def __post_init__(self) -> None:
        bad = [c for c in self.cells if c not in ALL_KINDS]
        if not self.cells or bad:
            raise ValueError(f"--cells: unknown cell(s) {', '.join(bad) or '(none given)'}; expected some of {', '.join(ALL_KINDS)}")
        for name in ("examples", "max_timesteps", "max_batch", "max_units"):
            value = getattr(self, name)
            if value < (0 if name == "examples" else 1):
                raise ValueError(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'examples' else '>= 1'}, got {value}")
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
    """The sweep's compile groups (lists of CaseSpec or FamilySpec), in order;
    deterministic for a given seed, and only this shard's (``options.shard``)."""
    groups: list[list] = []
    for cell in options.cells:
        if cell in FAMILY_KINDS:
            strategy = family_specs(kinds=(cell,), max_timesteps=min(options.max_timesteps, FAMILY_MAX_TIMESTEPS))
            groups += [[c] for c in draw_examples(strategy, count=options.examples, seed=options.seed)]
            continue
        limits = dict(kinds=[cell], max_timesteps=options.max_timesteps, max_batch=options.max_batch,
                      max_units=options.max_units)
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
    """The sweep's cases (CaseSpec or FamilySpec) in order: deterministic for a given seed."""
    return [case for group in draw_groups(options) for case in group]


def check_any(spec, runner: KerasRunner, family_runner: FamilyRunner | None) -> CaseOutcome:
    """One case of either family; never raises for a problem with the case."""
    if isinstance(spec, FamilySpec):
        return check_family(spec, family_runner or FamilyRunner())
    return check_case(spec, runner)


def run_sweep(
    options: SweepOptions,
    *,
    progress: bool = True,
    runner: KerasRunner | None = None,
    on_case: Callable[[int], None] | None = None,
) -> SweepResult:
    """Run the sweep; ``on_case(n)`` is called with the count of finished cases (benchmarks sample memory there)."""
    from tqdm import tqdm

    groups = draw_groups(options)
    result = SweepResult(options)
    start = time.perf_counter()
    with tqdm(total=sum(map(len, groups)), desc="sweep", unit="case", disable=not progress, leave=False) as bar:
        drift = err = finished_cases = 0

        def done(outcomes: list[CaseOutcome]) -> None:
            nonlocal drift, err, finished_cases
            finished_cases += len(outcomes)
            drift += sum(o.result.status == "drift" for o in outcomes)
            err += sum(o.result.status == "error" for o in outcomes)
            if outcomes:
                bar.set_postfix_str(f"{spec_kind(outcomes[-1].spec)} drift={drift} err={err}", refresh=False)
            bar.update(len(outcomes))
            if on_case is not None:
                on_case(finished_cases)  # bar.n stays 0 when the bar is disabled

        try:
            if options.workers > 1 and len(groups) > 1:
                finished = _run_in_workers(groups, options.workers, done, runner or KerasRunner())
            else:
                finished = _run_here(groups, runner or KerasRunner(), done)
        except KeyboardInterrupt as exc:
            result.interrupted = True  # keep what finished; the caller marks the output incomplete
            finished = getattr(exc, "partial", [])
        result.outcomes = [o for outcomes in finished if outcomes is not None for o in outcomes]
    result.seconds = time.perf_counter() - start
    return result


def _run_here(groups: list[list], runner: KerasRunner, done) -> list[list[CaseOutcome] | None]:
    family_runner = FamilyRunner() if any(isinstance(c, FamilySpec) for g in groups for c in g) else None
    finished: list[list[CaseOutcome] | None] = [None] * len(groups)
    for i, group in enumerate(groups):
        outcomes: list[CaseOutcome] = []
        finished[i] = outcomes
        try:
            for spec in group:
                outcomes.append(check_any(spec, runner, family_runner))
                done(outcomes[-1:])
        except KeyboardInterrupt as exc:
            exc.partial = finished  # type: ignore[attr-defined]
            raise
    return finished


# One runner per worker process, created on its first group (process-local, never shared).
_WORKER_RUNNERS: dict[str, object] = {}


def run_group(group: list) -> list[CaseOutcome]:
    """Worker task: check every case of one compile group with this process's runners."""
    runner = _WORKER_RUNNERS.setdefault("cells", KerasRunner())
    family = _WORKER_RUNNERS.get("family")
    if family is None and any(isinstance(c, FamilySpec) for c in group):
        family = _WORKER_RUNNERS["family"] = FamilyRunner()
    return [check_any(spec, runner, family) for spec in group]  # type: ignore[arg-type]


def _run_in_workers(groups: list[list], workers: int, done, runner: KerasRunner) -> list[list[CaseOutcome] | None]:
    """``workers - 1`` worker processes plus this one (which starts at once, while they import TensorFlow)."""
    from harness.compare import error_result
    from harness.workers import run_in_order

    def lost(i: int, exc: BaseException) -> list[CaseOutcome]:
        reason = f"{type(exc).__name__}: {exc}"
        return [CaseOutcome(spec, error_result(spec.case_id(), spec_kind(spec), reason), []) for spec in groups[i]]

    family_runner = FamilyRunner() if any(isinstance(c, FamilySpec) for g in groups for c in g) else None

    def here(group: list) -> list[CaseOutcome]:
        return [check_any(spec, runner, family_runner) for spec in group]

    return run_in_order(run_group, groups, workers=workers, on_result=lambda i, outcomes: done(outcomes), on_lost=lost,
                        local=here)


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
                "worst error": max((r.worst_abs_err for r in judged), default=float("nan")),
                "worst rel error": max((r.worst_rel_err for r in judged), default=float("nan")),
                "worst err/tol": max((r.worst_ratio for r in mine if r.status != "error"), default=float("nan")),
                "max amplification": max((r.amplification for r in mine if r.status != "error"), default=float("nan")),
            }
        )
    return rows


def case_rows(outcomes: Iterable[CaseOutcome]) -> list[dict]:
    """Per-case table: the result fields, the config columns and the replay command."""
    rows = []
    for o in outcomes:
        row = dataclasses.asdict(o.result)
        row.update(spec_columns(o.spec))
        row["replay"] = o.spec.replay_command()
        rows.append(row)
    return rows


def write_outputs(result: SweepResult, out: Path) -> list[Path]:
    """``records.csv`` (case x tensor x timestep), ``cases.csv``, ``summary.csv``, ``provenance.json``."""
    import pandas as pd

    from harness.storage import provenance, write_csv, write_json

    out = Path(out)
    records = [r for o in result.outcomes for r in o.records]
    return [
        write_csv(records_frame(records), out / "records.csv"),
        write_csv(pd.DataFrame(case_rows(result.outcomes)), out / "cases.csv"),
        write_csv(pd.DataFrame(summary_rows(result)), out / "summary.csv"),
        write_json(
            provenance(seed=result.options.seed, options=dataclasses.asdict(result.options),
                       seconds=round(result.seconds, 2), complete=not result.interrupted),
            out / "provenance.json",
        ),
    ]

