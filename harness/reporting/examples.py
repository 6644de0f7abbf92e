"""Choosing which example of a port case the report shows."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _returns_sequences(row: pd.Series) -> bool:
    """The case's ``layer.return_sequences`` (every kind has the column)."""
    value: Any = row.get("layer.return_sequences")
    return isinstance(value, (bool, int, float)) and value in (0, 1) and bool(value)


def representative_example(cases: pd.DataFrame, source: str) -> str | None:
    """The drifting example of a port case that shows the most: longest sequence returned per step."""
    mine = cases[(cases["source"] == source) & (cases["status"] == "drift")]
    if mine.empty:
        return None
    steps = mine["timesteps"] * mine.apply(_returns_sequences, axis=1).astype(int) + 1
    return mine.assign(_steps=steps).sort_values(["_steps", "first_t"], ascending=[False, True]).iloc[0]["case_id"]
