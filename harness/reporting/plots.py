"""Figures for the drift report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TENSOR_COLOURS = {"output": "#1f77b4", "h": "#ff7f0e", "c": "#2ca02c"}
TINY = 1e-12  # plotted in place of exact zeros on log axes


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def sweep_heatmap(records: pd.DataFrame, cases: pd.DataFrame, path: Path, *, cells: list[str]) -> Path:
    """One panel per cell: cases (rows) x timestep (columns), colour = log10(error / tolerance)
    of the worst tensor at that step. Above 0 (red) is outside tolerance; grey is not judged."""
    plt = _pyplot()
    sweep = records[records["source"] == "sweep"]
    fig, axes = plt.subplots(1, len(cells), figsize=(3.6 * len(cells) + 1.2, 3.6), squeeze=False, layout="constrained")
    image = None
    for ax, cell in zip(axes[0], cells):
        mine = sweep[sweep["cell"] == cell]
        if mine.empty:
            ax.set_title(f"{cell}: no cases")
            ax.axis("off")
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.log10(np.maximum(mine["max_abs_err"], TINY) / np.maximum(mine["tolerance"], TINY))
        mine = mine.assign(ratio=np.where(mine["judged"], ratio, np.nan), unjudged=(~mine["judged"]).astype(float))
        worst = mine.groupby(["case_id", "t"])["ratio"].max().unstack("t")
        unjudged = mine.groupby(["case_id", "t"])["unjudged"].max().unstack("t")
        # Long sequences first, then worst first: single-step tensors (last output) are one cell wide.
        order = worst.notna().sum(axis=1).to_frame("n").assign(w=worst.max(axis=1)).sort_values(["n", "w"], ascending=False).index
        worst, unjudged = worst.loc[order], unjudged.reindex(index=order, columns=worst.columns)
        grey = np.where(unjudged.to_numpy() > 0, 1.0, np.nan)
        ax.imshow(grey, aspect="auto", cmap="Greys", vmin=0, vmax=2.5, interpolation="nearest")
        image = ax.imshow(worst.to_numpy(), aspect="auto", cmap="RdBu_r", vmin=-6, vmax=6, interpolation="nearest")
        n_drift = int((cases[(cases["source"] == "sweep") & (cases["cell"] == cell)]["status"] == "drift").sum())
        ax.set_title(f"{cell}: {len(worst)} cases, {n_drift} drifted", fontsize=10)
        ax.set_xlabel("timestep")
        ax.set_ylabel("cases (longest first)")
        ax.set_yticks([])
    if image is not None:
        bar = fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85)
        bar.set_label("log10(error / tolerance)")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def case_plot(records: pd.DataFrame, path: Path, *, title: str) -> Path:
    """Max error per timestep for each tensor (log scale) against its tolerance band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    for tensor, rows in records.groupby("tensor", sort=False):
        rows = rows.sort_values("t")
        colour = TENSOR_COLOURS.get(tensor, "#7f7f7f")
        t = rows["t"].to_numpy()
        err = np.clip(rows["max_abs_err"].to_numpy(dtype=float), TINY, 1e30)
        tol = rows["tolerance"].to_numpy(dtype=float)
        tol = np.where(np.isfinite(tol) & (tol < 1e30), tol, np.nan)  # overflowed steps: no band
        marker = "o" if len(t) < 3 else None
        ax.plot(t, err, color=colour, marker=marker, lw=1.6, label=f"{tensor} error")
        ax.plot(t, tol, color=colour, lw=0.9, ls="--", marker=marker, alpha=0.8, label=f"{tensor} tolerance")
        ax.fill_between(t, TINY, tol, color=colour, alpha=0.08, step=None)
        unjudged = ~rows["judged"].to_numpy(dtype=bool)
        if unjudged.any():
            ax.fill_between(t, TINY, 1e6, where=unjudged, color="#bbbbbb", alpha=0.3, lw=0)
    bad = records[~records["within"]]
    if not bad.empty:
        ax.axvline(int(bad["t"].min()), color="#d62728", lw=1, ls=":", label=f"first divergence t={int(bad['t'].min())}")
    ax.set_yscale("log")
    finite = np.concatenate([records["max_abs_err"].to_numpy(dtype=float), records["tolerance"].to_numpy(dtype=float)])
    finite = finite[np.isfinite(finite) & (finite > 0) & (finite < 1e30)]  # beyond 1e30: overflowed, not plotted
    if finite.size:
        ax.set_ylim(max(TINY, finite.min() / 100), finite.max() * 10)
    ax.set_xlabel("timestep (processing order)")
    ax.set_ylabel("max |error|")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
