"""What the report's cases covered: per option value, how many cases and how much of them was judged.

Computed from the tables the report already has (``cases`` and ``records``), nothing re-run:

* :func:`step_judgement` - per case, its timesteps and how many were judged (a timestep is
  judged when every tensor the case returns at that step was judged);
* :func:`case_options`   - the option values of one case, whatever its kind (SimpleRNN/LSTM/GRU
  cases have ``layer.*`` columns, Bidirectional/StackedRNN/ConvLSTM cases a JSON recipe);
* :func:`coverage_table` - one row per (option, value): sweep cases, port cases, judged share;
* :func:`gaps`           - the common option values no case exercised, or none judged.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

#: Option (as shown) -> values a user would expect a parity check to have exercised.
COMMON_VALUES: dict[str, tuple[str, ...]] = {
    "layer kind": ("SimpleRNN", "LSTM", "GRU", "Bidirectional", "StackedRNN", "ConvLSTM1D", "ConvLSTM2D"),
    "activation": ("tanh", "relu", "sigmoid", "linear"),
    "recurrent_activation": ("sigmoid", "hard_sigmoid", "tanh"),
    "reset_after (GRU)": ("true", "false"),
    "use_bias": ("true", "false"),
    "mask": ("none", "mixed"),
    "go_backwards": ("true", "false"),
    "stateful": ("true", "false"),
    "return_sequences": ("true", "false"),
    "return_state": ("true", "false"),
    "initial_state": ("true", "false"),
    "unroll": ("true", "false"),
    "timesteps": ("1", "2-8", "9-32", "33-64"),
}
#: The order options are shown in (then any other option, alphabetically).
OPTION_ORDER = tuple(COMMON_VALUES) + ("merge_mode (Bidirectional)", "stacked cells", "recurrent_dropout > 0",
                                       "recurrent_gain")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == ""


def _text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, str) and value in ("True", "False"):
        return value.lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def timesteps_bucket(timesteps: Any) -> str | None:
    if _missing(timesteps):
        return None
    t = int(timesteps)
    if t <= 1:
        return "1"
    for low, high in ((2, 8), (9, 32), (33, 64), (65, 256)):
        if t <= high:
            return f"{low}-{high}"
    return "> 256"


def _recipe(row: pd.Series) -> dict[str, Any]:
    config = row.get("layer.recipe")
    if isinstance(config, str) and config.startswith("{"):
        try:
            return json.loads(config)
        except ValueError:
            return {}
    return {}


def case_options(row: pd.Series) -> dict[str, str]:
    """Option -> value (as text) for one case; options that do not apply to it are left out."""
    out: dict[str, Any] = {"layer kind": row.get("cell"), "mask": row.get("mask"),
                           "timesteps": timesteps_bucket(row.get("timesteps"))}
    recipe = _recipe(row)
    if recipe:
        flags = recipe.get("inner_kwargs") or recipe.get("rnn_kwargs") or recipe.get("kwargs") or {}
        for name in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll"):
            if name in flags:
                out[name] = flags[name]
        inner = [flags] + list(recipe.get("cell_kwargs") or [])
        for name in ("activation", "recurrent_activation", "use_bias"):
            for kwargs in inner:
                if name in kwargs:
                    out[name] = kwargs[name]
                    break
        if "merge_mode" in recipe:
            out["merge_mode (Bidirectional)"] = recipe["merge_mode"] or "none (outputs kept apart)"
        if recipe.get("cells"):
            out["stacked cells"] = len(recipe["cells"])
        out["initial_state"] = row.get("initial_state")
    else:
        for name in ("activation", "recurrent_activation", "use_bias", "go_backwards", "stateful", "return_sequences",
                     "return_state", "unroll"):
            out[name] = row.get(f"layer.{name}")
        if row.get("cell") == "GRU":
            out["reset_after (GRU)"] = row.get("layer.reset_after")
        out["initial_state"] = row.get("initial_state")
        dropout = row.get("layer.recurrent_dropout")
        if not _missing(dropout):
            out["recurrent_dropout > 0"] = float(dropout) > 0
        out["recurrent_gain"] = row.get("recurrent_gain")
    return {name: _text(value) for name, value in out.items() if not _missing(value)}


def step_judgement(records: pd.DataFrame) -> pd.DataFrame:
    """Per case_id: ``steps`` (distinct timesteps) and ``judged_steps`` (steps where every tensor was judged)."""
    if records is None or records.empty:
        return pd.DataFrame(columns=["steps", "judged_steps"])
    per_step = records.groupby(["case_id", "t"], sort=False)["judged"].all()
    grouped = per_step.groupby(level="case_id", sort=False)
    return pd.DataFrame({"steps": grouped.size(), "judged_steps": grouped.sum()}).astype(int)


def with_steps(cases: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """``cases`` with ``steps`` and ``judged_steps`` columns (0 for a case without records, e.g. an error)."""
    steps = step_judgement(records)
    cases = cases.drop(columns=[c for c in ("steps", "judged_steps") if c in cases.columns])
    out = cases.join(steps, on="case_id") if not cases.empty else cases.assign(steps=[], judged_steps=[])
    return out.fillna({"steps": 0, "judged_steps": 0})


def coverage_table(cases: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """One row per (option, value): ``sweep_cases``, ``port_cases``, ``steps``, ``judged_steps``, ``judged_share``
    (judged / steps over all those cases; NaN where they have no steps), ``common`` (a value in
    :data:`COMMON_VALUES`). Common values no case had get a row with zero cases."""
    columns = ["option", "value", "sweep_cases", "port_cases", "steps", "judged_steps", "judged_share", "common"]
    rows = []
    if not cases.empty:
        table = with_steps(cases, records)
        for _, row in table.iterrows():
            port = row.get("source") != "sweep"
            for option, value in case_options(row).items():
                rows.append((option, value, 0 if port else 1, 1 if port else 0, row["steps"], row["judged_steps"]))
    frame = pd.DataFrame(rows, columns=columns[:6])
    frame = frame.groupby(["option", "value"], as_index=False, sort=False).sum()
    seen = set(zip(frame["option"], frame["value"]))
    absent = [(o, v, 0, 0, 0, 0) for o, values in COMMON_VALUES.items() for v in values if (o, v) not in seen]
    if absent:
        frame = pd.concat([frame, pd.DataFrame(absent, columns=columns[:6])], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["judged_share"] = np.where(frame["steps"] > 0, frame["judged_steps"] / frame["steps"].where(frame["steps"] > 0, 1),
                                         np.nan)
    frame["common"] = [v in COMMON_VALUES.get(o, ()) for o, v in zip(frame["option"], frame["value"])]
    rank = {name: k for k, name in enumerate(OPTION_ORDER)}
    frame["_o"] = frame["option"].map(lambda o: rank.get(o, len(rank)))
    common_rank = {(o, v): k for o, values in COMMON_VALUES.items() for k, v in enumerate(values)}
    frame["_v"] = [common_rank.get((o, v), 100) for o, v in zip(frame["option"], frame["value"])]
    frame["_n"] = [_sort_number(v) for v in frame["value"]]
    frame = frame.sort_values(["_o", "option", "_v", "_n", "value"]).drop(columns=["_o", "_v", "_n"])
    return frame[columns].reset_index(drop=True)


def _sort_number(value: str) -> float:
    try:
        return float(value.split("-")[0].lstrip("> "))
    except ValueError:
        return float("inf")


#: A value counts as barely judged below this share of its timesteps.
BARELY_JUDGED = 0.5


def gaps(table: pd.DataFrame) -> list[str]:
    """Plain sentences about common values: with no case, with no sweep case, or with most steps not judged
    (uncommon values, e.g. an exponential gate, are expected to be ill-conditioned and are only in the table)."""
    out = []
    for option, rows in table.groupby("option", sort=False):
        none = rows[rows["common"] & (rows["sweep_cases"] + rows["port_cases"] == 0)]["value"].tolist()
        if none:
            out.append(f"{option}: no case with {_join(none)}")
        ports_only = rows[rows["common"] & (rows["sweep_cases"] == 0) & (rows["port_cases"] > 0)]["value"].tolist()
        if ports_only:
            out.append(f"{option}: {_join(ports_only)} only in port cases, never in the sweep (Keras against the reference)")
        barely = rows[rows["common"] & (rows["sweep_cases"] + rows["port_cases"] > 0) & (rows["judged_share"] < BARELY_JUDGED)]
        for _, r in barely.iterrows():
            out.append(f"{option} = {r['value']}: only {r['judged_share']:.0%} of its timesteps judged "
                       f"({int(r['judged_steps'])} of {int(r['steps'])}; the rest ill-conditioned or overflowed)")
    return out


def _join(values: list[str]) -> str:
    return ", ".join(values[:-1]) + (" or " if len(values) > 1 else "") + values[-1]
