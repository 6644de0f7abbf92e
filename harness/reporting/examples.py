"""Choosing which example of a port case the report shows."""

from __future__ import annotations

import pandas as pd


def representative_example(cases: pd.DataFrame, source: str) -> str | None:
    """The drifting example of a port case that shows the most: longest sequence returned per step."""
    mine = cases[(cases["source"] == source) & (cases["status"] == "drift")]
    if mine.empty:
        return None
    steps = mine["timesteps"] * mine["layer.return_sequences"].astype(int) + 1
    return mine.assign(_steps=steps).sort_values(["_steps", "first_t"], ascending=[False, True]).iloc[0]["case_id"]
