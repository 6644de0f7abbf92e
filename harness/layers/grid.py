"""The core grid: the configurations people ship, always in the default report.

Random exploration leaves coverage to chance (a report of 13 configurations per
kind can miss hard_sigmoid gates or ``reset_after=False`` entirely). The grid
is a fixed list per kind: a plain layer (tanh, sigmoid gates, bias, whole
sequence returned) and one case per value people use, each changing one option
of it: hard_sigmoid gates, a relu activation, GRU ``reset_after`` both ways,
masks, go_backwards, stateful calls, the last output with states, an initial
state; for composite layers the common inner layers, merge modes, stacks and
gates. Data are as random as anywhere else (per-gate weights, non-zero biases),
seeded by the sweep's seed, so the grid is deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.composite import CompositeSpec

#: One case per entry: (label, layer option changes, case option changes).
_CELL_GRID: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    ("plain", {}, {}),
    ("hard_sigmoid gates", {"recurrent_activation": "hard_sigmoid"}, {"input_scale": 3.0}),
    ("relu activation", {"activation": "relu"}, {}),
    ("reset_after=False", {"reset_after": False}, {}),
    ("masked", {}, {"mask": "mixed"}),
    ("masked, zero_output_for_mask", {"zero_output_for_mask": True}, {"mask": "mixed"}),
    ("go_backwards", {"go_backwards": True}, {}),
    ("stateful, 3 calls", {"stateful": True}, {"chunks": 3}),
    ("last output and states", {"return_sequences": False, "return_state": True}, {}),
    ("initial state", {"return_state": True}, {"initial_state": True}),
)
_BASE_CASE = {"batch": 3, "timesteps": 24, "recurrent_gain": 1.0, "kernel_scale": 1.0, "bias_scale": 0.5,
              "input_scale": 1.0}


def _cell_cases(kind: str, seed: int) -> list[CaseSpec]:
    base = CellSpec(kind=kind, units=8, features=4, activation="tanh",
                    recurrent_activation=None if kind == "SimpleRNN" else "sigmoid", return_sequences=True)
    cases = []
    for k, (_, layer_changes, case_changes) in enumerate(_CELL_GRID):
        if kind == "SimpleRNN" and "recurrent_activation" in layer_changes:
            continue
        if kind != "GRU" and "reset_after" in layer_changes:
            continue
        layer = base.replace(**layer_changes)
        cases.append(CaseSpec(layer=layer, **{**_BASE_CASE, **case_changes, "seed": seed * 1000 + k}))
    return cases


def _recipe(kind: str, **recipe: Any) -> str:
    return json.dumps({"kind": kind, **recipe}, sort_keys=True)


def _cell_kwargs(kind: str, gate: str = "sigmoid", **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"units": 4, "activation": "tanh", "use_bias": True, **extra}
    if kind != "SimpleRNN":
        kwargs["recurrent_activation"] = gate
    return kwargs


def _composite_layers() -> dict[str, list[tuple[CompositeSpec, dict[str, Any]]]]:
    """Per composite kind: (layer, case option changes)."""
    seq = {"return_sequences": True}
    bi = [
        (CompositeSpec("Bidirectional", _recipe("Bidirectional", inner="LSTM", merge_mode="concat",
                                                inner_kwargs=_cell_kwargs("LSTM", **seq)), (3,)), {}),
        (CompositeSpec("Bidirectional", _recipe("Bidirectional", inner="GRU", merge_mode="sum",
                                                inner_kwargs=_cell_kwargs("GRU", "hard_sigmoid", reset_after=False,
                                                                          **seq)), (3,)), {"mask": "mixed"}),
        (CompositeSpec("Bidirectional", _recipe("Bidirectional", inner="LSTM", merge_mode="ave",
                                                inner_kwargs=_cell_kwargs("LSTM", return_state=True)), (3,)),
         {"initial_state": True}),
    ]
    stack = [
        (CompositeSpec("StackedRNN", _recipe("StackedRNN", cells=["LSTM", "GRU"],
                                             cell_kwargs=[_cell_kwargs("LSTM"), _cell_kwargs("GRU", reset_after=True)],
                                             rnn_kwargs={**seq, "return_state": True}), (3,)), {"mask": "mixed"}),
        (CompositeSpec("StackedRNN", _recipe("StackedRNN", cells=["SimpleRNN", "LSTM"],
                                             cell_kwargs=[_cell_kwargs("SimpleRNN"), _cell_kwargs("LSTM", "hard_sigmoid")],
                                             rnn_kwargs={**seq, "go_backwards": True}), (3,)), {}),
    ]
    conv = {}
    for kind, shape in (("ConvLSTM1D", (6, 2)), ("ConvLSTM2D", (5, 5, 2)), ("ConvLSTM3D", (4, 4, 4, 1))):
        conv[kind] = [
            (CompositeSpec(kind, _recipe(kind, kwargs={"filters": 2, "kernel_size": 3, "padding": "same", "strides": 1,
                                                       "recurrent_activation": gate, **seq}), shape), changes)
            for gate, changes in (("sigmoid", {}), ("hard_sigmoid", {"mask": "mixed"}))
        ]
    return {"Bidirectional": bi, "StackedRNN": stack, **conv}


def core_cases(kind: str, *, seed: int) -> list[CaseSpec]:
    """The core grid of ``kind`` (SimpleRNN/LSTM/GRU or a composite kind), seeded by ``seed``."""
    if kind in ("SimpleRNN", "LSTM", "GRU"):
        return _cell_cases(kind, seed)
    composite = _composite_layers().get(kind)
    if composite is None:
        raise ValueError(f"kind={kind!r} has no core grid")
    base = {"batch": 3, "timesteps": 12, "kernel_scale": 1.0, "bias_scale": 0.5, "input_scale": 1.0}
    return [CaseSpec(layer=layer, **{**base, **changes, "seed": seed * 1000 + k})
            for k, (layer, changes) in enumerate(composite)]
