"""Figures for the drift report (matplotlib, Agg backend: no display needed).

Every figure uses the same colour for the same tensor name (:func:`tensor_colour`),
keeps its legend outside the data, and labels its axes with units.
"""

from __future__ import annotations

import re
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

TINY = 1e-12  # plotted in place of exact zeros on log axes
DIVERGENCE_COLOUR = "#d62728"  # red is kept for "outside tolerance": no tensor uses it
UNJUDGED_COLOUR = "#9e9e9e"

#: One colour per tensor name, the same in every plot. Each base tensor has its own hue
#: (output blue, h orange, c green); its variants (Bidirectional's _fwd/_bwd, a stacked
#: cell's h1, h2 ...) are darker or lighter shades of that hue.
TENSOR_COLOURS = {
    "output": "#1f77b4", "output_fwd": "#0b3d6b", "output_bwd": "#6baed6",
    "h": "#ff7f0e", "h_fwd": "#a64b00", "h_bwd": "#fdae6b", "h1": "#fd8d3c", "h2": "#d94801", "h3": "#7f2704",
    "c": "#2ca02c", "c_fwd": "#005a32", "c_bwd": "#74c476", "c1": "#41ab5d", "c2": "#238b45", "c3": "#00441b",
}
_FALLBACK = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939", "#843c39")


def tensor_colour(name: str) -> str:
    """The colour of tensor ``name`` in every figure (a stable pick for names not listed)."""
    if name in TENSOR_COLOURS:
        return TENSOR_COLOURS[name]
    base = re.sub(r"(_fwd|_bwd|\d+)$", "", name)
    if base in TENSOR_COLOURS and base != name:
        return TENSOR_COLOURS[base]
    return _FALLBACK[zlib.crc32(name.encode()) % len(_FALLBACK)]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _runs(mask: np.ndarray, t: np.ndarray) -> list[tuple[float, float]]:
    """Contiguous runs of timesteps where ``mask`` holds, as (start, end) spans one step wide each."""
    spans: list[tuple[float, float]] = []
    for step in sorted(set(t[mask].tolist())):
        if spans and step - spans[-1][1] <= 0.5 + 1e-9:
            spans[-1] = (spans[-1][0], step + 0.5)
        else:
            spans.append((step - 0.5, step + 0.5))
    return spans


def sweep_heatmap(records: pd.DataFrame, cases: pd.DataFrame, path: Path, *, cells: list[str]) -> Path:
    """One panel per cell, two panels a row: cases (rows) x timestep (columns), colour =
    log10(error / tolerance) of the worst tensor at that step. Red (above 0) is outside
    tolerance; grey is not judged."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    sweep = records[records["source"] == "sweep"]
    ncols = 2 if len(cells) > 1 else 1
    nrows = -(-len(cells) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.4 * ncols, 3.1 * nrows + 1.0), squeeze=False, layout="constrained")
    image = None
    for ax in axes.flat[len(cells):]:
        ax.axis("off")
    for ax, cell in zip(axes.flat, cells):
        mine = sweep[sweep["cell"] == cell]
        if mine.empty:
            ax.set_title(f"{cell}: no cases", fontsize=11)
            ax.axis("off")
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.log10(np.maximum(mine["max_abs_err"], TINY) / np.maximum(mine["tolerance"], TINY))
        mine = mine.assign(ratio=np.where(mine["judged"], ratio, np.nan), unjudged=(~mine["judged"]).astype(float))
        worst = mine.groupby(["case_id", "t"])["ratio"].max().unstack("t")
        unjudged = mine.groupby(["case_id", "t"])["unjudged"].max().unstack("t")
        # Long sequences first, then worst first: single-step tensors (last output) are one cell wide.
        order = worst.notna().sum(axis=1).to_frame("n").assign(w=worst.max(axis=1)).sort_values(["n", "w"], ascending=False).index
        steps = range(int(worst.columns.min()), int(worst.columns.max()) + 1)  # every step, so columns stay evenly spaced
        worst, unjudged = worst.loc[order].reindex(columns=steps), unjudged.reindex(index=order, columns=steps)
        extent = (steps.start - 0.5, steps.stop - 0.5, len(worst) - 0.5, -0.5)
        grey = np.where(unjudged.to_numpy() > 0, 1.0, np.nan)
        ax.imshow(grey, aspect="auto", cmap="Greys", vmin=0, vmax=2.5, interpolation="nearest", extent=extent)
        image = ax.imshow(worst.to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-6, vmax=6, interpolation="nearest",
                          extent=extent)
        mine_cases = cases[(cases["source"] == "sweep") & (cases["cell"] == cell)]["status"]
        n_drift, n_ill = int((mine_cases == "drift").sum()), int((mine_cases == "ill-conditioned").sum())
        ax.set_title(f"{cell}: {len(worst)} cases, {n_drift} drifted, {n_ill} ill-conditioned", fontsize=11)
        ax.set_xlabel("timestep (processing order)")
        ax.set_ylabel("case (longest first)")
        ax.set_yticks([])
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), location="bottom", shrink=0.6, aspect=40, pad=0.02)
        bar.set_label("log10(|error| / tolerance) of the worst tensor at the step:  "
                      "blue = inside tolerance,  0 = at tolerance,  red = outside (drift)", fontsize=10)
        fig.legend(handles=[Patch(color="#c8c8c8", label="not judged (float32 cannot follow the case there)")],
                   loc="outside upper right", fontsize=10, frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def case_plot(records: pd.DataFrame, path: Path, *, title: str) -> Path:
    """Max |error| per timestep for each tensor (log scale) against its tolerance band.

    Solid line: the error; dashed line and light band below it: the tolerance (the band
    is where the error is allowed to be); grey columns: steps not judged; red dotted line:
    the first judged step outside tolerance."""
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(11.0, 4.0), layout="constrained")
    handles = []
    all_t = records["t"].to_numpy(dtype=float)
    zeros = False
    for tensor, rows in records.groupby("tensor", sort=False):
        rows = rows.sort_values("t")
        colour = tensor_colour(str(tensor))
        t = rows["t"].to_numpy(dtype=float)
        raw = rows["max_abs_err"].to_numpy(dtype=float)
        zeros |= bool((raw == 0).any())
        err = np.clip(np.where(np.isfinite(raw), raw, 1e30), TINY, 1e30)
        tol = rows["tolerance"].to_numpy(dtype=float)
        tol = np.where(np.isfinite(tol) & (tol < 1e30), tol, np.nan)  # overflowed steps: no band
        # Few steps: markers (a dot for the error, a bar for the tolerance) so single points show.
        dot, bar = ("o", "_") if len(t) < 3 else (None, None)
        ax.plot(t, err, color=colour, marker=dot, lw=1.8)
        ax.plot(t, tol, color=colour, lw=1.0, ls="--", marker=bar, markersize=16, markeredgewidth=2, alpha=0.9)
        if len(t) > 1:
            ax.fill_between(t, TINY, tol, color=colour, alpha=0.10, lw=0)
        handles += [Line2D([], [], color=colour, lw=1.8, marker=dot, label=f"{tensor}: |error|"),
                    Line2D([], [], color=colour, lw=1.0, ls="--", marker=bar, markersize=10, markeredgewidth=2,
                           label=f"{tensor}: tolerance")]
    unjudged = ~records["judged"].to_numpy(dtype=bool)
    if unjudged.any():
        for start, end in _runs(unjudged, all_t):
            ax.axvspan(start, end, color=UNJUDGED_COLOUR, alpha=0.25, lw=0)
        handles.append(Patch(color=UNJUDGED_COLOUR, alpha=0.25, label="not judged\n(ill-conditioned or overflow)"))
    bad = records[~records["within"]]
    if not bad.empty:
        first = bad.sort_values("t").iloc[0]
        t0 = int(first["t"])
        ax.axvline(t0, color=DIVERGENCE_COLOUR, lw=1.4, ls=":")
        ax.annotate(f"first divergence\n{first['tensor']} at t={t0}", xy=(t0, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(4, -4), textcoords="offset points", va="top", ha="left", fontsize=9, color=DIVERGENCE_COLOUR)
        handles.append(Line2D([], [], color=DIVERGENCE_COLOUR, lw=1.4, ls=":", label=f"first divergence (t={t0})"))
    ax.set_yscale("log")
    finite = np.concatenate([records["max_abs_err"].to_numpy(dtype=float), records["tolerance"].to_numpy(dtype=float)])
    finite = finite[np.isfinite(finite) & (finite > 0) & (finite < 1e30)]  # beyond 1e30: overflowed, not plotted
    if finite.size:
        low = finite.min() / 100
        ax.set_ylim(min(low, TINY / 3) if zeros else max(TINY / 3, low), finite.max() * 10)
    if len(all_t):
        lo, hi = int(all_t.min()), int(all_t.max())
        ax.set_xlim(lo - 0.6, hi + 0.6)
        if hi - lo <= 16:
            ax.set_xticks(range(lo, hi + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("timestep (processing order)")
    ax.set_ylabel("max |error| and tolerance\n(absolute, log scale)" + ("; exact 0 drawn at 1e-12" if zeros else ""))
    ax.set_title("\n".join(textwrap.wrap(title, 110)), fontsize=9, loc="left")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize=8.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
