"""Ill-conditioned cases, explained: how much of each kind was judged, and why cases were not.

A step is judged only while its amplification (how far the case's own dynamics magnify
float32 round-off: floor / ulp) is at most ``harness.tolerance.ILL_CONDITIONED`` (1e3),
and never where float32 overflowed (a reference sample was inf or NaN): there the
amplification is infinite. The report names the likely cause of each ill-conditioned case
from its options alone; it is a reading aid, not a measurement.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

#: Activations whose outputs stay bounded (as in ``harness.strategies``); any other can grow without limit.
BOUNDED_ACTIVATIONS = frozenset({
    "tanh", "sigmoid", "hard_sigmoid", "hard_sigmoid_keras2", "hard_tanh", "softsign", "sparse_sigmoid", "softmax",
    "sparsemax",
})
#: Sequences at least this long count as long: round-off has many steps to grow over.
LONG_SEQUENCE = 33

CAUSES = {
    "recurrent_activation": "unbounded recurrent activation (exponential, softplus, relu, ...) on the gates: a gate "
                            "can exceed 1, so the state is multiplied up at every step until float32 overflows",
    "activation": "unbounded activation (relu, linear, exponential, ...): the state is not squashed back, "
                  "so it can grow step after step until float32 overflows",
    "gain": "recurrent gain > 1: the recurrent kernel is expansive (chaotic at 3.0), so tiny differences grow "
            "exponentially with t",
    "long": f"long sequence (T >= {LONG_SEQUENCE}) with bounded activations and gain <= 1: round-off has many steps to "
            "accumulate",
    "other": "none of the above: the case's own dynamics (saturating gates, large inputs or kernels) amplify round-off",
}
CAUSE_TITLES = {"recurrent_activation": "unbounded recurrent activation", "activation": "unbounded activation", "gain": "recurrent gain > 1", "long": "long sequence",
                "other": "other dynamics"}


def _activations(row: pd.Series, key: str) -> list[str]:
    """The case's activations named ``key`` ("activation" or "recurrent_activation"), composite recipes included."""
    names = [row.get(f"layer.{key}")]
    config = row.get("layer.recipe")
    if isinstance(config, str) and config.startswith("{"):
        try:
            recipe = json.loads(config)
        except ValueError:
            recipe = {}
        for kwargs in [recipe.get("inner_kwargs"), recipe.get("rnn_kwargs"), recipe.get("kwargs"),
                       *(recipe.get("cell_kwargs") or [])]:
            if isinstance(kwargs, dict):
                names.append(kwargs.get(key))
    return [n for n in names if isinstance(n, str) and n]


def _number(value: Any, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(out) else out


def likely_cause(row: pd.Series) -> tuple[str, str]:
    """(cause key, detail) for an ill-conditioned case, the first of: unbounded recurrent activation,
    unbounded activation, recurrent gain > 1, long sequence, other."""
    for key in ("recurrent_activation", "activation"):
        unbounded = sorted({a for a in _activations(row, key) if a not in BOUNDED_ACTIVATIONS})
        if unbounded:
            return key, ", ".join(unbounded)
    gain = _number(row.get("recurrent_gain"), 1.0)
    if gain > 1.0:
        return "gain", f"gain {gain:g}"
    timesteps = _number(row.get("timesteps"), 0.0)
    if timesteps >= LONG_SEQUENCE:
        return "long", f"T = {int(timesteps)}"
    return "other", ""


def per_kind(cases: pd.DataFrame) -> pd.DataFrame:
    """Sweep cases per kind (``cases`` must have ``steps``/``judged_steps``, see
    :func:`harness.reporting.coverage.with_steps`): cases, ill-conditioned, overflowed,
    steps, judged_steps, judged_share, worst finite amplification (NaN when none is finite)."""
    columns = ["cell", "cases", "ill", "overflowed", "steps", "judged_steps", "judged_share", "worst_finite_amplification"]
    if cases.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for cell, mine in cases.groupby("cell", sort=True):
        amp = mine["amplification"].astype(float)
        finite = amp[np.isfinite(amp)]
        steps, judged = int(mine["steps"].sum()), int(mine["judged_steps"].sum())
        rows.append((cell, len(mine), int((mine["status"] == "ill-conditioned").sum()), int(np.isinf(amp).sum()), steps,
                     judged, judged / steps if steps else np.nan, float(finite.max()) if len(finite) else np.nan))
    return pd.DataFrame(rows, columns=columns)


def by_cause(cases: pd.DataFrame) -> pd.DataFrame:
    """Ill-conditioned cases grouped by likely cause: cause, cases, kinds ("GRU 12, LSTM 3"),
    overflowed, judged_share, details (the activations/gains seen), case_ids."""
    columns = ["cause", "cases", "kinds", "overflowed", "judged_share", "details", "case_ids"]
    ill = cases[cases["status"] == "ill-conditioned"] if not cases.empty else cases
    if ill.empty:
        return pd.DataFrame(columns=columns)
    found = ill.apply(likely_cause, axis=1, result_type="expand")
    ill = ill.assign(_cause=found[0], _detail=found[1])
    rows = []
    for cause in CAUSES:
        mine = ill[ill["_cause"] == cause]
        if mine.empty:
            continue
        kinds = mine["cell"].value_counts()
        steps = mine["steps"].sum() if "steps" in mine else 0
        judged = mine["judged_steps"].sum() if "judged_steps" in mine else 0
        details = mine["_detail"].value_counts()
        rows.append((cause, len(mine), ", ".join(f"{k} {n}" for k, n in kinds.items()),
                     int(np.isinf(mine["amplification"].astype(float)).sum()), judged / steps if steps else np.nan,
                     ", ".join(f"{d} ({n})" for d, n in details.items() if d), list(mine["case_id"])))
    return pd.DataFrame(rows, columns=columns)
