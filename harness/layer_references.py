"""Which reference computes a given Keras recurrent layer, and how its return is named.

Used by ``check-model`` for every recurrent layer a model contains:
SimpleRNN / LSTM / GRU, ``Bidirectional`` over any of them, ``RNN`` over a
cell or a list of cells (``StackedRNNCells``), and ConvLSTM1D/2D/3D.
Returns are flattened to named ``(B, n, U)`` tensors (spatial dimensions
folded into ``U``) so one comparator serves every layer.

``conventions`` (a :class:`~harness.layer_conventions.LayerConventions`) runs
the reference the way a buggy port would: the port check's diagnosis uses it
to name what a port of one of these layers gets wrong.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.layer_conventions import KERAS_LAYER, LayerConventions
from harness.tensors import STATE_NAMES as _STATE_NAMES
from harness.tensors import NamedTensor
from reference_cells import run_sequence
from reference_cells.bidirectional import run_bidirectional
from reference_cells.conv_lstm import run_conv_lstm
from reference_cells.stacked import run_stacked_cells, split_stacked_weights

BASIC = ("SimpleRNN", "LSTM", "GRU")
CONV = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
_LOOP_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")

Reference = Callable[[Sequence[np.ndarray], np.ndarray, "np.ndarray | None", np.dtype], Any]


@dataclass(frozen=True)
class LayerReference:
    """How to compute a layer's return with the reference, and how to name it."""

    kind: str
    run: Reference  # (weights, x, mask, dtype) -> what the Keras layer returns
    names: tuple[str, ...]  # one per flattened returned array
    n_sequences: int  # how many leading returned arrays are per-timestep outputs

    def named(self, returned: Any, *, timesteps: int) -> dict[str, NamedTensor]:
        arrays = flatten(returned)
        if len(arrays) != len(self.names):
            raise ValueError(f"{self.kind}: expected {len(self.names)} returned arrays, got {len(arrays)}")
        out = {}
        for k, (name, value) in enumerate(zip(self.names, arrays)):
            value = np.asarray(value)
            if k < self.n_sequences:
                out[name] = NamedTensor(name, value.reshape(value.shape[0], value.shape[1], -1), np.arange(value.shape[1]))
            else:
                out[name] = NamedTensor(name, value.reshape(value.shape[0], 1, -1), np.array([timesteps - 1]))
        return out


def flatten(returned: Any) -> list[np.ndarray]:
    if isinstance(returned, (list, tuple)):
        return [a for item in returned for a in flatten(item)]
    return [np.asarray(returned)]


def _renamed(config: dict, renames: Mapping[str, str]) -> dict:
    """``config`` with activation names replaced (e.g. hard_sigmoid -> hard_sigmoid_keras2)."""
    keys = ("activation", "recurrent_activation")
    return {k: (renames.get(v, v) if k in keys and isinstance(v, str) else v) for k, v in config.items()}


def reference_for(layer: Any, *, renames: Mapping[str, str] | None = None,
                  conventions: LayerConventions = KERAS_LAYER) -> LayerReference | None:
    """The reference for a Keras layer object, or None when there is none (yet).

    ``renames`` maps activation names in the layer's configs to reference names,
    e.g. ``{"hard_sigmoid": "hard_sigmoid_keras2"}`` for a Keras 2 layer.

    ``conventions.cell`` applies to every cell and the time loop (for a stack of
    cells not ``mask="state"`` or ``state_carry``: ValueError from
    :func:`run_stacked_cells`). ``state_order``, ``merge_mode`` and
    ``backward_last`` apply to Bidirectional only; ``lstm_states="c-h"`` returns
    every LSTM state pair as ``[c, h]``.
    """
    if renames:
        return reference_for(_view(layer, renames), conventions=conventions)
    ref = _reference_for(layer, conventions)
    if ref is None or conventions.lstm_states == "keras":
        return ref
    order = list(range(len(ref.names)))
    for i, name in enumerate(ref.names):  # h, h_fwd, h1 ... next to its c, c_fwd, c1
        partner = "c" + name[1:] if name.startswith("h") else None
        if partner in ref.names:
            j = ref.names.index(partner)
            order[i], order[j] = j, i
    run = ref.run
    return dataclasses.replace(ref, run=lambda w, x, m, d: [flatten(run(w, x, m, d))[k] for k in order])


def _reference_for(layer: Any, conventions: LayerConventions) -> LayerReference | None:
    kind = type(layer).__name__
    cell = conventions.cell
    config = layer.get_config()
    seq = bool(config.get("return_sequences", False))
    with_state = bool(config.get("return_state", False))
    if kind in BASIC:
        names = ("output", *(_STATE_NAMES[kind] if with_state else ()))
        return LayerReference(
            kind, lambda w, x, m, d: run_sequence(kind, x, w, config, mask=m, conventions=cell, dtype=d).layer_return(), names, int(seq)
        )
    if kind == "Bidirectional":
        inner = type(layer.forward_layer).__name__
        if inner not in BASIC or type(layer.backward_layer).__name__ != inner:
            return None
        inner_config = layer.forward_layer.get_config()
        backward_config = layer.backward_layer.get_config()
        merge_mode = conventions.merge_mode_for(layer.merge_mode)
        seq = bool(inner_config.get("return_sequences", False))
        with_state = bool(inner_config.get("return_state", False))
        outputs = ("output_fwd", "output_bwd") if merge_mode is None else ("output",)
        states = tuple(f"{s}_{d}" for d in ("fwd", "bwd") for s in _STATE_NAMES[inner]) if with_state else ()

        def run_bi(w, x, m, d):
            return run_bidirectional(inner, x, w, inner_config, merge_mode=merge_mode, mask=m,
                                     backward_config=backward_config, conventions=cell,
                                     state_order=conventions.state_order,
                                     backward_last=conventions.backward_last, dtype=d).layer_return()

        return LayerReference(f"Bidirectional({inner})", run_bi, outputs + states, len(outputs) if seq else 0)
    if kind == "RNN" and not hasattr(layer.cell, "cells"):
        # RNN(single cell) is the plain layer: the cell's config plus the RNN's loop options.
        cell_kind = type(layer.cell).__name__.removesuffix("Cell")
        if cell_kind not in BASIC:
            return None
        merged = {**layer.cell.get_config(), **{k: config[k] for k in config if k in _LOOP_KEYS}}
        names = ("output", *(_STATE_NAMES[cell_kind] if with_state else ()))
        return LayerReference(f"RNN({cell_kind})",
                              lambda w, x, m, d: run_sequence(cell_kind, x, w, merged, mask=m, conventions=cell, dtype=d).layer_return(),
                              names, int(seq))
    if kind == "RNN":
        cells = list(layer.cell.cells)
        kinds = [type(c).__name__.removesuffix("Cell") for c in cells]
        if any(k not in BASIC for k in kinds):
            return None
        cell_configs = [c.get_config() for c in cells]
        states = tuple(f"{s}{i + 1}" for i, k in enumerate(kinds) for s in _STATE_NAMES[k]) if with_state else ()

        def run_rnn(w, x, m, d):
            per_cell = split_stacked_weights(kinds, w, cell_configs)
            return run_stacked_cells(kinds, x, per_cell, cell_configs, config, mask=m, conventions=cell, dtype=d).layer_return()

        return LayerReference(f"RNN({','.join(kinds)})", run_rnn, ("output", *states), int(seq))
    if kind in CONV:
        rank = CONV[kind]
        names = ("output", "h", "c") if with_state else ("output",)
        return LayerReference(
            kind, lambda w, x, m, d: run_conv_lstm(rank, x, w, config, mask=m, conventions=cell, dtype=d).layer_return(), names, int(seq)
        )
    return None


class _RenamedConfigs:
    """A read-only view of a layer whose (and whose sublayers') get_config renames activations."""

    def __init__(self, layer: Any, renames: Mapping[str, str]) -> None:
        self._layer, self._renames = layer, renames

    def get_config(self) -> dict:
        return _renamed(self._layer.get_config(), self._renames)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._layer, name)
        if name in ("forward_layer", "backward_layer", "cell"):
            return _view(value, self._renames)
        if name == "cells":
            return [_view(c, self._renames) for c in value]
        return value


def _view(obj: Any, renames: Mapping[str, str]) -> _RenamedConfigs:
    # reference_for dispatches on the class name, so the view carries the layer's.
    cls = type(type(obj).__name__, (_RenamedConfigs,), {})
    return cls(obj, renames)
