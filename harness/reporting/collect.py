"""Running everything a report shows and turning it into tables (pandas).

Tables (their columns are documented in ``reports/README.md``):

* ``records`` - one row per case x tensor x timestep (the comparator's
  :class:`~harness.oracle.compare.StepRecord` fields plus ``source``);
* ``cases``   - one row per case: result, option groups, growth pattern, the
  config columns, and the replay command;
* ``ports``   - one row per case file in ``cases/``: verdict, flags,
  diagnosis, expected answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from harness.layers.case import CaseSpec
from harness.layers.columns import option_groups, spec_columns
from harness.check.case_files import CaseFile, case_files, run_case_file
from harness.check.output import render
from harness.oracle.compare import StepRecord, records_frame
from harness.reporting.patterns import growth_pattern
from harness.target.runner import KerasRunner
from harness.sweep.run import SweepOptions, SweepResult, run_sweep

SWEEP_SOURCE = "sweep"


def _pattern(records: list[StepRecord]) -> str:
    """The growth pattern of the tensor that diverges first (or the output)."""
    by_tensor: dict[str, list[StepRecord]] = {}
    for r in records:
        by_tensor.setdefault(r.tensor, []).append(r)
    ranked = []
    for name, rows in by_tensor.items():
        rows.sort(key=lambda r: r.t)
        pattern = growth_pattern(
            np.array([r.max_abs_err for r in rows]), np.array([r.tolerance for r in rows]), np.array([r.judged for r in rows])
        )
        first_bad = next((r.t for r in rows if not r.within), None)
        ranked.append((first_bad is None, first_bad or 0, name != "output", pattern))
    return min(ranked)[3] if ranked else "no records"


@dataclass
class ReportData:
    records: pd.DataFrame
    cases: pd.DataFrame
    ports: pd.DataFrame
    sweep: SweepResult | None
    complete: bool = True


def _case_row(spec: CaseSpec, result, records: list[StepRecord], *, source: str, replay: str, flags: Iterable[str] = ()) -> dict:
    row = dataclasses.asdict(result)
    row["source"] = source
    row["groups"] = ",".join(option_groups(spec))
    row["pattern"] = _pattern(records)
    row["flags"] = ",".join(flags)
    row.update(spec_columns(spec))
    row["replay"] = replay
    return row


def sweep_tables(result: SweepResult) -> tuple[list[StepRecord], list[dict]]:
    records, rows = [], []
    for o in result.outcomes:
        records += o.records
        rows.append(_case_row(o.spec, o.result, o.records, source=SWEEP_SOURCE, replay=o.spec.replay_command()))
    return records, rows


def run_port_cases(
    files: list[CaseFile], *, runner: KerasRunner, progress: bool
) -> tuple[list[dict], list[StepRecord], list[dict], list[tuple[str, int]]]:
    """Run every case file; a broken one becomes an ``error`` row, never an exception.

    Returns the port rows, their records, their case rows, and (case name, record count)."""
    from tqdm import tqdm

    ports, records, rows, counts = [], [], [], []
    for case in tqdm(files, desc="cases", unit="case", disable=not progress, leave=False):
        row = {"case": case.name, "layer": case.layer, "description": case.description, "command": case.command(),
               "expected_verdict": case.expected_verdict, "expected_flags": ",".join(case.expected_flags)}
        try:
            report = run_case_file(case, runner=runner)
        except Exception as exc:  # noqa: BLE001 - one broken case never kills a report
            row.update(verdict="error", flags="", answer=f"{type(exc).__name__}: {exc}", seconds=0.0, agrees=False)
            ports.append(row)
            continue
        row.update(
            verdict=report.verdict,
            flags=",".join(report.flags),
            answer=render(report),
            seconds=round(report.seconds, 2),
            agrees=(report.verdict == case.expected_verdict and tuple(report.flags) == case.expected_flags)
            if case.expected_verdict else None,
        )
        ports.append(row)
        for outcome in report.outcomes:
            tagged = [dataclasses.replace(r, case_id=f"{case.name}/{r.case_id}") for r in outcome.records]
            records += tagged
            counts.append((case.name, len(tagged)))
            result = dataclasses.replace(outcome.result, case_id=f"{case.name}/{outcome.result.case_id}")
            rows.append(_case_row(outcome.spec, result, tagged, source=case.name,
                                  replay=report.replay_command(outcome.spec), flags=report.flags))
    return ports, records, rows, counts


def collect(
    options: SweepOptions,
    *,
    cases_dir: Path | None,
    progress: bool = True,
    runner: KerasRunner | None = None,
    sweep: SweepResult | None = None,
) -> ReportData:
    """Run the sweep (or take ``sweep``, e.g. merged shards) and every case file."""
    runner = runner or KerasRunner()
    if sweep is None:
        sweep = run_sweep(options, progress=progress, runner=runner)
    records, rows = sweep_tables(sweep)
    sweep_count = len(records)
    port_counts: list[tuple[str, int]] = []
    ports: list[dict] = []
    complete = not sweep.interrupted
    if complete and cases_dir is not None and Path(cases_dir).is_dir():
        try:
            ports, port_records, port_rows, port_counts = run_port_cases(
            case_files(Path(cases_dir)), runner=runner, progress=progress)
        except KeyboardInterrupt:
            complete = False
        else:
            records += port_records
            rows += port_rows
    record_frame = records_frame(records)
    sources = [SWEEP_SOURCE] * sweep_count + [source for source, n in port_counts for _ in range(n)]
    record_frame.insert(0, "source", sources)
    return ReportData(records=record_frame, cases=pd.DataFrame(rows), ports=pd.DataFrame(ports), sweep=sweep,
                      complete=complete)
