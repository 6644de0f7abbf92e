"""Run directories: ``reports/<run-id>/`` written whole or marked incomplete, and ``reports/latest``.

A run is written into ``reports/.<run-id>.partial/`` and renamed into place
when every file is there, so a reader never sees half a report; runs never
overwrite each other; ``reports/latest`` is a symlink swapped atomically.
"""

from __future__ import annotations

import os
import shutil
import re
from datetime import datetime, timezone
from pathlib import Path

from harness.reporting.collect import ReportData
from harness.reporting.examples import representative_example
from harness.reporting.plots import case_plot, sweep_heatmap
from harness.reporting.render import summary_by, write_index_html, write_summary_md
from harness.sweep.storage import git_commit, provenance, write_csv, write_json

REPORTS_DIR = Path("reports")
LATEST = "latest"


def new_run_id(seed: int, *, root: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-seed{seed}-{git_commit()}"
    run_id, k = base, 1
    while (root / run_id).exists():
        k += 1
        run_id = f"{base}-{k}"
    return run_id


def _safe_name(case_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", case_id)[:120]


def _images(data: ReportData, img_dir: Path, *, cells: list[str]) -> tuple[str | None, dict[str, str]]:
    img_dir.mkdir(parents=True, exist_ok=True)
    heatmap = None
    if not data.records.empty:
        heatmap = str(sweep_heatmap(data.records, data.cases, img_dir / "sweep-heatmap.png", cells=cells).relative_to(img_dir.parent))
    wanted: list[str] = []
    cases = data.cases
    if not cases.empty:
        sweep = cases[cases["source"] == "sweep"]
        wanted += list(sweep[sweep["status"].isin(["drift"])]["case_id"])
        ill = sweep[sweep["status"] == "ill-conditioned"].replace([float("inf")], float("nan"))
        wanted += list(ill.sort_values("amplification", ascending=False, na_position="first").head(3)["case_id"])
        for source in cases["source"].unique():
            if source == "sweep":
                continue
            wanted.append(representative_example(cases, source))
    images = {}
    by_case = data.records.groupby("case_id") if not data.records.empty else {}
    for case_id in dict.fromkeys(w for w in wanted if w):
        if case_id not in getattr(by_case, "groups", {}):
            continue
        rows = by_case.get_group(case_id)
        path = img_dir / f"{_safe_name(case_id)}.png"
        try:
            case_plot(rows, path, title=case_id)
        except (ValueError, OverflowError):  # one unplottable case must not cost the report
            continue
        images[case_id] = str(path.relative_to(img_dir.parent))
    return heatmap, images


def _write_run_files(data: ReportData, partial: Path, *, run_id: str, seed: int, cells: list[str],
                     extra: dict | None) -> None:
    prov = provenance(seed=seed, run_id=run_id, complete=data.complete, hypothesis_profile="sweep (seeded, generate phase only)",
                      **(extra or {}))
    files = ["summary.md", "records.csv", "cases.csv", "ports.csv", "summary.csv", "provenance.json"]
    write_csv(data.records, partial / "records.csv")
    try:
        data.records.to_parquet(partial / "records.parquet", index=False)
        files.insert(2, "records.parquet")
    except ImportError:  # pyarrow missing: CSV is the documented format, Parquet a convenience
        pass
    write_csv(data.cases, partial / "cases.csv")
    write_csv(data.ports, partial / "ports.csv")
    sweep_cases = data.cases[data.cases["source"] == "sweep"] if not data.cases.empty else data.cases
    write_csv(summary_by(sweep_cases, ["cell"]) if not sweep_cases.empty else sweep_cases, partial / "summary.csv")
    write_json(prov, partial / "provenance.json")
    heatmap, images = _images(data, partial / "img", cells=cells)
    write_summary_md(partial / "summary.md", run_id=run_id, provenance=prov, cases=data.cases, ports=data.ports,
                     complete=data.complete)
    write_index_html(partial / "index.html", run_id=run_id, provenance=prov, cases=data.cases, ports=data.ports,
                     heatmap=heatmap, case_images=images, complete=data.complete, files=files)


def write_report(data: ReportData, *, root: Path = REPORTS_DIR, seed: int, cells: list[str], extra: dict | None = None) -> Path:
    """Write every file of the run and point ``latest`` at it; returns the run directory."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id(seed, root=root)
    partial = root / f".{run_id}.partial"
    partial.mkdir()
    try:
        _write_run_files(data, partial, run_id=run_id, seed=seed, cells=cells, extra=extra)
    except BaseException:  # Ctrl-C or a failure while writing: leave no half-written run behind
        shutil.rmtree(partial, ignore_errors=True)
        raise
    final = root / run_id
    os.replace(partial, final)
    link_tmp = root / f".{LATEST}.tmp"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(run_id)
    os.replace(link_tmp, root / LATEST)
    return final
