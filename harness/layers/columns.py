"""Describing a case of any kind as table columns and option groups (for records and reports)."""

from __future__ import annotations

from typing import Any

from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec


def option_groups(spec: CaseSpec) -> list[str]:
    """The option groups a case belongs to (a case can be in several)."""
    layer = spec.layer
    groups = {
        "masked": spec.mask != "none",
        "go-backwards": layer.go_backwards,
        "stateful": layer.stateful,
        "initial-state": spec.initial_state,
        "return-sequences": layer.return_sequences,
        "return-state": layer.return_state and not isinstance(layer, CellSpec),
        "unroll": layer.unroll,
        "hard-sigmoid": "hard_sigmoid" in layer.activations(),
        "large-gain": spec.recurrent_gain > 1.0,
    }
    if not isinstance(layer, CellSpec):
        groups[f"merge-{layer.config.get('merge_mode')}"] = layer.kind == "Bidirectional"
        groups[f"{len(layer.config.get('cells', []))}-cells"] = layer.kind == "StackedRNN"
    return [name for name, on in groups.items() if on] or ["plain"]


def spec_columns(spec: CaseSpec) -> dict[str, Any]:
    """Config columns: every layer option and data option of the case."""
    row = spec.layer.columns()
    row.update({k: v for k, v in spec.to_dict().items() if k != "layer"})
    return row
