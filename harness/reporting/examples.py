"""Choosing which example of a port case the report shows."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd


def _returns_sequences(row: pd.Series) -> bool:
    """A cell case's ``layer.return_sequences``, or a family case's from its layer recipe."""
    value: Any = row.get("layer.return_sequences")
    if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
        return bool(value)
    config = row.get("layer.config")
    if isinstance(config, str):
        recipe = json.loads(config)
        flags = recipe.get("inner_kwargs") or recipe.get("rnn_kwargs") or recipe.get("kwargs") or {}
        return bool(flags.get("return_sequences"))
    return False


def representative_example(cases: pd.DataFrame, source: str) -> str | None:
    """The drifting example of a port case that shows the most: longest sequence returned per step."""
    mine = cases[(cases["source"] == source) & (cases["status"] == "drift")]
    if mine.empty:
        return None
    steps = mine["timesteps"] * mine.apply(_returns_sequences, axis=1).astype(int) + 1
    return mine.assign(_steps=steps).sort_values(["_steps", "first_t"], ascending=[False, True]).iloc[0]["case_id"]
