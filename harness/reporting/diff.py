"""``rnn-parity report --compare RUN_A RUN_B``: what changed between two runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: A worst err/tolerance that moved by more than this factor is reported.
CHANGE_FACTOR = 10.0


def _load(run: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    run = Path(run)
    if not (run / "cases.csv").is_file():
        raise ValueError(f"{run} is not an rnn-parity report run (no cases.csv); pass reports/<run-id> or reports/latest")
    cases = pd.read_csv(run / "cases.csv")
    try:
        ports = pd.read_csv(run / "ports.csv")
    except (FileNotFoundError, pd.errors.EmptyDataError):
        ports = pd.DataFrame()
    if "case" not in ports:
        ports = pd.DataFrame(columns=["case", "verdict", "flags"])
    prov = json.loads((run / "provenance.json").read_text()) if (run / "provenance.json").is_file() else {}
    return cases, ports, prov


def compare_runs(run_a: Path, run_b: Path) -> str:
    """A short text report of the differences from ``run_a`` to ``run_b``."""
    cases_a, ports_a, prov_a = _load(run_a)
    cases_b, ports_b, prov_b = _load(run_b)
    lines = [f"compare {Path(run_a).resolve().name} -> {Path(run_b).resolve().name}"]
    va, vb = prov_a.get("versions", {}), prov_b.get("versions", {})
    changed = {k: (va.get(k), vb.get(k)) for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)}
    lines.append("versions: " + (", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items()) or "unchanged"))
    merged = cases_a.merge(cases_b, on="case_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    started = both[(both["status_a"] != "drift") & (both["status_b"] == "drift")]
    stopped = both[(both["status_a"] == "drift") & (both["status_b"] != "drift")]
    lines.append(f"cases: {len(both)} in both, {int((merged['_merge'] == 'left_only').sum())} only in A, "
                 f"{int((merged['_merge'] == 'right_only').sum())} only in B")
    lines.append(f"started drifting: {len(started)}")
    lines += [f"  {cid}" for cid in started["case_id"].head(20)]
    lines.append(f"stopped drifting: {len(stopped)}")
    lines += [f"  {cid}" for cid in stopped["case_id"].head(20)]
    status = both[(both["status_a"] != both["status_b"]) & ~both.index.isin(started.index) & ~both.index.isin(stopped.index)]
    lines.append(f"other status changes: {len(status)}")
    lines += [f"  {r.case_id}: {r.status_a} -> {r.status_b}" for r in status.head(20).itertuples()]
    ratio = (both["worst_ratio_b"] + 1e-30) / (both["worst_ratio_a"] + 1e-30)
    moved = both[(ratio > CHANGE_FACTOR) | (ratio < 1 / CHANGE_FACTOR)]
    lines.append(f"worst err/tol moved more than {CHANGE_FACTOR:g}x: {len(moved)}")
    lines += [f"  {r.case_id}: {r.worst_ratio_a:.3g} -> {r.worst_ratio_b:.3g}" for r in moved.head(20).itertuples()]
    if not ports_a.empty or not ports_b.empty:
        pm = ports_a[["case", "verdict", "flags"]].merge(ports_b[["case", "verdict", "flags"]], on="case", how="outer",
                                                         suffixes=("_a", "_b"))
        diff = pm[(pm["verdict_a"] != pm["verdict_b"]) | (pm["flags_a"].fillna("") != pm["flags_b"].fillna(""))]
        lines.append(f"ports whose answer changed: {len(diff)}")
        lines += [f"  {r.case}: {r.verdict_a} [{r.flags_a}] -> {r.verdict_b} [{r.flags_b}]" for r in diff.itertuples()]
    return "\n".join(lines)


def has_regressions(run_a: Path, run_b: Path) -> bool:
    cases_a, _, _ = _load(run_a)
    cases_b, _, _ = _load(run_b)
    merged = cases_a.merge(cases_b, on="case_id", suffixes=("_a", "_b"))
    return bool(((merged["status_a"] != "drift") & (merged["status_b"] == "drift")).any())
