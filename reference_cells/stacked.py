"""References for stacked recurrent networks, the two ways Keras users build them.

(a) ``keras.layers.RNN([cell1, cell2, ...])`` (= ``RNN(StackedRNNCells([...]))``),
keras/src/layers/rnn/stacked_rnn_cells.py and rnn.py, Keras 3.15.1:

* One step (``StackedRNNCells.call``, l.87-105) runs the cells in order; cell
  ``k+1`` reads cell ``k``'s output at the *same* step::

      o_0 = x_t;  o_k, s_k(t) = cell_k(o_{k-1}, s_k(t-1));  output_t = o_K

  Shapes: ``x_t (B, F)``, ``o_k (B, U_k)``; cell ``k``'s kernel is
  ``(U_{k-1}, G*U_k)`` (``build`` l.107-119 feeds each cell the previous
  output size).
* States are nested per cell (``state_size`` l.49-51): LSTM ``[h, c]``,
  SimpleRNN/GRU ``[h]``. Zeros by default (``get_initial_state`` l.62-85,
  every Keras cell returns a list). An ``initial_state`` entry may be a bare
  array for a single-state cell; that cell's returned state is then bare too
  (l.91-100 keep the structure they were given).
* The time loop is the ordinary RNN loop (rnn.py l.330-360, backend rnn):
  go_backwards, masking (every nested state carried at a masked step, output =
  previous emitted output or 0 with zero_output_for_mask), unroll.
* Return (rnn.py l.444-451): ``output`` or ``[output, [h1, c1], [h2], ...]``,
  one list per cell. ``get_weights()`` is cell 1's ``[K, R(, b)]``, then cell 2's, ...
* Single-cell stacks (``RNN([cell])``) hit ``StackedRNNCells.call`` l.103-104,
  which unwraps the per-cell list when there is one cell, so the step returns
  ``[h]`` where the loop carries ``[[h]]``. On the TF backend (3.15.1, run) that
  gives, unless the cell's initial state is passed bare:
  mask and ``unroll=False`` -> ``ValueError`` (structure mismatch in the loop);
  no mask and ``unroll=True`` -> SimpleRNN/GRU return the state *bare*
  (``[out, h]``), LSTM raises ``IndexError``; otherwise ``[out, [h(, c)]]``.
  The reference returns the same structure and raises ``ValueError`` where
  Keras fails.

(b) A Sequential/functional stack of recurrent *layers* (each its own RNN),
where every layer but the last has ``return_sequences=True``:

* Mask propagation (Keras 3.15.1): ``RNN.supports_masking = True`` (rnn.py
  l.212), ``compute_mask`` returns the input mask unchanged when
  ``return_sequences`` else ``None`` (l.257-268); ``Bidirectional`` the same
  (bidirectional.py l.503-519, a pair for ``merge_mode=None``). So the *same*
  ``(B, T)`` mask reaches every layer. It is **not** reversed for a
  ``go_backwards`` layer, whose outputs are in processing order: the next
  layer then masks the reversed sequence with the time-order mask (Keras
  behaviour, mirrored here). Eager calls propagate it the same way: outputs
  carry ``_keras_mask`` and the next call picks it up [run].
* With ``return_state`` the sequence ``output`` (element 0) feeds the next layer.

Both return traces with every per-step output and state, in processing order.

A stateful ``RNN([cells])`` carries every cell's states into its next call
(``carried_state``, from ``trace.carry``). ``step_for`` runs someone else's
cell maths (one ``step`` per cell, made from that cell's kind, weights and
config) inside this loop, e.g. a port's SimpleRNN/LSTM/GRU step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

import numpy as np

from reference_cells.bidirectional import BidirectionalTrace, run_bidirectional, split_bidirectional_config
from reference_cells.conventions import KERAS, Conventions
from reference_cells.gru import GRUCell
from reference_cells.layer_config import LayerOptions
from reference_cells.lstm import LSTMCell
from reference_cells.precision import arithmetic
from reference_cells.sequence import SequenceTrace, StepFactory, run_sequence, run_sequence_with_step
from reference_cells.simple_rnn import SimpleRNNCell

_CELLS = {"SimpleRNN": SimpleRNNCell, "LSTM": LSTMCell, "GRU": GRUCell}
#: Keras cell class names accepted as kinds, e.g. from ``RNN.get_config()``.
_CELL_CLASS_NAMES = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
#: Loop conventions the stacked loop cannot simulate: the JAX masked-output rule would
#: read the packed state vector (cell 1's h, not the last cell's); a lagged recurrence would lag
#: the whole packed vector (the LSTM c too); skip-first needs run_sequence. (A port that forgets its
#: state between calls is simulated by its caller, which then passes no ``carried_state``.)
_UNSIMULATED_LOOP = {"mask": ("state",), "recurrent": ("lagged", "skip-first")}
#: Loop options read from the RNN layer's config (not from the cells').
_LOOP_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")

CellState = Union[np.ndarray, list]


def _kind(name: str) -> str:
    return _CELL_CLASS_NAMES.get(name, name)


def split_stacked_weights(
    kinds: Sequence[str], weights: Sequence[np.ndarray], cell_configs: Sequence[Mapping[str, Any]]
) -> list[list[np.ndarray]]:
    """Split ``RNN([cells]).get_weights()`` (cell after cell) into one list per cell."""
    out, i = [], 0
    for cfg in cell_configs:
        n = 3 if cfg.get("use_bias", True) else 2
        out.append(list(weights[i : i + n]))
        i += n
    if i != len(weights) or len(out) != len(kinds):
        raise ValueError(f"{len(weights)} weight arrays do not fit cells {list(kinds)}")
    return out


@dataclass(frozen=True)
class StackedTrace:
    """Everything the reference computed for one ``RNN([cells])`` call.

    Attributes:
        outputs: ``(B, T, U_K)`` emitted output of the last cell per processed step.
        last_output: ``(B, U_K)`` emitted output of the final processed step.
        states: per cell, ``{name: (B, T, U_k)}`` state after each processed
            step (``h``; ``c`` for LSTM). Cell ``k``'s output at a step is its ``h``.
        final_states: per cell, the returned state: a list in cell order, or a
            bare array where ``initial_state`` gave a bare array.
        return_sequences, return_state: the RNN layer's flags.
        carry: per cell, the list of final states a stateful layer carries into its next call.
    """

    outputs: np.ndarray
    last_output: np.ndarray
    states: list[dict[str, np.ndarray]]
    final_states: list[CellState]
    return_sequences: bool
    return_state: bool
    carry: list[list[np.ndarray]] = field(default_factory=list)

    def layer_return(self) -> np.ndarray | list[Any]:
        """Exactly what Keras returns: ``out`` or ``[out, [h1, c1], [h2], ...]``."""
        out = self.outputs if self.return_sequences else self.last_output
        return [out, *self.final_states] if self.return_state else out


def run_stacked_cells(
    kinds: Sequence[str],
    x: np.ndarray,
    weights_per_cell: Sequence[Sequence[np.ndarray]],
    cell_configs: Sequence[Mapping[str, Any]],
    rnn_config: Mapping[str, Any] | None = None,
    *,
    mask: np.ndarray | None = None,
    initial_state: Sequence[CellState] | None = None,
    conventions: Conventions = KERAS,
    dtype: np.dtype | type = np.float64,
    carried_state: Sequence[Sequence[np.ndarray]] | None = None,
    step_for: StepFactory | None = None,
) -> StackedTrace:
    """Run ``keras.layers.RNN([cell_1, ..., cell_K], **rnn_config)`` over ``x``.

    Args:
        kinds: per cell ``"SimpleRNN" | "LSTM" | "GRU"`` (``"LSTMCell"`` etc. accepted).
        x: ``(B, T, F)`` inputs.
        weights_per_cell: per cell ``cell.get_weights()``; see
            :func:`split_stacked_weights` for the layer's flat list.
        cell_configs: per cell ``cell.get_config()`` (units, activations, use_bias, reset_after).
        rnn_config: the RNN layer's loop options (return_sequences,
            return_state, go_backwards, unroll, zero_output_for_mask); missing
            keys take Keras defaults.
        mask: optional ``(B, T)`` bool, True = use the step.
        initial_state: per cell, a list of ``(B, U_k)`` arrays in cell state
            order, or a bare array for a single-state cell.
        conventions: applied to every cell's maths (gate order, biases, ...) and
            to the time loop (initial_state, time_direction, mask; not
            ``mask="state"`` or a lagged / skip-first recurrence, which raise ValueError).
        dtype: compute dtype (float64 default).
        carried_state: per cell, the states left by the previous call of a
            stateful layer (``trace.carry``).
        step_for: ``(kind, cell weights, cell config) -> step`` to run another
            cell implementation for every cell (the loop and the stacking stay
            these; ``conventions`` then touch the loop only).
    """
    bad = [f for f, values in _UNSIMULATED_LOOP.items() if getattr(conventions, f) in values]
    if bad:
        raise ValueError(f"run_stacked_cells does not simulate loop conventions {bad}")
    if not (len(kinds) == len(weights_per_cell) == len(cell_configs)) or not kinds:
        raise ValueError("kinds, weights_per_cell and cell_configs must be non-empty and of equal length")
    arith = arithmetic(dtype)  # a Precision simulates reduced-precision arithmetic in every cell
    dtype = arith.dtype
    x = arith.round(np.asarray(x, dtype=dtype))
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, timesteps, features), got shape {x.shape}")
    batch = x.shape[0]

    cells, steps = [], []
    in_dim = x.shape[-1]
    for kind, w, cfg in zip(kinds, weights_per_cell, cell_configs):
        kind = _kind(kind)
        options = LayerOptions.from_config(kind, cfg)
        if np.shape(w[0])[0] != in_dim:
            raise ValueError(f"{kind} cell kernel has {np.shape(w[0])[0]} input rows, expected {in_dim}")
        cells.append(_CELLS[kind](w, options, conventions, arith))
        steps.append(cells[-1].step if step_for is None else step_for(kind, list(w), dict(cfg)))
        in_dim = options.units

    # The loop treats states elementwise (np.where on the mask), so all cells'
    # states packed side by side into one vector go through it unchanged; this
    # reuses run_sequence_with_step's loop instead of writing a second one.
    widths = [(len(c.state_names), c.units) for c in cells]
    packed_width = sum(n * u for n, u in widths)
    out_units = cells[-1].units
    width = max(packed_width, out_units)

    def pack(per_cell: Sequence[Sequence[np.ndarray]]) -> np.ndarray:
        parts = [np.asarray(s, dtype=dtype) for states in per_cell for s in states]
        if width > packed_width:
            parts.append(np.zeros((parts[0].shape[0], width - packed_width), dtype))
        return np.concatenate(parts, axis=-1)

    def unpack(packed: np.ndarray) -> list[list[np.ndarray]]:
        out, i = [], 0
        for n, u in widths:
            out.append([packed[..., i + k * u : i + (k + 1) * u] for k in range(n)])
            i += n * u
        return out

    def step(x_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        inputs, new = x_t, []
        for cell_step, cell_states in zip(steps, unpack(states[0])):
            inputs, cell_new = cell_step(inputs, cell_states)  # stacked_rnn_cells.py l.98
            new.append(cell_new)
        if width > out_units:
            inputs = np.concatenate([inputs, np.zeros((inputs.shape[0], width - out_units), dtype)], axis=-1)
        return inputs, [pack(new)]

    bare = [False] * len(cells)
    packed_init = None
    if initial_state is not None:
        if len(initial_state) != len(cells):
            raise ValueError(f"initial_state needs one entry per cell ({len(cells)}), got {len(initial_state)}")
        per_cell = []
        for k, (cell, s) in enumerate(zip(cells, initial_state)):
            bare[k] = isinstance(s, np.ndarray)
            states = [s] if bare[k] else list(s)
            if len(states) != len(cell.state_names) or any(np.shape(a) != (batch, cell.units) for a in states):
                raise ValueError(
                    f"initial_state[{k}] must be {len(cell.state_names)} array(s) of shape {(batch, cell.units)}"
                )
            per_cell.append(states)
        packed_init = [pack(per_cell)]

    loop = {key: (rnn_config or {})[key] for key in _LOOP_KEYS if key in (rnn_config or {})}
    if len(cells) == 1 and not bare[0]:
        bare[0] = _single_cell_returns_bare(cells[0], mask is not None, bool(loop.get("unroll", False)))
    packed_carry = None if carried_state is None else [pack([list(s) for s in carried_state])]
    trace = run_sequence_with_step(
        "SimpleRNN", step, x, {**loop, "units": width}, mask=mask, initial_state=packed_init, dtype=arith,
        conventions=conventions, carried_state=packed_carry,
    )

    per_step = unpack(trace.states["h"])
    final = unpack(trace.final_states[0])
    return StackedTrace(
        outputs=trace.outputs[..., :out_units],
        last_output=trace.last_output[..., :out_units],
        states=[dict(zip(c.state_names, s)) for c, s in zip(cells, per_step)],
        final_states=[f[0] if b else f for f, b in zip(final, bare)],
        return_sequences=bool(loop.get("return_sequences", False)),
        return_state=bool(loop.get("return_state", False)),
        carry=final,
    )


def _single_cell_returns_bare(cell: Any, masked: bool, unroll: bool) -> bool:
    """Keras TF-backend behaviour of ``RNN([cell])`` (see the module docstring).

    Returns whether the cell's state comes back bare; raises where Keras fails.
    """
    if masked and not unroll:
        raise ValueError(
            "Keras 3.15.1 (TF backend) raises ValueError for RNN([one cell]) with a mask and unroll=False "
            "(StackedRNNCells unwraps the only cell's state list); pass that cell's state bare or use the layer"
        )
    if unroll and not masked:
        if len(cell.state_names) > 1:
            raise ValueError(
                "Keras 3.15.1 (TF backend) raises IndexError for RNN([one LSTMCell], unroll=True) without a mask"
            )
        return True
    return False


CellSpec = tuple[str, Sequence[np.ndarray], Mapping[str, Any]]


@dataclass(frozen=True)
class LayerStackTrace:
    """One trace per layer of a layer stack, and the mask each layer received.

    Attributes:
        layers: per layer a :class:`SequenceTrace` or :class:`BidirectionalTrace`.
        masks: the ``(B, T)`` mask (or ``None``) each layer was called with.
    """

    layers: list[SequenceTrace | BidirectionalTrace]
    masks: list[np.ndarray | None] = field(default_factory=list)

    def layer_return(self) -> Any:
        """What the last layer returns (the stack's output)."""
        return self.layers[-1].layer_return()


def _sequence_output(ret: Any, return_state: bool, merge_mode: str | None = "concat") -> Any:
    """The output tensor a following layer reads from a layer's return value."""
    if return_state:
        ret = ret[0] if merge_mode is not None else tuple(ret[:2])
    return ret


def run_layer_stack(
    layers: Sequence[CellSpec],
    x: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    propagate_mask: bool = True,
    conventions: Conventions = KERAS,
    dtype: np.dtype | type = np.float64,
) -> LayerStackTrace:
    """Run a stack of recurrent layers, each reading the previous one's output sequence.

    Args:
        layers: ``(kind, weights, config)`` per layer, ``kind`` one of
            ``"SimpleRNN" | "LSTM" | "GRU"`` with ``layer.get_config()``, or
            ``"Bidirectional"`` with ``Bidirectional.get_config()`` and its
            ``get_weights()``. Every layer but the last must return sequences.
        x: ``(B, T, F)`` inputs.
        mask: optional ``(B, T)`` bool for the first layer (e.g. from
            ``Masking``/``Embedding(mask_zero=True)``); passed on by every
            layer that returns sequences (see the module docstring).
        propagate_mask: ``False`` simulates a port that masks only the first layer.
        conventions: applied to every layer.
        dtype: compute dtype (float64 default).
    """
    if not layers:
        raise ValueError("layers must not be empty")
    traces: list[SequenceTrace | BidirectionalTrace] = []
    masks: list[np.ndarray | None] = []
    inputs: Any = x
    for i, (kind, weights, config) in enumerate(layers):
        if isinstance(inputs, tuple):
            raise ValueError(f"layer {i} would read a Bidirectional(merge_mode=None) pair; not a single tensor")
        masks.append(mask)
        if kind == "Bidirectional":
            inner_kind, inner_config, merge_mode, back = split_bidirectional_config(config)
            trace: SequenceTrace | BidirectionalTrace = run_bidirectional(
                inner_kind, inputs, weights, inner_config,
                merge_mode=merge_mode, mask=mask, conventions=conventions, dtype=dtype,
                backward_config=None if back is None else back[1],
                backward_kind=None if back is None else back[0],
            )
        else:
            merge_mode = "concat"
            inner_config = dict(config)
            trace = run_sequence(kind, inputs, weights, inner_config, mask=mask, conventions=conventions, dtype=dtype)
        traces.append(trace)
        returns_sequences = bool(inner_config.get("return_sequences", False))
        if i < len(layers) - 1 and not returns_sequences:
            raise ValueError(f"layer {i} ({kind}) must have return_sequences=True to feed layer {i + 1}")
        inputs = _sequence_output(trace.layer_return(), bool(inner_config.get("return_state", False)), merge_mode)
        # rnn.py l.263 / bidirectional.py l.506-510: the same mask, never reversed.
        mask = mask if (returns_sequences and propagate_mask) else None
    return LayerStackTrace(layers=traces, masks=masks)
