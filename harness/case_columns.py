"""Describing any case (a SimpleRNN/LSTM/GRU ``CaseSpec`` or a family ``FamilySpec``) as table columns."""

from __future__ import annotations

from typing import Any

from harness.case import CaseSpec
from harness.family import FamilySpec, family_columns


def spec_kind(spec: CaseSpec | FamilySpec) -> str:
    return spec.kind if isinstance(spec, FamilySpec) else spec.layer.kind


def option_groups(spec: CaseSpec | FamilySpec) -> list[str]:
    """The option groups a case belongs to (a case can be in several)."""
    if isinstance(spec, FamilySpec):
        recipe = spec.config
        flags = recipe.get("inner_kwargs") or recipe.get("rnn_kwargs") or recipe.get("kwargs") or {}
        groups = {
            "masked": spec.mask != "none",
            "return-sequences": bool(flags.get("return_sequences")),
            "return-state": bool(flags.get("return_state")),
            "go-backwards": bool(flags.get("go_backwards")),
            f"merge-{recipe.get('merge_mode')}": spec.kind == "Bidirectional",
            f"{len(recipe.get('cells', []))}-cells": spec.kind == "StackedRNN",
        }
        return [name for name, on in groups.items() if on] or ["plain"]
    layer = spec.layer
    groups = {
        "masked": spec.mask != "none",
        "go-backwards": layer.go_backwards,
        "stateful": layer.stateful,
        "initial-state": spec.initial_state,
        "return-sequences": layer.return_sequences,
        "unroll": layer.unroll,
        "hard-sigmoid": "hard_sigmoid" in (layer.activation, layer.recurrent_activation),
        "large-gain": spec.recurrent_gain > 1.0,
    }
    return [name for name, on in groups.items() if on] or ["plain"]


def spec_columns(spec: CaseSpec | FamilySpec) -> dict[str, Any]:
    """Config columns: every layer option and data option of the case."""
    if isinstance(spec, FamilySpec):
        return dict(family_columns(spec))
    row = {f"layer.{k}": v for k, v in spec.layer.to_dict().items()}
    row.update({k: v for k, v in spec.to_dict().items() if k != "layer"})
    return row
