"""The reference for ``keras.layers.Bidirectional(layer)`` around SimpleRNN/LSTM/GRU.

Semantics (keras/src/layers/rnn/bidirectional.py, Keras 3.15.1;
``../shared/keras-rnn-semantics.md`` §4), for inputs ``x (B, T, F)``:

* Layers (l.112-135): the forward layer is a copy of ``layer``; the backward
  layer is a copy with ``go_backwards=True`` (or the given ``backward_layer``).
  The two must differ in ``go_backwards`` and agree on ``stateful``,
  ``return_sequences``, ``return_state`` (``_verify_layer_config``, l.156-178),
  so wrapping a layer that already has ``go_backwards=True`` without a
  ``backward_layer`` raises ``ValueError`` - it is not silently un-reversed.
* ``zero_output_for_mask`` is forced to ``return_sequences`` on both
  directions (l.137-143): masked steps of returned sequences are 0 - except
  with ``unroll=True`` on the TF backend, whose zeroing uses the time-order
  mask on processing-order outputs (see sequence.py): after the wrapper's flip
  the backward half is 0 at the *mirrored* masked positions and carries values
  at the masked ones [run, mirrored here].
* Weights: ``Bidirectional.get_weights()`` is forward ``[K, R, b]`` then
  backward ``[K, R, b]``; split in halves (l.146-149).
* ``initial_state``: ``half = len // 2``; the first half goes forward, the
  rest backward (l.229-231). LSTM: ``[h_f, c_f, h_b, c_b]``.
* Both layers get the same inputs and the same mask (l.217-241); the backward
  RNN reverses both itself and returns its outputs in processing order.
* ``if return_sequences: y_rev = flip(y_rev, axis=1)`` (l.251-252): position
  ``t`` of the backward half is its output after reading ``x[T-1..t]``.
  Without ``return_sequences`` ``y_rev`` is the backward last output (after
  reading ``x[T-1..0]``).
* Merge (l.253-262), shapes for ``y, y_rev (B, [T,] U)``: ``concat`` ->
  ``(.., 2U)`` ``[y, y_rev]``; ``sum`` ``y + y_rev``; ``ave``
  ``(y + y_rev) / 2``; ``mul`` ``y * y_rev``; ``None`` -> ``(y, y_rev)``.
* Return (l.243-244, 269-273): states are forward then backward,
  ``[out, h_f, c_f, h_b, c_b]`` for LSTM, ``[y, y_rev, h_f, c_f, h_b, c_b]``
  with ``merge_mode=None``; without ``return_state`` just ``out`` or
  ``(y, y_rev)``.
* The fused ``bidirectional_lstm/gru`` paths (l.206-215) are GPU-only and
  compute the same thing; they are not modelled separately.

Port bugs the arguments can simulate: ``backward_conventions`` runs only the
backward half with other conventions (``Conventions(time_direction="flipped")``
makes the backward RNN return time order, which the wrapper then flips again:
the "backward half not flipped back / flipped twice" misalignment);
``state_order="interleaved"`` returns ``(h_f, h_b, c_f, c_b)``;
``backward_last="first-step"`` returns, without return_sequences, the backward
half's *first* processed output (after reading ``x[T-1]`` only: ``y_bwd[:, -1]`` of
its time-ordered sequence) instead of its final one;
``initial_state_split="swapped"`` gives the first half to the backward layer.

Stateful layers (``stateful=True`` on the wrapped layer): each half is a
stateful RNN of its own, so a call continues each half from its own final
states of the previous call (``carried_state``); the backward half reads each
call's chunk from its end, chunk after chunk. ``step_for`` runs someone else's
cell maths (one ``step`` per half, made from that half's weights and config)
inside this loop, e.g. a port's SimpleRNN/LSTM/GRU step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from reference_cells.conventions import KERAS, Conventions
from reference_cells.sequence import SequenceTrace, StepFactory, run_sequence, run_sequence_with_step

MERGE_MODES: tuple[str | None, ...] = ("concat", "sum", "mul", "ave", None)
#: keras: forward states then backward; interleaved: (h_f, h_b, c_f, c_b) - a port bug.
STATE_ORDERS = ("keras", "interleaved")
#: keras: the backward half's final output; first-step: its first processed output - a port bug.
BACKWARD_LASTS = ("keras", "first-step")
#: keras: first half of initial_state forward; swapped: first half backward - a port bug.
INITIAL_STATE_SPLITS = ("keras", "swapped")


def _merge(y: np.ndarray, y_rev: np.ndarray, merge_mode: str | None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """bidirectional.py l.253-262."""
    if merge_mode == "concat":
        return np.concatenate([y, y_rev], axis=-1)
    if merge_mode == "sum":
        return y + y_rev
    if merge_mode == "ave":
        return (y + y_rev) / y.dtype.type(2)
    if merge_mode == "mul":
        return y * y_rev
    return (y, y_rev)


@dataclass(frozen=True)
class BidirectionalTrace:
    """Everything the reference computed for one ``Bidirectional`` call.

    Attributes:
        forward: the forward layer's trace (outputs in time order).
        backward: the backward layer's trace, outputs in its *processing*
            order exactly as the backward RNN returns them (before the
            wrapper's flip); ``backward.states`` also in processing order.
        merge_mode: ``"concat" | "sum" | "mul" | "ave" | None``.
        return_sequences, return_state: the wrapped layer's flags.
        state_order: ``"keras"`` or a simulated ``"interleaved"`` unpacking.
        backward_last: ``"keras"`` or a simulated ``"first-step"`` last output.
    """

    forward: SequenceTrace
    backward: SequenceTrace
    merge_mode: str | None
    return_sequences: bool
    return_state: bool
    state_order: str = "keras"
    backward_last: str = "keras"

    @property
    def forward_output(self) -> np.ndarray:
        """``y``: ``(B, T, U)`` if return_sequences else ``(B, U)``."""
        f = self.forward
        return f.outputs if self.return_sequences else f.last_output

    @property
    def backward_output(self) -> np.ndarray:
        """``y_rev`` as merged: flipped to time order if return_sequences (l.251-252)."""
        b = self.backward
        if self.return_sequences:
            return b.outputs[:, ::-1]
        return b.outputs[:, 0] if self.backward_last == "first-step" and b.outputs.shape[1] else b.last_output

    @property
    def backward_outputs_time_order(self) -> np.ndarray:
        """``(B, T, U)`` backward per-step outputs flipped as the wrapper flips them
        (time order for a go_backwards backward layer), whatever return_sequences is."""
        return self.backward.outputs[:, ::-1]

    @property
    def outputs(self) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Per-timestep merged outputs in time order, ``(B, T, 2U)`` for concat;
        a pair for ``merge_mode=None``. Equals the layer output when it returns sequences."""
        return _merge(self.forward.outputs, self.backward_outputs_time_order, self.merge_mode)

    @property
    def output(self) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The merged output the layer returns (l.253-262)."""
        return _merge(self.forward_output, self.backward_output, self.merge_mode)

    @property
    def carry(self) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """What a stateful layer carries into its next call: each half's final states."""
        return self.forward.final_states, self.backward.final_states

    @property
    def final_states(self) -> tuple[np.ndarray, ...]:
        """Returned states: forward then backward (l.244), or interleaved if simulated."""
        fwd, bwd = self.forward.final_states, self.backward.final_states
        if self.state_order == "interleaved":
            return tuple(s for pair in zip(fwd, bwd) for s in pair)
        return (*fwd, *bwd)

    def layer_return(self) -> Any:
        """Exactly what the Keras layer returns, as lists/tuples of arrays (l.269-273)."""
        out = self.output
        if not self.return_state:
            return out
        head = list(out) if self.merge_mode is None else [out]
        return [*head, *self.final_states]


def split_bidirectional_config(
    config: Mapping[str, Any],
) -> tuple[str, dict[str, Any], str | None, tuple[str, dict[str, Any]] | None]:
    """``(kind, layer_config, merge_mode, backward)`` from ``Bidirectional.get_config()``.

    ``backward`` is ``(kind, config)`` of the serialized ``backward_layer``
    (always present in configs saved by Keras 3, l.521-528), else ``None``.
    """
    layer = config["layer"]
    backward = config.get("backward_layer")
    back = (backward["class_name"], dict(backward["config"])) if backward else None
    return layer["class_name"], dict(layer["config"]), config.get("merge_mode", "concat"), back


def run_bidirectional(
    kind: str,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    config: Mapping[str, Any],
    *,
    merge_mode: str | None = "concat",
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    backward_config: Mapping[str, Any] | None = None,
    backward_kind: str | None = None,
    conventions: Conventions = KERAS,
    backward_conventions: Conventions | None = None,
    state_order: str = "keras",
    backward_last: str = "keras",
    initial_state_split: str = "keras",
    dtype: np.dtype | type = np.float64,
    carried_state: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
    step_for: StepFactory | None = None,
) -> BidirectionalTrace:
    """Run ``Bidirectional(kind(**config), merge_mode)`` over ``x`` as Keras 3 does.

    Args:
        kind: ``"SimpleRNN"``, ``"LSTM"`` or ``"GRU"`` (the wrapped layer).
        x: ``(B, T, F)`` inputs.
        weights: ``Bidirectional.get_weights()``: forward then backward arrays.
        config: the wrapped layer's config (``layer.get_config()``).
        merge_mode: ``"concat" | "sum" | "mul" | "ave" | None``.
        mask: optional ``(B, T)`` bool, True = use the step; given to both halves.
        initial_state: optional ``[*forward_states, *backward_states]``,
            e.g. LSTM ``[h_f, c_f, h_b, c_b]``, each ``(B, U)``.
        backward_config: config of an explicit ``backward_layer``;
            default: ``config`` with ``go_backwards=True``.
        backward_kind: class of an explicit ``backward_layer`` (default ``kind``).
        conventions: conventions of the forward half (and of the backward half
            unless ``backward_conventions`` is given).
        backward_conventions: conventions of the backward half only.
        state_order: ``"keras"`` or ``"interleaved"`` (simulated port bug).
        backward_last: ``"keras"`` or ``"first-step"`` (simulated port bug).
        initial_state_split: ``"keras"`` or ``"swapped"`` (simulated port bug).
        dtype: compute dtype (float64 default).
        carried_state: ``(forward states, backward states)`` left by the
            previous call of a stateful layer (``trace.carry``).
        step_for: ``(kind, half weights, half config) -> step`` to run another
            cell implementation in each half (the loop stays this one; then
            ``conventions`` touch the loop only).

    Raises:
        ValueError: for what Keras rejects: an unknown merge mode, both halves
            with the same ``go_backwards`` (e.g. ``layer`` has
            ``go_backwards=True`` and no ``backward_config``), or halves
            disagreeing on stateful/return_sequences/return_state.
    """
    if merge_mode not in MERGE_MODES:
        raise ValueError(f"Invalid merge mode {merge_mode!r}; expected one of {MERGE_MODES}")
    if backward_last not in BACKWARD_LASTS:
        raise ValueError(f"backward_last={backward_last!r} is not one of {BACKWARD_LASTS}")
    if state_order not in STATE_ORDERS:
        raise ValueError(f"state_order={state_order!r} is not one of {STATE_ORDERS}")
    if initial_state_split not in INITIAL_STATE_SPLITS:
        raise ValueError(f"initial_state_split={initial_state_split!r} is not one of {INITIAL_STATE_SPLITS}")

    fwd_config = dict(config)
    bwd_config = dict(backward_config) if backward_config is not None else {**config, "go_backwards": True}
    # l.156-178: Keras refuses these combinations rather than fixing them up.
    if bool(fwd_config.get("go_backwards", False)) == bool(bwd_config.get("go_backwards", False)):
        raise ValueError(
            "Forward layer and backward layer should have different `go_backwards` value "
            f"(both {bool(fwd_config.get('go_backwards', False))}); Keras raises this for a wrapped "
            "layer with go_backwards=True and no backward_layer"
        )
    for key in ("stateful", "return_sequences", "return_state"):
        if bool(fwd_config.get(key, False)) != bool(bwd_config.get(key, False)):
            raise ValueError(f"Forward and backward layers must have the same {key!r}")
    return_sequences = bool(fwd_config.get("return_sequences", False))
    # l.137-143: whatever the configs say.
    fwd_config["zero_output_for_mask"] = return_sequences
    bwd_config["zero_output_for_mask"] = return_sequences

    # get_weights() lists the forward layer's [K, R(, b)] first (l.146-149 split in halves).
    n_fwd = 3 if fwd_config.get("use_bias", True) else 2
    fwd_weights, bwd_weights = list(weights[:n_fwd]), list(weights[n_fwd:])

    fwd_state = bwd_state = None
    if initial_state is not None:
        half = len(initial_state) // 2  # l.229
        fwd_state, bwd_state = list(initial_state[:half]), list(initial_state[half:])
        if initial_state_split == "swapped":
            fwd_state, bwd_state = bwd_state, fwd_state

    fwd_carry, bwd_carry = (None, None) if carried_state is None else carried_state

    def half(half_kind: str, weights_: list, config_: dict, state, carry, conventions_: Conventions) -> SequenceTrace:
        common = dict(mask=mask, initial_state=state, carried_state=carry, conventions=conventions_, dtype=dtype)
        if step_for is None:
            return run_sequence(half_kind, x, weights_, config_, **common)
        return run_sequence_with_step(half_kind, step_for(half_kind, weights_, config_), x, config_, **common)

    forward = half(kind, fwd_weights, fwd_config, fwd_state, fwd_carry, conventions)
    backward = half(backward_kind or kind, bwd_weights, bwd_config, bwd_state, bwd_carry,
                    conventions if backward_conventions is None else backward_conventions)
    return BidirectionalTrace(
        forward=forward,
        backward=backward,
        merge_mode=merge_mode,
        return_sequences=return_sequences,
        return_state=bool(fwd_config.get("return_state", False)),
        state_order=state_order,
        backward_last=backward_last,
    )
