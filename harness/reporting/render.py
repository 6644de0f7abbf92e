"""index.html and summary.md from the report tables."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.reporting.examples import representative_example

STATUS_ORDER = ["pass", "drift", "ill-conditioned", "error", "explained", "unsupported"]
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd} h3{font-size:1rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f5f5f5} td:first-child,th:first-child{text-align:left}
.banner{padding:.6rem 1rem;border-radius:6px;margin:1rem 0;font-weight:600}
.ok{background:#e6f4ea;color:#137333} .bad{background:#fce8e6;color:#a50e0e} .warn{background:#fef7e0;color:#8a6100}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.78rem;white-space:pre-wrap}
.case{border:1px solid #e3e3e3;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
code{background:#f6f8fa;padding:0 .2rem} img{max-width:100%}
.meta{color:#555;font-size:.85rem}
"""


def summary_by(cases: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Counts per status and the worst err/tol and amplification, grouped by ``keys``."""
    if cases.empty:
        return pd.DataFrame()
    counts = cases.pivot_table(index=keys, columns="status", values="case_id", aggfunc="count", fill_value=0)
    for status in STATUS_ORDER:
        if status not in counts:
            counts[status] = 0
    counts = counts[STATUS_ORDER].rename(columns={"pass": "passed", "drift": "drifted", "error": "errors"})
    counts.columns.name = None
    counts.insert(0, "cases", counts.sum(axis=1))
    judged = cases[cases["status"].isin(["pass", "drift", "ill-conditioned"])]
    counts["worst err/tol"] = judged.groupby(keys)["worst_ratio"].max()
    counts["max amplification"] = judged.groupby(keys)["amplification"].max()
    return counts.reset_index()


def group_summary(cases: pd.DataFrame) -> pd.DataFrame:
    sweep = cases[cases["source"] == "sweep"]
    if sweep.empty:
        return pd.DataFrame()
    exploded = sweep.assign(group=sweep["groups"].str.split(",")).explode("group")
    return summary_by(exploded, ["cell", "group"])


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>none</em></p>"
    return frame.to_html(index=False, escape=True, border=0, float_format=lambda v: f"{v:.3g}", na_rep="")


def _markdown(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for v in row:
            cells.append(f"{v:.3g}" if isinstance(v, (float, np.floating)) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_summary_md(path: Path, *, run_id: str, provenance: dict[str, Any], cases: pd.DataFrame, ports: pd.DataFrame,
                     complete: bool) -> None:
    versions = provenance.get("versions", {})
    text = [f"# rnn-parity drift report `{run_id}`", ""]
    if not complete:
        text += ["**INCOMPLETE RUN**: interrupted; the tables below cover only the cases that finished.", ""]
    text += [
        f"Keras {versions.get('keras')} ({versions.get('backend')}), TensorFlow {versions.get('tensorflow')}, "
        f"NumPy {versions.get('numpy')}, Python {versions.get('python')}; seed {provenance.get('seed')}, "
        f"commit {provenance.get('git_commit')}, {provenance.get('time_utc')}.",
        "",
        "## Keras against the reference, per cell",
        "",
        _markdown(summary_by(cases[cases["source"] == "sweep"], ["cell"])) if not cases.empty else "_none_\n",
        "## Per cell and option group",
        "",
        _markdown(group_summary(cases)),
        "## Ports in `cases/`",
        "",
    ]
    if not ports.empty:
        shown = ports[["case", "layer", "verdict", "flags", "expected_verdict", "expected_flags", "agrees"]]
        text.append(_markdown(shown))
    else:
        text.append("_none_\n")
    path.write_text("\n".join(text))


def _case_section(row: pd.Series, image: str | None) -> str:
    parts = [f'<div class="case"><h3>{html.escape(str(row["case_id"]))}</h3>']
    facts = [f"status <b>{html.escape(str(row['status']))}</b>", f"pattern <b>{html.escape(str(row['pattern']))}</b>"]
    if isinstance(row.get("first_t"), (int, float)) and not pd.isna(row.get("first_t")):
        facts.append(
            f"first divergence: <b>{html.escape(str(row['first_tensor']))}</b> at t=<b>{int(row['first_t'])}</b> "
            f"(error {row['first_err']:.3g} &gt; tolerance {row['first_tolerance']:.3g})"
        )
    if row.get("flags"):
        facts.append(f"flags <b>{html.escape(str(row['flags']))}</b>")
    facts.append(f"amplification {row['amplification']:.3g}")
    parts.append("<p>" + " · ".join(facts) + "</p>")
    if image:
        parts.append(f'<img src="{html.escape(image)}" alt="per-timestep error of {html.escape(str(row["case_id"]))}">')
    if row.get("error"):
        parts.append(f"<pre>{html.escape(str(row['error']))}</pre>")
    parts.append(f"<p>replay: <code>{html.escape(str(row['replay']))}</code></p></div>")
    return "\n".join(parts)


def write_index_html(path: Path, *, run_id: str, provenance: dict[str, Any], cases: pd.DataFrame, ports: pd.DataFrame,
                     heatmap: str | None, case_images: dict[str, str], complete: bool, files: list[str]) -> None:
    versions = provenance.get("versions", {})
    sweep = cases[cases["source"] == "sweep"] if not cases.empty else cases
    drifted = sweep[sweep["status"] == "drift"] if not sweep.empty else sweep
    errors = sweep[sweep["status"] == "error"] if not sweep.empty else sweep
    ports_ok = ports.empty or bool(ports["agrees"].fillna(True).all())
    if not complete:
        banner = '<div class="banner warn">Incomplete run: interrupted; only finished cases are shown.</div>'
    elif len(drifted) or len(errors):
        banner = f'<div class="banner bad">{len(drifted)} sweep case(s) drifted, {len(errors)} errored.</div>'
    else:
        n_ill = int((sweep["status"] == "ill-conditioned").sum()) if not sweep.empty else 0
        banner = (f'<div class="banner ok">No sweep case drifted: Keras and the reference agree on all {len(sweep)} cases '
                  f'({n_ill} ill-conditioned, judged where float32 can follow them).</div>')
    if not ports_ok:
        banner += '<div class="banner bad">Some ports in cases/ did not get their expected answer.</div>'
    body = [
        f"<h1>rnn-parity drift report <code>{html.escape(run_id)}</code></h1>",
        f'<p class="meta">Keras {versions.get("keras")} ({versions.get("backend")}), TensorFlow {versions.get("tensorflow")}, '
        f'NumPy {versions.get("numpy")}, Hypothesis {versions.get("hypothesis")}, Python {versions.get("python")} · '
        f'seed {provenance.get("seed")} · commit {provenance.get("git_commit")} · {provenance.get("time_utc")} · '
        f'{html.escape(str(provenance.get("machine", {}).get("platform")))}</p>',
        banner,
    ]
    if heatmap:
        body += ["<h2>The whole sweep at a glance</h2>",
                 "<p>Each row is a case, each column a timestep; colour is log10(error / tolerance) of the worst tensor "
                 "at that step. Blue is far inside the tolerance, red is outside it, grey was not judged "
                 "(float32 cannot follow an ill-conditioned trajectory there).</p>",
                 f'<img src="{html.escape(heatmap)}" alt="error over tolerance per case and timestep, per cell">']
    body += ["<h2>Keras against the reference</h2>", _table(summary_by(sweep, ["cell"]) if not sweep.empty else sweep),
             "<h3>Per cell and option group</h3>", _table(group_summary(cases) if not cases.empty else cases)]
    body.append("<h2>Ports in <code>cases/</code></h2>")
    if ports.empty:
        body.append("<p><em>no case files</em></p>")
    else:
        body.append(_table(ports[["case", "layer", "verdict", "flags", "expected_verdict", "expected_flags", "agrees", "seconds"]]))
        for _, port in ports.iterrows():
            body.append(f'<div class="case"><h3>{html.escape(str(port["case"]))}: {html.escape(str(port["verdict"]))}'
                        f'{" [" + html.escape(str(port["flags"])) + "]" if port["flags"] else ""}</h3>')
            body.append(f"<p>{html.escape(str(port['description']))}</p>")
            body.append(f"<pre>{html.escape(str(port['answer']))}</pre>")
            shown = representative_example(cases, port["case"])
            if shown is not None:
                row = cases[cases["case_id"] == shown].iloc[0]
                body.append(_case_section(row, case_images.get(shown)))
            body.append(f"<p>run it: <code>{html.escape(str(port['command']))}</code></p></div>")
    body.append("<h2>Drifted or failed sweep cases</h2>")
    flagged = pd.concat([drifted, errors]) if not sweep.empty else sweep
    if flagged.empty:
        body.append("<p><em>none</em></p>")
    else:
        body += [_case_section(row, case_images.get(row["case_id"])) for _, row in flagged.iterrows()]
    ill = sweep[sweep["status"] == "ill-conditioned"] if not sweep.empty else sweep
    body.append("<h2>Most ill-conditioned sweep cases</h2><p>Not mismatches: the case's own dynamics amplify float32 "
                "round-off, so late steps cannot be judged. Shown so the tolerance band can be seen at work.</p>")
    if ill.empty:
        body.append("<p><em>none</em></p>")
    else:
        top = ill.replace([np.inf], np.nan).sort_values("amplification", ascending=False, na_position="first").head(3)
        body += [_case_section(row, case_images.get(row["case_id"])) for _, row in top.iterrows()]
    body.append("<h2>Files</h2><ul>" + "".join(f'<li><a href="{html.escape(f)}">{html.escape(f)}</a></li>' for f in files) + "</ul>")
    body.append('<p class="meta">Columns are documented in <code>reports/README.md</code>.</p>')
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>rnn-parity report {html.escape(run_id)}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path.write_text(page)
