"""The sweep: N Hypothesis-drawn cases per cell, Keras against the reference.

One broken case never kills a sweep: it is recorded as ``error`` and the
sweep goes on. Results are records (see :mod:`harness.compare`), written as
CSV when an output directory is given.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from harness.case import CaseSpec
from harness.compare import records_frame
from harness.generate import draw_examples
from harness.parity import CaseOutcome, check_case
from harness.runner import KerasRunner
from harness.strategies import case_specs
from harness.case_columns import option_groups, spec_columns, spec_kind
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

    def __post_init__(self) -> None:
        bad = [c for c in self.cells if c not in ALL_KINDS]
        if not self.cells or bad:
            raise ValueError(f"--cells: unknown cell(s) {', '.join(bad) or '(none given)'}; expected some of {', '.join(ALL_KINDS)}")
        for name in ("examples", "max_timesteps", "max_batch", "max_units"):
            value = getattr(self, name)
            if value < (0 if name == "examples" else 1):
                raise ValueError(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'examples' else '>= 1'}, got {value}")


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


def draw_cases(options: SweepOptions) -> list:
    """The sweep's cases (CaseSpec or FamilySpec): deterministic for a given seed."""
    cases: list = []
    for cell in options.cells:
        if cell in FAMILY_KINDS:
            strategy = family_specs(kinds=(cell,), max_timesteps=min(options.max_timesteps, FAMILY_MAX_TIMESTEPS))
            cases += draw_examples(strategy, count=options.examples, seed=options.seed)
            continue
        strategy = case_specs(
            kinds=[cell],
            max_timesteps=options.max_timesteps,
            max_batch=options.max_batch,
            max_units=options.max_units,
        )
        cases += draw_examples(strategy, count=options.examples, seed=options.seed)
    return cases


def run_sweep(options: SweepOptions, *, progress: bool = True, runner: KerasRunner | None = None) -> SweepResult:
    from tqdm import tqdm

    cases = draw_cases(options)
    runner = runner or KerasRunner()
    family_runner = FamilyRunner() if any(isinstance(c, FamilySpec) for c in cases) else None
    result = SweepResult(options)
    start = time.perf_counter()
    with tqdm(total=len(cases), desc="sweep", unit="case", disable=not progress, leave=False) as bar:
        try:
            for spec in cases:
                if isinstance(spec, FamilySpec):
                    result.outcomes.append(check_family(spec, family_runner))
                else:
                    result.outcomes.append(check_case(spec, runner))
                bar.set_postfix_str(f"{spec_kind(spec)} drift={len(result.drifted)} err={len(result.errors)}", refresh=False)
                bar.update()
        except KeyboardInterrupt:
            result.interrupted = True  # keep what finished; the caller marks the output incomplete
    result.seconds = time.perf_counter() - start
    return result


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
            provenance(seed=result.options.seed, options=dataclasses.asdict(result.options), seconds=round(result.seconds, 2)),
            out / "provenance.json",
        ),
    ]

