"""Merging shards: one sweep rebuilt from the directories of its shards (``rnn-parity merge``).

Shards are contiguous blocks of compile groups (:mod:`harness.sweep.shard`), so
their concatenation, in shard order, is the unsharded sweep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from harness.sweep.shard import order_shards, provenance_of


def load_sweep(directories: Sequence[Path]):
    """A :class:`~harness.sweep.run.SweepResult` rebuilt from shard directories (records as written, 6 digits)."""
    import dataclasses

    import pandas as pd

    from harness.layers.case import CaseSpec
    from harness.oracle.compare import CaseResult, StepRecord
    from harness.sweep.parity import CaseOutcome
    from harness.sweep.run import SweepOptions, SweepResult

    ordered = order_shards(directories)
    options = dict(provenance_of(ordered[0])["options"])
    options.update(cells=tuple(options["cells"]), shard=(1, 1))
    result = SweepResult(SweepOptions(**options))
    result_fields = [f.name for f in dataclasses.fields(CaseResult)]
    record_fields = [f.name for f in dataclasses.fields(StepRecord)]
    for directory in ordered:
        prov = provenance_of(directory)
        result.seconds += float(prov.get("seconds", 0.0))
        result.interrupted |= not prov.get("complete", True)
        cases = pd.read_csv(directory / "cases.csv", keep_default_na=True, dtype={"index": str})
        records = pd.read_csv(directory / "records.csv", dtype={"index": str})
        by_case = {cid: rows for cid, rows in records.groupby("case_id", sort=False)} if not records.empty else {}
        for row in cases.to_dict("records"):
            token = str(row["replay"]).split()[-1]
            spec = CaseSpec.from_token(token)
            values = {f: (None if isinstance(row[f], float) and row[f] != row[f] and f in _OPTIONAL else row[f])
                      for f in result_fields}
            for name in ("first_t",):
                if values[name] is not None:
                    values[name] = int(values[name])
            rows = by_case.get(row["case_id"])
            steps = [] if rows is None else [StepRecord(**r) for r in rows[record_fields].to_dict("records")]
            result.outcomes.append(CaseOutcome(spec, CaseResult(**values), steps))
    return result


_OPTIONAL = {"first_tensor", "first_t", "first_index", "first_err", "first_tolerance", "error"}
