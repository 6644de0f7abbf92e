"""Which reference computes a given recurrent layer, and how its return is named.

One entry for every kind: :func:`reference_for` takes a layer *object* - a
built Keras layer, or :func:`cell_view` of a :class:`~harness.layers.cell.CellSpec`
- and reads only its class name, ``get_config()`` and, for wrappers, its
sublayers (``forward_layer``, ``backward_layer``, ``cell``, ``merge_mode``). It
never imports Keras. Kinds: SimpleRNN / LSTM / GRU, ``Bidirectional`` over any
of them, ``RNN`` over a cell or a list of cells (``StackedRNNCells``), and
ConvLSTM1D/2D/3D. Returns are flattened to named ``(B, n, U)`` tensors
(spatial dimensions folded into ``U``) so one comparator serves every kind.

``conventions`` (a :class:`~harness.oracle.conventions.LayerConventions`) runs
the reference the way a buggy port would: the diagnosis uses it to name what a
port gets wrong; ``renames`` the way another target does (e.g. Keras 2's hard_sigmoid).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.layers.tensors import STATE_NAMES as _STATE_NAMES
from harness.layers.tensors import NamedTensor
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from reference_cells import SequenceTrace, run_sequence
from reference_cells.bidirectional import run_bidirectional
from reference_cells.conv_lstm import run_conv_lstm, run_conv_lstm_with_step
from reference_cells.sequence import StepFactory, run_sequence_with_step
from reference_cells.stacked import run_stacked_cells, split_stacked_weights

BASIC = ("SimpleRNN", "LSTM", "GRU")
CONV = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
_LOOP_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")

#: One call of the layer: ``(x, mask, initial_state) -> (returned arrays, trace or None)``. The trace
#: holds every step of the output and of each state, ``(B, T, U)`` by name, where the reference has it.
Session = Callable[[np.ndarray, "np.ndarray | None", "Sequence[np.ndarray] | None"], tuple[list, "dict | None"]]


@dataclass(frozen=True)
class LayerReference:
    """How to compute a layer's return with the reference, and how to name it.

    ``start(weights, dtype)`` opens a session: successive calls of a stateful
    layer continue from the previous call's final states (Keras's carry).
    ``with_step(step_for)`` opens the same sessions with someone else's cell
    maths in the reference's loop (a step port: every cell of the layer - each
    Bidirectional half, each stacked cell - is ``step_for(kind, weights, config)``)."""

    kind: str
    start: Callable[[Sequence[np.ndarray], np.dtype], Session]
    names: tuple[str, ...]  # one per flattened returned array
    n_sequences: int  # how many leading returned arrays are per-timestep outputs
    with_step: Starter | None = None

    def run(self, weights: Sequence[np.ndarray], x: np.ndarray, mask: np.ndarray | None, dtype: Any,
            initial_state: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        """One call from zero (or ``initial_state``): what the Keras layer returns, flattened."""
        return self.start(weights, np.dtype(dtype))(x, mask, initial_state)[0]

    def named(self, returned: Any, *, timesteps: int | None = None, start: int = 0,
              stop: int | None = None) -> dict[str, NamedTensor]:
        """Name one call's return (covering steps ``[start, stop)``; ``timesteps`` = ``stop`` from 0)."""
        stop = timesteps if stop is None else stop
        arrays = flatten(returned)
        if len(arrays) != len(self.names):
            raise ValueError(f"{self.kind}: expected {len(self.names)} returned arrays "
                             f"[{', '.join(self.names)}], got {len(arrays)}")
        out = {}
        for k, (name, value) in enumerate(zip(self.names, arrays)):
            value = np.asarray(value)
            if k < self.n_sequences:
                if value.ndim < 3 or value.shape[1] != stop - start:
                    raise ValueError(f"{name}: expected shape (batch, {stop - start}, ...), got {value.shape}")
                out[name] = NamedTensor(name, value.reshape(value.shape[0], value.shape[1], -1), np.arange(start, stop))
            else:
                if value.ndim < 2:
                    raise ValueError(f"{name}: expected shape (batch, ...), got {value.shape}")
                out[name] = NamedTensor(name, value.reshape(value.shape[0], 1, -1), np.array([stop - 1]))
        return out


def flatten(returned: Any) -> list[np.ndarray]:
    if isinstance(returned, (list, tuple)):
        return [a for item in returned for a in flatten(item)]
    return [np.asarray(returned)]


class _ConfigView:
    """A layer as far as :func:`reference_for` looks: a class name and a config."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = dict(config)

    def get_config(self) -> dict:
        return dict(self._config)


def cell_view(kind: str, config: Mapping[str, Any]) -> Any:
    """A SimpleRNN/LSTM/GRU layer seen through its config only (no Keras object needed)."""
    return type(kind, (_ConfigView,), {})(config)


def _renamed(config: dict, renames: Mapping[str, str]) -> dict:
    """``config`` with activation names replaced (e.g. hard_sigmoid -> hard_sigmoid_keras2)."""
    keys = ("activation", "recurrent_activation")
    return {k: (renames.get(v, v) if k in keys and isinstance(v, str) else v) for k, v in config.items()}


def reference_for(layer: Any, *, renames: Mapping[str, str] | None = None,
                  conventions: LayerConventions = KERAS_LAYER) -> LayerReference | None:
    """The reference for a layer object, or None when there is none (yet).

    ``renames`` maps activation names in the layer's configs to reference names,
    e.g. ``{"hard_sigmoid": "hard_sigmoid_keras2"}`` for a Keras 2 layer.
    ``conventions.cell`` applies to every cell and the time loop;
    ``state_order``, ``merge_mode``, ``backward_last`` and ``initial_state_split``
    to Bidirectional only; ``lstm_states="c-h"`` returns every LSTM state pair as ``[c, h]``.
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
    swaps = {ref.names[i]: ref.names[k] for i, k in enumerate(order) if i != k}
    start = ref.start

    def swapped(weights, dtype):
        session = start(weights, dtype)

        def call(x, mask, initial_state):
            returned, trace = session(x, mask, initial_state)
            returned = [flatten(returned)[k] for k in order]
            if trace is not None:  # the tensor named h now holds c: its floor is c's
                trace = {swaps.get(n, n): v for n, v in trace.items()}
            return returned, trace

        return call

    return dataclasses.replace(ref, start=swapped)


#: Opens sessions of one layer, optionally with someone else's cell maths (a step port's) in the loop.
Starter = Callable[["StepFactory | None"], Callable[[Sequence[np.ndarray], np.dtype], Session]]


def _sessions(run: Callable[..., Any], *, stateful: bool, traced: Mapping[str, Any] | None = None) -> Starter:
    """Sessions of a layer whose reference ``run(weights, x, mask, initial_state, carried, dtype, step_for)``
    returns a trace with ``layer_return()`` and ``carry``: a stateful layer continues each call from the
    previous call's carry (Keras's). ``traced`` (a cell layer's config) returns the per-step trace too."""

    def starter(step_for):
        def start(weights, dtype):
            carried = None

            def call(x, mask, initial_state):
                nonlocal carried
                trace = run(weights, x, mask, initial_state, carried, dtype, step_for)
                if stateful:
                    carried = trace.carry
                if traced is not None:
                    return cell_call(trace, traced)
                return flatten(trace.layer_return()), None

            return call

        return start

    return starter


def _reference(kind: str, starter: Starter, names: tuple[str, ...], n_sequences: int) -> LayerReference:
    return LayerReference(kind, starter(None), names, n_sequences, with_step=starter)


def cell_call(trace: SequenceTrace, config: Mapping[str, Any]) -> tuple[list, dict]:
    """One call of a SimpleRNN/LSTM/GRU session from its :class:`SequenceTrace`: the flattened
    return and the trace (every step of the output and of each state)."""
    outputs = trace.outputs.copy()
    if not config.get("return_sequences", False):
        outputs[:, -1] = trace.last_output  # the value a last-output tensor is compared at
    return flatten(trace.layer_return()), {"output": outputs, **trace.states}


def _sequence(kind: str, config: Mapping[str, Any], conventions) -> Callable[..., SequenceTrace]:
    """``run`` for :func:`_sessions` of a SimpleRNN/LSTM/GRU layer (a step port's cell when given)."""

    def run(w, x, m, init, carried, d, step_for):
        common = dict(mask=m, initial_state=init, carried_state=carried, conventions=conventions, dtype=d)
        if step_for is None:
            return run_sequence(kind, x, w, config, **common)
        return run_sequence_with_step(kind, step_for(kind, w, config), x, config, **common)

    return run


def _reference_for(layer: Any, conventions: LayerConventions) -> LayerReference | None:
    kind = type(layer).__name__
    cell = conventions.cell
    config = layer.get_config()
    seq = bool(config.get("return_sequences", False))
    with_state = bool(config.get("return_state", False))
    if kind in BASIC:
        names = ("output", *(_STATE_NAMES[kind] if with_state else ()))
        carries = cell.state_carry == "keras"  # "reset": a port that forgets its state between calls
        return _reference(kind, _sessions(_sequence(kind, config, cell), stateful=carries, traced=config), names,
                          int(seq))
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

        def run_bi(w, x, m, init, carried, d, step_for):
            return run_bidirectional(inner, x, w, inner_config, merge_mode=merge_mode, mask=m, initial_state=init,
                                     backward_config=backward_config, conventions=cell,
                                     state_order=conventions.state_order, backward_last=conventions.backward_last,
                                     initial_state_split=conventions.initial_state_split, dtype=d,
                                     carried_state=carried, step_for=step_for)

        stateful = bool(inner_config.get("stateful")) and cell.state_carry == "keras"
        return _reference(f"Bidirectional({inner})", _sessions(run_bi, stateful=stateful), outputs + states,
                          len(outputs) if seq else 0)
    if kind == "RNN" and not hasattr(layer.cell, "cells"):
        # RNN(single cell) is the plain layer: the cell's config plus the RNN's loop options.
        cell_kind = type(layer.cell).__name__.removesuffix("Cell")
        if cell_kind not in BASIC:
            return None
        merged = {**layer.cell.get_config(), **{k: config[k] for k in config if k in _LOOP_KEYS}}
        names = ("output", *(_STATE_NAMES[cell_kind] if with_state else ()))
        stateful = bool(config.get("stateful")) and cell.state_carry == "keras"
        return _reference(f"RNN({cell_kind})", _sessions(_sequence(cell_kind, merged, cell), stateful=stateful),
                          names, int(seq))
    if kind == "RNN":
        cells = list(layer.cell.cells)
        kinds = [type(c).__name__.removesuffix("Cell") for c in cells]
        if any(k not in BASIC for k in kinds):
            return None
        cell_configs = [c.get_config() for c in cells]
        states = tuple(f"{s}{i + 1}" for i, k in enumerate(kinds) for s in _STATE_NAMES[k]) if with_state else ()
        counts = [len(_STATE_NAMES[k]) for k in kinds]

        def run_rnn(w, x, m, init, carried, d, step_for):
            per_cell = split_stacked_weights(kinds, w, cell_configs)
            if init is not None and len(init) == sum(counts):  # flat, in Keras order: one list per cell
                edges = np.cumsum([0, *counts])
                init = [list(init[a:b]) for a, b in zip(edges[:-1], edges[1:])]
            return run_stacked_cells(kinds, x, per_cell, cell_configs, config, mask=m, initial_state=init,
                                     conventions=cell, dtype=d, carried_state=carried, step_for=step_for)

        stateful = bool(config.get("stateful")) and cell.state_carry == "keras"
        return _reference(f"RNN({','.join(kinds)})", _sessions(run_rnn, stateful=stateful), ("output", *states),
                          int(seq))
    if kind in CONV:
        rank = CONV[kind]
        names = ("output", "h", "c") if with_state else ("output",)

        def run_conv(w, x, m, init, carried, d, step_for):
            common = dict(mask=m, initial_state=init, carried_state=carried, dtype=d)
            if step_for is None:
                return run_conv_lstm(rank, x, w, config, conventions=cell, **common)
            return run_conv_lstm_with_step(rank, step_for(kind, w, config), x, w, config, **common)

        stateful = bool(config.get("stateful")) and cell.state_carry == "keras"
        return _reference(kind, _sessions(run_conv, stateful=stateful), names, int(seq))
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
