"""The cross-target matrix: the same sweep on every target, worst error per cell x option group x target.

Keras fixes its backend when it is imported, so each target runs in its own
subprocess (``python -m harness sweep --target T --out DIR/T``) with the same
seed and options, hence the same cases; with ``--scheduler`` every target's
compile groups are tasks on one Dask cluster instead, each run in a child process
per target that the worker keeps (:mod:`harness.sweep.dask_targets`), and the
client writes each target's sweep files, byte for byte the subprocess's.
Their ``cases.csv`` files are read back, every case counted in each of its option groups
(:func:`harness.layers.columns.option_groups`), and reduced to one row per
(target, cell, group):

``matrix.csv`` columns (long format, one row per target x cell x group):

========================= ==========================================================
target                    tensorflow / jax / torch / keras2
cell, group               the layer and the option group
cases                     cases of the cell in the group
pass, drift, ill, explained, unsupported, error   counts per status
worst_ratio               max err/tol over the cases that ran (explained included:
                          this is the size of a known difference, > 1 means "differs")
worst_abs_err             max absolute error (same cases but ill-conditioned ones, whose
                          trajectories float32 cannot follow)
behaviours                named Keras behaviours seen (``;``-separated), if any
========================= ==========================================================

``matrix.html`` shows the same as a wide table, one column per target, with
cells that differ from the reference coloured (amber: explained by a named
behaviour, red: unexplained drift or error).
"""

from __future__ import annotations

import html
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.target import targets
from harness.sweep.storage import atomic_write, write_csv

STATUS_COLUMNS = {"pass": "pass", "drift": "drift", "ill-conditioned": "ill", "explained": "explained",
                  "unsupported": "unsupported", "error": "error"}
RAN = ("pass", "drift", "ill-conditioned", "explained")


@dataclass
class MatrixRun:
    """What the subprocesses produced: per-target cases, and targets that could not run."""

    cases: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why (not installed, crashed)
    seconds: dict[str, float] = field(default_factory=dict)


def sweep_command(target: str, *, out: Path, cells: Sequence[str], examples: int, seed: int, max_timesteps: int) -> list[str]:
    return [sys.executable, "-m", "harness", "sweep", "--target", target, "--cells", ",".join(cells),
            "--examples", str(examples), "--seed", str(seed), "--max-timesteps", str(max_timesteps),
            "--out", str(out), "--no-progress"]


def _installed(names: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The targets installed here, and why the others are skipped."""
    runnable, skipped = [], {}
    for name in names:
        if targets.installed(name):
            runnable.append(name)
        else:
            skipped[name] = f"not installed ({targets.get(name).install_hint()})"
    return runnable, skipped


def _read_cases(out: Path, name: str) -> pd.DataFrame:
    frame = pd.read_csv(out / name / "cases.csv")
    frame.insert(0, "target", name)
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def run_targets(names: Sequence[str], *, out: Path, cells: Sequence[str], examples: int, seed: int,
                max_timesteps: int, echo: bool = True) -> MatrixRun:
    """Run the sweep once per target, each in a subprocess; missing targets are skipped, not fatal."""
    import json
    import time

    runnable, skipped = _installed(names)
    frames, seconds = [], {}
    for name in runnable:
        if echo:
            print(f"matrix: sweeping on {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        proc = subprocess.run(sweep_command(name, out=out / name, cells=cells, examples=examples, seed=seed,
                                            max_timesteps=max_timesteps), capture_output=True, text=True)
        seconds[name] = round(time.perf_counter() - start, 1)
        cases_csv = out / name / "cases.csv"
        if proc.returncode not in (0, 1, 2) or not cases_csv.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            skipped[name] = f"the sweep failed (exit {proc.returncode}): {last}"
            continue
        frames.append(_read_cases(out, name))
        prov = out / name / "provenance.json"
        if prov.is_file():
            data = json.loads(prov.read_text())
            seconds[name] = data.get("seconds", seconds[name])
    return MatrixRun(cases=_concat(frames), skipped=skipped, seconds=seconds)


def run_targets_on_dask(names: Sequence[str], *, address: str, out: Path, cells: Sequence[str], examples: int,
                        seed: int, max_timesteps: int, echo: bool = True) -> MatrixRun:
    """:func:`run_targets` with every target's compile groups as tasks on the Dask cluster at ``address``
    (``local``: a LocalCluster); each target's files are written here, as its subprocess sweep writes them."""
    import time

    from harness.sweep.dask_run import require_dask, run_on_dask
    from harness.sweep.dask_targets import decode, target_group
    from harness.sweep.run import SweepOptions, SweepResult, draw_groups, lost_groups, write_outputs

    require_dask()
    runnable, skipped = _installed(names)
    # The subprocess sweep's options (its defaults but these), so the same groups and cases.
    options = SweepOptions(cells=tuple(cells), examples=examples, seed=seed, max_timesteps=max_timesteps,
                           scheduler=address)
    groups = draw_groups(options)
    # Target-major: item i is groups[i % n]; a target's first group also brings back the versions that ran it.
    items = [(name, group, j == 0) for name in runnable for j, group in enumerate(groups)]
    n = len(groups)
    if echo:
        print(f"matrix: sweeping on {', '.join(runnable)} as {len(items)} Dask tasks ({address}) ...",
              file=sys.stderr, flush=True)
    start = time.perf_counter()
    left = {name: n for name in runnable}
    seconds: dict[str, float] = {name: 0.0 for name in runnable}

    def finished(i: int, answer: object) -> None:
        name = runnable[i // n]
        left[name] -= 1
        if not left[name]:
            seconds[name] = round(time.perf_counter() - start, 1)  # wall time until its last group (targets overlap)

    answers = run_on_dask(target_group, items, address=address, on_result=finished,
                          on_lost=lost_groups([group for _ in runnable for group in groups])) if items else []
    frames = []
    for k, name in enumerate(runnable):  # one target's records in memory at a time (the answers stay pickled)
        outcomes, versions = [], None
        for answer in answers[k * n:(k + 1) * n]:
            if isinstance(answer, bytes):
                group_outcomes, found = decode(answer)
                versions = versions or found
            else:  # on_lost's error outcomes
                group_outcomes = answer
            outcomes += group_outcomes
        result = SweepResult(options, outcomes, seconds=seconds[name])
        # The versions that ran the target, never the client's own (which may not even have it installed).
        ran = {"target": name, "versions": versions or "not reported: the target's first group failed on its worker"}
        write_outputs(result, out / name, provenance_extra=ran)
        frames.append(_read_cases(out, name))
    return MatrixRun(cases=_concat(frames), skipped=skipped, seconds=seconds)


def matrix_frame(cases: pd.DataFrame) -> pd.DataFrame:
    """One row per target x cell x option group (see the module docstring)."""
    if cases.empty:
        return pd.DataFrame(columns=["target", "cell", "group", "cases", *STATUS_COLUMNS.values(),
                                     "worst_ratio", "worst_abs_err", "behaviours"])
    exploded = cases.assign(group=cases["groups"].fillna("plain").str.split(",")).explode("group")
    rows = []
    for (target, cell, group), part in exploded.groupby(["target", "cell", "group"], sort=False):
        ran = part[part["status"].isin(RAN)]
        row = {"target": target, "cell": cell, "group": group, "cases": len(part)}
        for status, column in STATUS_COLUMNS.items():
            row[column] = int((part["status"] == status).sum())
        row["worst_ratio"] = float(ran["worst_ratio"].max()) if not ran.empty else float("nan")
        followed = ran[ran["status"] != "ill-conditioned"]
        row["worst_abs_err"] = float(followed["worst_abs_err"].max()) if not followed.empty else float("nan")
        labels = part["behaviour"].dropna() if "behaviour" in part else pd.Series(dtype=str)
        row["behaviours"] = ";".join(sorted(set(labels)))
        rows.append(row)
    frame = pd.DataFrame(rows)
    order = {name: k for k, name in enumerate(targets.NAMES)}
    return frame.sort_values(["cell", "group", "target"], key=lambda s: s.map(order) if s.name == "target" else s,
                             kind="stable").reset_index(drop=True)


def _cell_html(row: pd.Series | None) -> str:
    if row is None:
        return "<td class='na'>-</td>"
    bad = row["drift"] + row["error"]
    css = "bad" if bad else ("known" if row["explained"] + row["unsupported"] else "ok")
    ratio = "n/a" if pd.isna(row["worst_ratio"]) else f"{row['worst_ratio']:.3g}"
    err = "" if pd.isna(row["worst_abs_err"]) else f" ({row['worst_abs_err']:.2g})"
    notes = []
    if bad:
        notes.append(f"{row['drift']} drift, {row['error']} error")
    if row["behaviours"]:
        notes.append(html.escape(row["behaviours"]).replace(";", "<br>"))
    note = f"<br><small>{'<br>'.join(notes)}</small>" if notes else ""
    return f"<td class='{css}'>{ratio}{err}{note}</td>"


def matrix_html(matrix: pd.DataFrame, *, skipped: dict[str, str] | None = None, standalone: bool = True) -> str:
    """The wide table: rows cell x group, one column per target (worst err/tol, worst abs error)."""
    names = [n for n in targets.NAMES if n in set(matrix["target"])] if not matrix.empty else []
    head = "".join(f"<th>{html.escape(targets.get(n).title)}</th>" for n in names)
    body = []
    if not matrix.empty:
        for (cell, group), part in matrix.groupby(["cell", "group"], sort=False):
            by_target = {r["target"]: r for _, r in part.iterrows()}
            cells = "".join(_cell_html(by_target.get(n)) for n in names)
            body.append(f"<tr><th>{html.escape(str(cell))}</th><td>{html.escape(str(group))}</td>{cells}</tr>")
    notes = "".join(f"<li>{html.escape(n)}: {html.escape(why)}</li>" for n, why in (skipped or {}).items())
    table = (
        "<h2>Targets: worst per-timestep err/tol (worst abs error)</h2>"
        "<p>Each target ran the same seeded cases against the same reference (Keras 3 on TensorFlow semantics). "
        "err/tol &le; 1 agrees; amber cells differ by a <em>named</em> Keras behaviour (the reference with that "
        "behaviour applied matches); red cells are unexplained.</p>"
        f"<table class='matrix'><tr><th>cell</th><th>group</th>{head}</tr>{''.join(body)}</table>"
        + (f"<p>Not run:</p><ul>{notes}</ul>" if notes else "")
    )
    if not standalone:
        return table
    style = ("<style>body{font-family:sans-serif} table.matrix{border-collapse:collapse} "
             ".matrix td,.matrix th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top} "
             ".ok{background:#eef8ee} .known{background:#fff2cc} .bad{background:#f8d0d0} .na{color:#999}</style>")
    return f"<!doctype html><html><head><meta charset='utf-8'><title>rnn-parity targets</title>{style}</head><body>{table}</body></html>"


def write_matrix(run: MatrixRun, out: Path) -> list[Path]:
    """``matrix.csv``, ``matrix.html`` and ``matrix_cases.csv`` (every target's cases) in ``out``."""
    matrix = matrix_frame(run.cases)
    return [
        write_csv(matrix, out / "matrix.csv"),
        atomic_write(out / "matrix.html", lambda tmp: tmp.write_text(matrix_html(matrix, skipped=run.skipped))),
        write_csv(run.cases, out / "matrix_cases.csv"),
    ]


def attach_to_report(run_dir: Path, run: MatrixRun) -> Path:
    """Put the matrix in a written report: ``targets/matrix.*`` and a section in ``index.html``."""
    paths = write_matrix(run, run_dir / "targets")
    index = run_dir / "index.html"
    if index.is_file():
        section = matrix_html(matrix_frame(run.cases), skipped=run.skipped, standalone=False)
        section += "<p>Files: <a href='targets/matrix.csv'>matrix.csv</a>, <a href='targets/matrix_cases.csv'>matrix_cases.csv</a></p>"
        text = index.read_text()
        text = text.replace("</body>", f"<section id='targets'>{section}</section></body>", 1)
        atomic_write(index, lambda tmp: tmp.write_text(text))
    return paths[0]
