"""index.html and summary.md from the report tables."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.reporting.examples import representative_example

STATUS_ORDER = ["pass", "drift", "ill-conditioned", "error", "explained", "unsupported"]
CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1180px;color:#222;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem;overflow-wrap:anywhere} h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1.05rem;margin-top:1.4rem} h2 a.up,h3 a.up{font-size:.75rem;font-weight:normal;margin-left:.6rem;color:#888}
a{color:#0b57d0} p,li,dd,summary,h3{overflow-wrap:anywhere} td,th{overflow-wrap:break-word}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f5f5f5} td.l,th.l{text-align:left} tr.bad td{background:#fff4f3} tr.gap td{background:#fffbea}
.banner{padding:.6rem 1rem;border-radius:6px;margin:1rem 0;font-weight:600}
.ok{background:#e6f4ea;color:#137333} .bad{background:#fce8e6;color:#a50e0e} .warn{background:#fef7e0;color:#8a6100}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;font-weight:600;white-space:nowrap}
.tag.ok,.tag.bad,.tag.warn{font-weight:600} .tag.grey{background:#eee;color:#444}
pre{background:#f6f8fa;border:1px solid #e5e7eb;border-radius:4px;padding:.5rem .6rem;font-size:.78rem;margin:.3rem 0 .6rem;
    white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%;max-height:22rem;overflow:auto}
pre.cmd{white-space:pre-wrap;user-select:all;max-height:8rem}
code{background:#f6f8fa;padding:0 .2rem;overflow-wrap:anywhere}
img{max-width:100%;height:auto;display:block;margin:.4rem 0}
.meta{color:#555;font-size:.85rem}
details{border:1px solid #e3e3e3;border-radius:6px;padding:.4rem .9rem;margin:.6rem 0;background:#fff}
details.problem{border-color:#f4b4ae;border-left:4px solid #d93025}
details>summary{cursor:pointer;font-weight:600;padding:.2rem 0}
details details{margin:.6rem 0 .2rem}
.example{border-top:1px dashed #ddd;margin-top:.6rem;padding-top:.4rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.4rem 0;font-size:.9rem}
dl.facts dt{color:#555} dl.facts dd{margin:0}
nav.toc{background:#f8f9fb;border:1px solid #e3e3e3;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
nav.toc ol{margin:.3rem 0;padding-left:1.4rem;columns:2} nav.toc li{margin:.1rem 0}
ul.look li{margin:.3rem 0}
.key span.sw{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;vertical-align:-2px;margin:0 .25rem 0 .7rem}
.note{font-size:.85rem;color:#444}
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


# ---------------------------------------------------------------------------------------------
# index.html
#
# The page: a "what to look at" summary and a table of contents first, problems before passes,
# every port case a <details> (open when it is a problem), every table row linked to its section.
# No value prints as nan/None/inf: a missing value is a dash explained next to its table, and an
# infinite amplification is "overflow" (float32 overflowed in the reference samples).

DASH = "–"
OVERFLOW = "overflow"
OVERFLOW_NOTE = ("<b>overflow</b> in an amplification column: float32 overflowed (an infinite or not-a-number value) somewhere in the "
                 "reference's perturbed samples, so the amplification has no finite value; those steps are not "
                 "judged, the steps before them are.")
AMPLIFICATION_NOTE = ("<b>amplification</b> is how far a case's own dynamics magnify float32 round-off "
                      "(noise floor / ulp); above 10<sup>3</sup> a step is not judged, and the case is "
                      "ill-conditioned, not a mismatch.")
PROBLEM_STATUSES = ("drift", "error")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "nan", "None", "NaN")


def _esc(value: Any, missing: str = DASH) -> str:
    return missing if _missing(value) else html.escape(str(value))


def _num(value: Any, missing: str = DASH) -> str:
    if _missing(value):
        return missing
    value = float(value)
    if np.isinf(value):
        return OVERFLOW if value > 0 else "-" + OVERFLOW
    return f"{value:.3g}"


def _amp(value: Any, missing: str = DASH) -> str:
    """An amplification: a number, or 'overflow' with its meaning on hover."""
    if not _missing(value) and np.isinf(float(value)):
        return '<span title="float32 overflowed in the reference samples: those steps are not judged">overflow</span>'
    return _num(value, missing)


def _share(judged: Any, steps: Any) -> str:
    if _missing(steps) or int(steps) == 0:
        return "no steps"
    return f"{int(judged) / int(steps):.0%} <span class=note>({int(judged):,} of {int(steps):,})</span>"


def _yes(value: Any) -> bool:
    return (not _missing(value)) and str(value).lower() in ("true", "1", "1.0")


def _no(value: Any) -> bool:
    return (not _missing(value)) and str(value).lower() in ("false", "0", "0.0")


class _Anchors:
    """Unique, readable ids for sections."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.by_key: dict[str, str] = {}

    def get(self, prefix: str, key: str) -> str:
        full = f"{prefix}:{key}"
        if full not in self.by_key:
            base = prefix + "-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-")[:80] or "x")
            anchor, k = base, 1
            while anchor in self.used:
                k += 1
                anchor = f"{base}-{k}"
            self.used.add(anchor)
            self.by_key[full] = anchor
        return self.by_key[full]


def _link(anchor: str, text: str) -> str:
    return f'<a href="#{anchor}">{text}</a>'


def _grid(headers: list[str], rows: list[list[str]], *, row_class: list[str] | None = None,
          left: int = 1, row_ids: list[str | None] | None = None) -> str:
    """An HTML table from already-escaped cells; the first ``left`` columns are left-aligned."""
    if not rows:
        return "<p><em>none</em></p>"
    out = ['<div class="scroll"><table><thead><tr>']
    out += [f'<th{" class=l" if k < left else ""}>{h}</th>' for k, h in enumerate(headers)]
    out.append("</tr></thead><tbody>")
    for i, cells in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        rid = f' id="{row_ids[i]}"' if row_ids and row_ids[i] else ""
        out.append(f"<tr{cls}{rid}>" + "".join(f'<td{" class=l" if k < left else ""}>{c}</td>'
                                              for k, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _group_label(group: Any) -> str:
    """An option group as shown: Bidirectional's merge_mode=None is "merge-none (outputs kept apart)"."""
    return "merge-none (outputs kept apart)" if group == "merge-None" else _esc(group)


def _status_tag(status: Any) -> str:
    status = "" if _missing(status) else str(status)
    cls = {"pass": "ok", "drift": "bad", "error": "bad", "ill-conditioned": "warn", "explained": "warn"}.get(status, "grey")
    return f'<span class="tag {cls}">{html.escape(status or "unknown")}</span>'


def _load_records(run_dir: Path) -> pd.DataFrame:
    """The run's records (already written next to index.html), only the columns the page needs."""
    columns = ["source", "case_id", "cell", "tensor", "t", "judged"]
    try:
        if (run_dir / "records.parquet").is_file():
            return pd.read_parquet(run_dir / "records.parquet", columns=columns)
        if (run_dir / "records.csv").is_file():
            return pd.read_csv(run_dir / "records.csv", usecols=columns)
    except (ImportError, ValueError, OSError):
        pass
    return pd.DataFrame(columns=columns)


def _facts(row: pd.Series) -> str:
    """The facts of one case as a definition list; missing values are left out."""
    items = [("status", _status_tag(row.get("status")))]
    if not _missing(row.get("pattern")):
        items.append(("error curve", html.escape(str(row["pattern"]))))
    if not _missing(row.get("first_t")):
        first = (f"<b>{_esc(row.get('first_tensor'))}</b> at t=<b>{int(row['first_t'])}</b>")
        if not _missing(row.get("first_err")) and not _missing(row.get("first_tolerance")):
            first += f" (|error| {_num(row['first_err'])} &gt; tolerance {_num(row['first_tolerance'])})"
        items.append(("first divergence", first))
    if not _missing(row.get("worst_ratio")) and row.get("status") in ("pass", "drift", "ill-conditioned"):
        items.append(("worst |error| / tolerance", _num(row["worst_ratio"]) + " <span class=note>(over judged steps; above 1 is a drift)</span>"))
    if not _missing(row.get("flags")):
        items.append(("flags", f"<b>{html.escape(str(row['flags']))}</b>"))
    if not _missing(row.get("behaviour")):
        items.append(("known behaviour", html.escape(str(row["behaviour"]))))
    amp = row.get("amplification")
    if not _missing(amp):
        note = (" <span class=note>(float32 overflowed in the reference samples; those steps are not judged)</span>"
                if np.isinf(float(amp)) else
                (" <span class=note>(above 10<sup>3</sup>: steps that far are not judged)</span>" if float(amp) > 1e3 else ""))
        items.append(("amplification", _amp(amp) + note))
    if not _missing(row.get("steps")) and int(row.get("steps") or 0):
        items.append(("judged timesteps", _share(row["judged_steps"], row["steps"])))
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _case_body(row: pd.Series, image: str | None) -> str:
    parts = [_facts(row)]
    if image:
        parts.append(f'<img src="{html.escape(image)}" '
                     f'alt="per-timestep |error| against tolerance of {html.escape(str(row["case_id"]))}">')
    if not _missing(row.get("error")):
        parts.append(f'<p>why it could not run:</p><pre data-verbatim>{html.escape(str(row["error"]))}</pre>')
    if not _missing(row.get("replay")):
        parts.append(f'<p>replay this case:</p><pre class="cmd">{html.escape(str(row["replay"]))}</pre>')
    return "\n".join(parts)


def _case_details(row: pd.Series, image: str | None, anchor: str, *, open_: bool) -> str:
    problem = row.get("status") in PROBLEM_STATUSES
    return (f'<details id="{anchor}" class="case{" problem" if problem else ""}"{" open" if open_ else ""}>'
            f'<summary>{_status_tag(row.get("status"))} <code>{_esc(row["case_id"])}</code> '
            f'<span class="note">{_esc(row.get("cell"))}</span></summary>\n{_case_body(row, image)}\n</details>')


def _port_problem(port: pd.Series) -> bool:
    return _no(port.get("agrees")) or (port.get("verdict") == "error" and not _yes(port.get("agrees")))


def _expected_text(port: pd.Series) -> str:
    if _missing(port.get("expected_verdict")):
        return "no expected answer in the case file"
    flags = "" if _missing(port.get("expected_flags")) else f" [{html.escape(str(port['expected_flags']))}]"
    return f"{html.escape(str(port['expected_verdict']))}{flags}"


def _answer_text(port: pd.Series) -> str:
    flags = "" if _missing(port.get("flags")) else f" [{html.escape(str(port['flags']))}]"
    return f"<b>{_esc(port.get('verdict'))}</b>{flags}"


def _agreement(port: pd.Series) -> str:
    if _yes(port.get("agrees")):
        return '<span class="tag ok">as expected</span>'
    if _no(port.get("agrees")):
        return '<span class="tag bad">NOT as expected</span>'
    return '<span class="tag grey">no expectation</span>'


def _colour_key(tensors: list[str]) -> str:
    from harness.reporting.plots import tensor_colour

    if not tensors:
        return ""
    swatches = "".join(f'<span class="sw" style="background:{tensor_colour(t)}"></span>{html.escape(t)}' for t in tensors)
    return (f'<p class="key note">One colour per tensor in every plot:{swatches}. Solid line: max |error| at the step; '
            "dashed line with a light band under it: the tolerance (the band is where the error may be); grey "
            "columns: steps not judged; red dotted line: first divergence.</p>")


def _tensor_order(records: pd.DataFrame) -> list[str]:
    from harness.reporting.plots import TENSOR_COLOURS

    names = set(records["tensor"].astype(str)) if not records.empty else set()
    known = [t for t in TENSOR_COLOURS if t in names]
    return known + sorted(names - set(known))


def _summary_rows(frame: pd.DataFrame, first: str, link=None) -> tuple[list[str], list[list[str]]]:
    """Display rows of a :func:`summary_by` table (the CSV keeps the raw numbers)."""
    counts = ["cases", "passed", "drifted", "ill-conditioned", "errors", "explained", "unsupported"]
    headers = [first] + ([] if first == "cell" else []) + counts + ["worst |error| / tolerance", "max amplification"]
    rows = []
    for _, r in frame.iterrows():
        name = _group_label(r[first]) if first == "group" else _esc(r[first])
        cells = [link(r) if link else name]
        cells += [str(int(r[c])) if not _missing(r.get(c)) else "0" for c in counts]
        cells += [_num(r.get("worst err/tol"), "no judged case"), _amp(r.get("max amplification"), "no judged case")]
        rows.append(cells)
    return headers, rows


def write_index_html(path: Path, *, run_id: str, provenance: dict[str, Any], cases: pd.DataFrame, ports: pd.DataFrame,
                     heatmap: str | None, case_images: dict[str, str], complete: bool, files: list[str],
                     records: pd.DataFrame | None = None) -> None:
    """Write the report page. ``records`` defaults to the run's records file next to ``path``."""
    from harness.reporting.conditioning import CAUSE_TITLES, CAUSES, by_cause, per_kind
    from harness.reporting.coverage import coverage_table, gaps, with_steps

    path = Path(path)
    records = _load_records(path.parent) if records is None else records
    anchors = _Anchors()
    cases = with_steps(cases, records) if not cases.empty else cases
    sweep = cases[cases["source"] == "sweep"] if not cases.empty else cases
    status = sweep["status"] if not sweep.empty else pd.Series(dtype=str)
    drifted, errors = sweep[status == "drift"], sweep[status == "error"]
    ill = sweep[status == "ill-conditioned"]
    problem_ports = ports[ports.apply(_port_problem, axis=1)] if not ports.empty else ports
    port_errors = ports[ports["verdict"] == "error"] if not ports.empty else ports
    sweep_steps, sweep_judged = (int(sweep["steps"].sum()), int(sweep["judged_steps"].sum())) if not sweep.empty else (0, 0)
    coverage = coverage_table(cases, records) if not cases.empty else pd.DataFrame()
    coverage_gaps = gaps(coverage) if not coverage.empty else []

    def case_anchor(case_id: str) -> str:
        return anchors.get("case", case_id)

    def port_anchor(name: str) -> str:
        return anchors.get("port", name)

    # ---- header and "what to look at"
    versions = provenance.get("versions", {})
    meta = [f"Keras {_esc(versions.get('keras'), 'version unknown')}"
            + ("" if _missing(versions.get("backend")) else f" ({html.escape(str(versions['backend']))})")]
    meta += [f"{label} {html.escape(str(versions[key]))}" for key, label in
             (("tensorflow", "TensorFlow"), ("numpy", "NumPy"), ("hypothesis", "Hypothesis"), ("python", "Python"))
             if not _missing(versions.get(key))]
    meta += [f"{label} {html.escape(str(provenance[key]))}" for key, label in
             (("seed", "seed"), ("git_commit", "commit"), ("time_utc", "")) if not _missing(provenance.get(key))]
    platform = provenance.get("machine", {}).get("platform")
    if not _missing(platform):
        meta.append(html.escape(str(platform)))
    body = [f"<h1>rnn-parity drift report <code>{html.escape(run_id)}</code></h1>",
            f'<p class="meta">{" · ".join(m.strip() for m in meta)}</p>', '<section id="summary"><h2>What to look at</h2>']
    if not complete:
        body.append('<div class="banner warn">Incomplete run: interrupted; only the cases that finished are shown.</div>')
    trouble = len(drifted) + len(errors) + len(problem_ports)
    if trouble:
        body.append(f'<div class="banner bad">{len(drifted)} sweep case(s) drifted, {len(errors)} could not run, '
                    f"{len(problem_ports)} port(s) did not get their expected answer.</div>")
    else:
        # Cases a target cannot run (a named Keras crash) are not agreements: say how many.
        ran = int((status != "unsupported").sum())
        agreed = f"all {len(sweep)}" if ran == len(sweep) else f"all {ran} runnable (of {len(sweep)})"
        body.append(f'<div class="banner ok">Nothing drifted: Keras and the reference agree on {agreed} sweep '
                    f"cases, and every port in <code>cases/</code> got its expected answer.</div>")
    look = []

    def some(frame: pd.DataFrame, key: str, make_anchor, limit: int = 8) -> str:
        names = list(frame[key])
        links = ", ".join(_link(make_anchor(n), f"<code>{html.escape(str(n))}</code>") for n in names[:limit])
        return links + (f" and {len(names) - limit} more" if len(names) > limit else "")

    if len(drifted):
        look.append(f'<b>{len(drifted)} drifted sweep case(s)</b> (Keras outside tolerance of the reference): '
                    f"{some(drifted, 'case_id', case_anchor)}")
    if len(problem_ports):
        look.append(f"<b>{len(problem_ports)} port(s) whose answer was not the expected one</b>: "
                    f"{some(problem_ports, 'case', port_anchor)}")
    if len(errors):
        look.append(f"<b>{len(errors)} sweep case(s) could not run</b>: {some(errors, 'case_id', case_anchor)}")
    if not ports.empty:
        as_expected = int(ports["agrees"].map(_yes).sum())
        text = f"Ports in <code>cases/</code>: {as_expected} of {len(ports)} got their expected answer"
        unexpected = int(ports["expected_verdict"].map(_missing).sum())
        if unexpected:
            text += f" ({unexpected} without an expected answer in the case file)"
        if len(port_errors):
            expected_errors = port_errors[port_errors["agrees"].map(_yes)]
            if len(expected_errors) == len(port_errors):
                text += (f"; {len(port_errors)} answered <i>error</i>, as its case file expects: "
                         f"{some(expected_errors, 'case', port_anchor)}")
            else:
                text += f"; {len(port_errors)} answered <i>error</i>, {len(expected_errors)} of them as expected"
        look.append(text + f" ({_link('ports', 'all ports')}).")
    if len(sweep):
        look.append(f"Ill-conditioned sweep cases: {len(ill)} of {len(sweep)}, not mismatches; "
                    f"{_share(sweep_judged, sweep_steps)} of all sweep timesteps were judged "
                    f"({_link('ill-conditioning', 'why the rest were not')}).")
    if coverage_gaps:
        look.append(f"Coverage: {len(coverage_gaps)} gap(s), e.g. {html.escape(coverage_gaps[0])} "
                    f"({_link('coverage', 'all')}).")
    elif not coverage.empty:
        look.append(f"Coverage: every common option value was exercised ({_link('coverage', 'table')}).")
    body.append('<ul class="look">' + "".join(f"<li>{item}</li>" for item in look) + "</ul></section>")

    # ---- contents
    toc = [("problems", f"Drifted or failed sweep cases ({len(drifted) + len(errors)})"),
           ("ports", f"Ports in cases/ ({len(ports)}; {len(problem_ports)} not as expected)"),
           ("sweep", f"The sweep: Keras against the reference ({len(sweep)} cases)"),
           ("ill-conditioning", f"Ill-conditioned cases and judged timesteps ({len(ill)})"),
           ("coverage", f"Coverage per option value ({len(coverage_gaps)} gaps)"),
           ("files", "Files and columns")]
    body.append('<nav class="toc" id="contents"><b>Contents</b><ol>'
                + "".join(f"<li>{_link(a, html.escape(t))}</li>" for a, t in toc) + "</ol></nav>")
    up = ' <a class="up" href="#contents">contents ↑</a>'
    tensor_key = _colour_key(_tensor_order(records))

    # ---- 1. problems
    body.append(f'<section id="problems"><h2>1. Drifted or failed sweep cases{up}</h2>')
    flagged = pd.concat([drifted, errors]) if not sweep.empty else sweep
    if flagged.empty:
        body.append(f"<p>No sweep case drifted or failed: all {len(sweep)} ran, and Keras stayed within tolerance "
                    "of the reference at every judged step.</p>")
    else:
        body.append(tensor_key)
        rows = [[_link(case_anchor(r["case_id"]), f"<code>{html.escape(str(r['case_id']))}</code>"), _esc(r["cell"]),
                 _status_tag(r["status"]),
                 (f"{_esc(r.get('first_tensor'))} at t={int(r['first_t'])}" if not _missing(r.get("first_t")) else DASH),
                 _esc(r.get("pattern"))] for _, r in flagged.iterrows()]
        body.append(_grid(["case", "kind", "status", "first divergence", "error curve"], rows, left=2))
        body += [_case_details(r, case_images.get(r["case_id"]), case_anchor(r["case_id"]), open_=True)
                 for _, r in flagged.iterrows()]
    body.append("</section>")

    # ---- 2. ports
    body.append(f'<section id="ports"><h2>2. Ports in <code>cases/</code>{up}</h2>')
    if ports.empty:
        body.append("<p><em>No case files were run.</em></p>")
    else:
        body.append("<p>Each case file runs a port against Keras and names the likely cause of any difference. "
                    "Ports whose answer was not the expected one come first and are open; click any other to open it.</p>")
        ordered = pd.concat([problem_ports, ports.drop(problem_ports.index)])
        problem_set = set(problem_ports["case"])
        rows, classes = [], []
        for _, port in ordered.iterrows():
            rows.append([_link(port_anchor(port["case"]), f"<code>{html.escape(str(port['case']))}</code>"),
                         _esc(port.get("layer")), _answer_text(port), _expected_text(port), _agreement(port),
                         _num(port.get("seconds"))])
            classes.append("bad" if port["case"] in problem_set else "")
        body.append(_grid(["case file", "layer", "answer", "expected", "", "seconds"], rows, row_class=classes, left=4))
        body.append(tensor_key)
        for _, port in ordered.iterrows():
            problem = port["case"] in problem_set
            part = [f'<details id="{port_anchor(port["case"])}" class="port{" problem" if problem else ""}"'
                    f'{" open" if problem else ""}><summary><code>{html.escape(str(port["case"]))}</code> '
                    f'{_answer_text(port)} {_agreement(port)} <span class="note">{_esc(port.get("layer"))}</span></summary>']
            if not _missing(port.get("description")):
                part.append(f"<p data-verbatim>{html.escape(str(port['description']))}</p>")
            part.append(f"<p>expected: {_expected_text(port)}</p>")
            if not _missing(port.get("answer")):
                part.append(f"<p>its answer:</p><pre data-verbatim>{html.escape(str(port['answer']))}</pre>")
            shown = representative_example(cases, port["case"]) if not cases.empty else None
            if shown is not None:
                row = cases[cases["case_id"] == shown].iloc[0]
                part.append(f'<div class="example"><h3>Example: <code>{html.escape(str(shown))}</code></h3>'
                            f"{_case_body(row, case_images.get(shown))}</div>")
            if not _missing(port.get("command")):
                part.append(f'<p>run it:</p><pre class="cmd">{html.escape(str(port["command"]))}</pre>')
            part.append("</details>")
            body.append("\n".join(part))
    body.append("</section>")

    # ---- 3. the sweep
    body.append(f'<section id="sweep"><h2>3. The sweep: Keras against the reference{up}</h2>')
    if heatmap:
        body += ["<p>Each panel is one kind of layer; each row a case (longest first), each column a timestep. "
                 "Colour is log10(|error| / tolerance) of the worst tensor at that step: blue is inside the "
                 "tolerance, red outside it; grey was not judged (float32 cannot follow an ill-conditioned "
                 "trajectory there).</p>",
                 f'<img src="{html.escape(heatmap)}" alt="error over tolerance per case and timestep, one panel per kind">']
    if sweep.empty:
        body.append("<p><em>No sweep cases.</em></p>")
    else:
        headers, rows = _summary_rows(summary_by(sweep, ["cell"]), "cell",
                                      link=lambda r: _link(anchors.get("kind", str(r["cell"])), html.escape(str(r["cell"]))))
        body.append("<h3>Per kind</h3>" + _grid(headers, rows))
        body.append(f'<p class="note">{AMPLIFICATION_NOTE} {OVERFLOW_NOTE} A kind links to its judged share '
                    "in section 4.</p>")
        groups = group_summary(cases)
        headers, rows = _summary_rows(groups, "group")
        for cells, (_, g) in zip(rows, groups.iterrows()):
            cells.insert(0, _link(anchors.get("kind", str(g["cell"])), html.escape(str(g["cell"]))))
        body.append(f"<details><summary>Per kind and option group ({len(rows)} rows)</summary>"
                    + _grid(["kind"] + headers, rows, left=2) + "</details>")
    body.append("</section>")

    # ---- 4. ill-conditioning
    body.append(f'<section id="ill-conditioning"><h2>4. Ill-conditioned cases and judged timesteps{up}</h2>')
    body.append(f"<p>{AMPLIFICATION_NOTE} {OVERFLOW_NOTE} An ill-conditioned case is still judged at every step "
                "float32 can follow, so it can drift; it is never called a mismatch for the steps it cannot.</p>")
    if sweep.empty:
        body.append("<p><em>No sweep cases.</em></p>")
    else:
        kinds = per_kind(sweep)
        rows, ids = [], []
        for _, k in kinds.iterrows():
            rows.append([html.escape(str(k["cell"])), str(k["cases"]), str(k["ill"]), str(k["overflowed"]),
                         _share(k["judged_steps"], k["steps"]), _num(k["worst_finite_amplification"], "none finite")])
            ids.append(anchors.get("kind", str(k["cell"])))
        body.append("<h3>Per kind (sweep)</h3>" + _grid(
            ["kind", "cases", "ill-conditioned", "overflowed", "judged timesteps", "largest finite amplification"],
            rows, row_ids=ids))
        causes = by_cause(sweep)
        body.append("<h3>Ill-conditioned cases by likely cause</h3>")
        if causes.empty:
            body.append("<p>No sweep case was ill-conditioned: every step of every sweep case was judged.</p>")
        else:
            body.append("<p>Each case is counted once, under the first cause that fits it, in this order. "
                        "The cause is read from the case's options, not measured.</p>")
            rows = []
            for _, c in causes.iterrows():
                ids_ = c["case_ids"]
                examples = ", ".join((_link(case_anchor(i), f"<code>{html.escape(i)}</code>") if i in case_images
                                      else f"<code>{html.escape(i)}</code>") for i in ids_[:2])
                if len(ids_) > 2:
                    examples += f" and {len(ids_) - 2} more"
                rows.append([f"<b>{CAUSE_TITLES[c['cause']]}</b><br><span class=note>{html.escape(CAUSES[c['cause']])}</span>",
                             str(c["cases"]), html.escape(c["kinds"]), str(c["overflowed"]),
                             (f"{c['judged_share']:.0%}" if not _missing(c["judged_share"]) else "no steps"),
                             _esc(c["details"], ""), examples])
            body.append(_grid(["likely cause", "cases", "per kind", "overflowed", "judged timesteps", "seen", "examples"],
                              rows, left=1))
        shown = [cid for cid in ill["case_id"] if cid in case_images]
        if shown:
            body.append("<h3>The most ill-conditioned cases</h3><p>Shown so the tolerance band and the unjudged "
                        "(grey) steps can be seen at work.</p>" + tensor_key)
            top = ill[ill["case_id"].isin(shown)].copy()
            top["_a"] = top["amplification"].astype(float).replace(np.inf, np.finfo(float).max)
            body += [_case_details(r, case_images.get(r["case_id"]), case_anchor(r["case_id"]), open_=False)
                     for _, r in top.sort_values("_a", ascending=False).iterrows()]
    body.append("</section>")

    # ---- 5. coverage
    body.append(f'<section id="coverage"><h2>5. Coverage per option value{up}</h2>')
    if coverage.empty:
        body.append("<p><em>No cases.</em></p>")
    else:
        body.append("<p>How many cases exercised each option value (the sweep compares Keras with the reference; "
                    "ports compare a port with Keras), and what share of those cases' timesteps were judged.</p>")
        if coverage_gaps:
            body.append('<div class="banner warn">Not covered or barely judged:</div><ul>'
                        + "".join(f"<li>{html.escape(g)}</li>" for g in coverage_gaps) + "</ul>")
        else:
            body.append('<div class="banner ok">Every common option value was exercised by the sweep, and most of '
                        "its timesteps were judged.</div>")
        rows, classes, last = [], [], None
        for _, r in coverage.iterrows():
            n = int(r["sweep_cases"]) + int(r["port_cases"])
            rows.append([html.escape(r["option"]) if r["option"] != last else "", f"<code>{html.escape(r['value'])}</code>",
                         str(int(r["sweep_cases"])), str(int(r["port_cases"])),
                         _share(r["judged_steps"], r["steps"]) if n else "<b>not covered</b>"])
            classes.append("gap" if (n == 0 or (r["common"] and int(r["sweep_cases"]) == 0)) else "")
            last = r["option"]
        body.append(_grid(["option", "value", "sweep cases", "port cases", "judged timesteps"], rows,
                          row_class=classes, left=2))
    body.append("</section>")

    # ---- 6. files
    body.append(f'<section id="files"><h2>6. Files and columns{up}</h2><ul>'
                + "".join(f'<li><a href="{html.escape(f)}">{html.escape(f)}</a></li>' for f in files) + "</ul>")
    body.append('<p class="meta">Columns are documented in <code>reports/README.md</code>. '
                "In the tables, – marks a value that does not apply.</p></section>")
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>rnn-parity report {html.escape(run_id)}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path.write_text(page)
