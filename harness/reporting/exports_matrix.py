"""The export matrix: kind x option group x exporter, what real exporters compute (``report --exports``).

For every exporter and layer kind, ``rnn-parity check --export`` runs on drawn
examples (:func:`harness.check.check.run_check` with
:func:`harness.exports.port.export_port`); each example is one row of
``exports/cases.csv`` (status, option groups, what the artifact holds, the
converter's reason when unsupported), and ``exports/matrix.csv`` counts them per
kind x option group x exporter: pass / drift / ill-conditioned / unsupported /
error, with the causes the diagnosis named and the artifact contents.
``matrix.html`` is the same as a table; :func:`attach_to_report` links it from a
report's ``index.html``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.check.check import CheckOptions, run_check
from harness.layers.columns import option_groups
from harness.sweep.storage import atomic_write, write_csv
from harness.target.runner import KerasRunner

STATUSES = ("pass", "drift", "ill-conditioned", "unsupported", "error")


@dataclass
class ExportRun:
    cases: pd.DataFrame
    versions: dict[str, dict[str, str]] = field(default_factory=dict)  # exporter -> converter/runtime versions
    seconds: float = 0.0


def run_exports(exporters: Sequence[str], kinds: Sequence[str], *, examples: int, seed: int,
                runner: KerasRunner | None = None, progress: bool = True) -> ExportRun:
    """Check every kind on every exporter; PortError (one line) for an unknown exporter or a missing extra."""
    import time

    from tqdm import tqdm

    from harness.exports.port import export_port

    ports = {name: export_port(name) for name in exporters}  # refuse a missing extra before any work
    runner = runner or KerasRunner()
    rows, versions = [], {}
    start = time.perf_counter()
    with tqdm(total=len(exporters) * len(kinds), desc="exports", unit="kind", disable=not progress, leave=False) as bar:
        for name, port in ports.items():
            for kind in kinds:
                report = run_check(port, CheckOptions(kind=kind, examples=examples, seed=seed), runner=runner)
                report.command = f"rnn-parity check --export {name} --layer {kind}"  # what the replay lines run
                flags = ",".join(report.flags)
                for outcome in report.outcomes:
                    if outcome.details.get("versions"):
                        versions.setdefault(name, outcome.details["versions"])
                    rows.append({
                        "exporter": name, "kind": kind, "case_id": outcome.result.case_id,
                        "status": outcome.result.status, "groups": ",".join(option_groups(outcome.spec)),
                        "artifact": outcome.details.get("artifact", ""),
                        "worst_abs_err": outcome.result.worst_abs_err,
                        "first_t": outcome.result.first_t,
                        "flags": flags if outcome.result.status == "drift" else "",
                        "reason": outcome.result.error or "",
                        "replay": report.replay_command(outcome.spec),
                    })
                runner.release()
                bar.update(1)
    return ExportRun(cases=pd.DataFrame(rows), versions=versions, seconds=time.perf_counter() - start)


def matrix_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """One row per exporter x kind x option group: counts per status, causes, artifacts, reasons."""
    if cases.empty:
        return pd.DataFrame(columns=["exporter", "kind", "group", "cases", *STATUSES, "causes", "artifacts", "reasons"])
    exploded = cases.assign(group=cases["groups"].str.split(",")).explode("group")
    rows = []
    for (exporter, kind, group), part in exploded.groupby(["exporter", "kind", "group"], sort=True):
        counts = part["status"].value_counts()
        rows.append({
            "exporter": exporter, "kind": kind, "group": group, "cases": len(part),
            **{s: int(counts.get(s, 0)) for s in STATUSES},
            "causes": ",".join(sorted({f for fl in part["flags"] if fl for f in fl.split(",")})),
            "artifacts": "; ".join(f"{a} ({n})" for a, n in part["artifact"].replace("", pd.NA).dropna()
                                   .value_counts().items()),
            "reasons": " | ".join(sorted(set(part.loc[part["status"] == "unsupported", "reason"]))),
        })
    return pd.DataFrame(rows)


def _verdict(row: pd.Series) -> tuple[str, str]:
    if row["drift"] or row["error"]:
        return "bad", f"{row['drift']} drift, {row['error']} error" + (f": {row['causes']}" if row["causes"] else "")
    if row["unsupported"] and not row["pass"]:
        return "na", "unsupported"
    note = f", {row['unsupported']} unsupported" if row["unsupported"] else ""
    return "ok", f"{row['pass'] + row['ill-conditioned']} pass{note}"


def matrix_html(matrix: pd.DataFrame, *, standalone: bool = True) -> str:
    rows = []
    for _, row in matrix.iterrows():
        css, text = _verdict(row)
        rows.append(f"<tr><td>{html.escape(row['exporter'])}</td><td>{html.escape(row['kind'])}</td>"
                    f"<td>{html.escape(row['group'])}</td><td class='{css}'>{html.escape(text)}</td>"
                    f"<td>{html.escape(row['artifacts'])}</td><td>{html.escape(row['reasons'])}</td></tr>")
    table = ("<h2>Exports: what ONNX and LiteRT compute</h2><p>Each example's layer exported with the real converter "
             "and checked per timestep like a port (<code>rnn-parity check --export</code>); counts per option group.</p>"
             "<div style='overflow-x:auto'><table class='matrix'><tr><th>exporter</th><th>kind</th><th>option group</th>"
             "<th>verdict</th><th>artifacts</th><th>unsupported because</th></tr>" + "".join(rows) + "</table></div>")
    if not standalone:
        return table
    style = ("<style>body{font-family:sans-serif;margin:2rem} table.matrix{border-collapse:collapse} "
             "td,th{border:1px solid #ccc;padding:4px 8px;overflow-wrap:anywhere} .ok{background:#eef8ee} "
             ".na{color:#777} .bad{background:#f8d0d0}</style>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>rnn-parity exports</title>{style}</head><body>{table}</body></html>"


def write_exports(run: ExportRun, out: Path) -> list[Path]:
    """``matrix.csv``, ``matrix.html``, ``cases.csv`` and ``provenance.json`` (converter versions) in ``out``."""
    from harness.sweep.storage import write_json

    matrix = matrix_frame(run.cases)
    return [write_csv(matrix, out / "matrix.csv"),
            atomic_write(out / "matrix.html", lambda tmp: tmp.write_text(matrix_html(matrix))),
            write_csv(run.cases, out / "cases.csv"),
            write_json({"versions": run.versions, "seconds": round(run.seconds, 2)}, out / "provenance.json")]


def attach_to_report(run_dir: Path, run: ExportRun) -> Path:
    """``exports/`` in a written report, and a section in its ``index.html``."""
    paths = write_exports(run, run_dir / "exports")
    index = run_dir / "index.html"
    if index.is_file():
        section = matrix_html(matrix_frame(run.cases), standalone=False)
        section += ("<p>Files: <a href='exports/matrix.csv'>matrix.csv</a>, <a href='exports/cases.csv'>cases.csv</a>, "
                    "<a href='exports/matrix.html'>matrix.html</a></p>")
        text = index.read_text().replace("</body>", f"<section id='exports'>{section}</section></body>", 1)
        atomic_write(index, lambda tmp: tmp.write_text(text))
    return paths[0]
