"""The time loop shared by every cell: the reference for ``keras.layers.RNN``.

Semantics (keras/src/layers/rnn/rnn.py, keras/src/backend/tensorflow/rnn.py;
``../shared/keras-rnn-semantics.md`` §3), for inputs ``x (B, T, F)``:

* The starting states are zeros, or ``initial_state`` (a list in the cell's
  state order: SimpleRNN/GRU ``[h]``, LSTM ``[h, c]``), or - for a stateful
  layer - the states left by the previous call.
* ``go_backwards``: ``x`` and the mask are reversed in time, and the outputs
  are returned in *processing* order (``outputs[:, 0]`` is the step that read
  ``x[:, T-1]``), not flipped back.
* Mask ``(B, T)`` bool, True = use the step. The cell is evaluated at every
  step; at a masked step every state is carried (``s_t = s_{t-1}``) and the
  output is the previous *emitted* output (0 before any step was emitted), or
  0 when ``zero_output_for_mask``. ``last_output`` is the emitted output of the
  final processed step.
* Keras quirk, TF backend with ``unroll=True`` and ``zero_output_for_mask``
  (tensorflow/rnn.py l.203-213): the outputs are computed with the carry rule
  and zeroed *afterwards* with the mask in original time order, while the
  outputs are in processing order. With ``go_backwards`` the zeros therefore
  land on the time-order masked positions of the processing-order sequence
  (``last_output`` is zeroed with the processing-order mask). The reference
  mirrors this; see the README's "Keras behaviours we mirror".
* The layer returns ``outputs (B, T, U)`` if ``return_sequences`` else
  ``last_output (B, U)``; with ``return_state`` the list ``[output, *states]``.
* The loop itself does not care what a state looks like: :func:`_drive` takes
  a per-sample ``state_shape`` (default ``(U,)``), so ConvLSTM states
  ``(B, *S, F)`` / ``(B, F, *S)`` and inputs ``(B, T, *step_shape)`` run
  through the same code; the ``(B, T)`` mask broadcasts over trailing axes.

Unlike Keras, :func:`run_sequence` also exposes every state at every step
(:class:`SequenceTrace`), which is what per-timestep comparison needs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from reference_cells.conventions import KERAS, Conventions
from reference_cells.gru import GRUCell
from reference_cells.layer_config import LayerOptions
from reference_cells.lstm import LSTMCell
from reference_cells.precision import Precision, arithmetic
from reference_cells.simple_rnn import SimpleRNNCell

CELLS = {"SimpleRNN": SimpleRNNCell, "LSTM": LSTMCell, "GRU": GRUCell}


@dataclass(frozen=True)
class SequenceTrace:
    """Everything the reference computed for one call.

    Attributes:
        outputs: ``(B, T, U)`` emitted output at each processed step (after
            masking), in the order the layer returns them.
        states: ``{name: (B, T, U)}`` every state after each processed step
            (``h``; and ``c`` for LSTM), in processing order.
        final_states: the states after the last step, cell order.
        last_output: ``(B, U)`` the emitted output of the final processed step.
        options: the parsed layer options used.
    """

    outputs: np.ndarray
    states: dict[str, np.ndarray]
    final_states: tuple[np.ndarray, ...]
    last_output: np.ndarray
    options: LayerOptions

    @property
    def carry(self) -> tuple[np.ndarray, ...]:
        """What a stateful layer carries into its next call (``carried_state``)."""
        return self.final_states

    def layer_return(self) -> np.ndarray | list[np.ndarray]:
        """Exactly what the Keras layer returns for this config."""
        opts = self.options
        out = self.outputs if opts.return_sequences else self.last_output
        if opts.return_state:
            return [out, *self.final_states]
        return out


def _validate_inputs(
    x: np.ndarray,
    mask: np.ndarray | None,
    initial_state: Sequence[np.ndarray] | None,
    units: int,
    n_states: int,
    state_shape: tuple[int, ...] | None = None,
) -> None:
    if state_shape is None:
        if x.ndim != 3:
            raise ValueError(f"x must have shape (batch, timesteps, features), got shape {x.shape}")
        state_shape = (units,)
    elif x.ndim < 3:
        raise ValueError(f"x must have shape (batch, timesteps, ...), got shape {x.shape}")
    batch, steps = x.shape[:2]
    if mask is not None and mask.shape != (batch, steps):
        raise ValueError(f"mask must have shape (batch, timesteps)={(batch, steps)}, got {mask.shape}")
    if initial_state is not None:
        if len(initial_state) != n_states:
            raise ValueError(f"initial_state must be a list of {n_states} arrays, got {len(initial_state)}")
        expected = (batch, *state_shape)
        for s in initial_state:
            if np.shape(s) != expected:
                raise ValueError(f"each initial state must have shape {expected}, got {np.shape(s)}")


def run_sequence(
    kind: str,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    config: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    conventions: Conventions = KERAS,
    dtype: np.dtype | type = np.float64,
    carried_state: Sequence[np.ndarray] | None = None,
) -> SequenceTrace:
    """Run a SimpleRNN/LSTM/GRU layer over ``x`` the way Keras 3 does.

    Args:
        kind: ``"SimpleRNN"``, ``"LSTM"`` or ``"GRU"``.
        x: ``(B, T, F)`` inputs.
        weights: as ``layer.get_weights()`` returns them.
        config: the layer config (``layer.get_config()``); missing keys take
            Keras defaults.
        mask: optional ``(B, T)`` bool, True = use the step.
        initial_state: optional list of ``(B, U)`` arrays in cell state order.
        conventions: how to run it; :data:`~reference_cells.conventions.KERAS`
            is Keras's behaviour, anything else simulates a port.
        dtype: compute dtype (float64 by default; float32 to measure round-off), or a
            :class:`~reference_cells.precision.Precision` to simulate reduced-precision arithmetic.
        carried_state: states left by a previous call of a stateful layer;
            used as they are, whatever ``conventions.initial_state`` says.
    """
    options = LayerOptions.from_config(kind, config)
    arith = arithmetic(dtype)
    dtype = arith.dtype
    cell = CELLS[kind](weights, options, conventions, arith)
    x = np.asarray(x, dtype=dtype)
    if not arith.native:  # reduced precision: the inputs and given states are stored in it too
        x, initial_state = _stored(arith, x, initial_state)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, timesteps, features), got shape {x.shape}")
    # The input side (x_t @ K ...) does not depend on the state: one matmul for all steps, then
    # the time loop runs the recurrence (each cell's docstring has the split).
    with np.errstate(over="ignore", invalid="ignore"):
        projected = cell.project(x)
    first_step = None
    if conventions.recurrent == "skip-first" and initial_state is None and carried_state is None:
        # The first step without its recurrent side (h0 = 0 there, so only the recurrent bias differs).
        skipping = dataclasses.replace(conventions, recurrent="dropped", gru_bias="drop-recurrent")
        first_step = CELLS[kind](weights, options, skipping, dtype).step_projected
    return _drive(
        cell.step_projected, cell.state_names, projected, options,
        mask=mask, initial_state=initial_state, conventions=conventions, dtype=dtype, carried_state=carried_state,
        first_step=first_step,
    )


StepFunction = Callable[[np.ndarray, Sequence[np.ndarray]], "tuple[np.ndarray, list[np.ndarray]]"]
#: ``(kind, weights, config) -> step``: someone else's cell maths for one cell of a layer (a
#: Bidirectional half, one cell of a stack), run inside the reference's own time loop.
StepFactory = Callable[[str, Sequence[np.ndarray], Mapping[str, Any]], StepFunction]


def run_sequence_with_step(
    kind: str,
    step: StepFunction,
    x: np.ndarray,
    config: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    carried_state: Sequence[np.ndarray] | None = None,
    dtype: np.dtype | type = np.float64,
    conventions: Conventions = KERAS,
) -> SequenceTrace:
    """Keras's time loop around someone else's one-step function.

    ``step(x_t (B, F), states) -> (output_t (B, U), new_states)``; the loop
    (initial state, go_backwards, masking, return values) is exactly
    :func:`run_sequence`'s, so only the step's maths are under test.
    ``conventions`` changes the loop only (its initial_state, time_direction
    and mask fields), to simulate a port's loop bug around a correct step.
    """
    options = LayerOptions.from_config(kind, config)
    names = {"LSTM": ("h", "c")}.get(kind, ("h",))
    arith = arithmetic(dtype)
    if not arith.native:
        x, initial_state = _stored(arith, np.asarray(x, dtype=arith.dtype), initial_state)
    return _drive(
        step, names, x, options,
        mask=mask, initial_state=initial_state, conventions=conventions, dtype=arith.dtype,
        carried_state=carried_state,
    )


def _stored(arith: Precision, x: np.ndarray, initial_state: Sequence[np.ndarray] | None,
            ) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """``x`` and the given initial states rounded to ``arith`` (what a port at that precision stores)."""
    states = None if initial_state is None else [arith.round(np.asarray(s, dtype=arith.dtype)) for s in initial_state]
    return arith.round(x), states


def _drive(
    step: StepFunction,
    state_names: Sequence[str],
    x: np.ndarray,
    options: LayerOptions,
    *,
    mask: np.ndarray | None,
    initial_state: Sequence[np.ndarray] | None,
    conventions: Conventions,
    dtype: np.dtype,
    carried_state: Sequence[np.ndarray] | None,
    state_shape: tuple[int, ...] | None = None,
    first_step: StepFunction | None = None,
) -> SequenceTrace:
    """The time loop itself (see the module docstring for the semantics).

    Shapes: ``x (B, T, *step_shape)``; each state and output ``(B, *state_shape)``,
    ``state_shape`` defaulting to ``(options.units,)`` (the dense cells, where
    ``x`` must be ``(B, T, F)``); traces ``(B, T, *state_shape)``. ``first_step``, if
    given, replaces ``step`` at t=0 (``Conventions(recurrent="skip-first")``).
    """
    x = np.asarray(x, dtype=dtype)
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    _validate_inputs(x, mask, initial_state, options.units, len(state_names), state_shape)
    batch, steps = x.shape[:2]
    state_shape = (options.units,) if state_shape is None else tuple(state_shape)

    # Starting states.
    if carried_state is not None and initial_state is None:
        states = [np.array(s, dtype=dtype) for s in carried_state]
    elif initial_state is not None and conventions.initial_state == "keras":
        states = [np.array(s, dtype=dtype) for s in initial_state]
    elif conventions.initial_state == "ones":
        states = [np.ones((batch, *state_shape), dtype) for _ in state_names]
    else:
        states = [np.zeros((batch, *state_shape), dtype) for _ in state_names]

    # A port that reads the batch-major buffers as time-major (conventions.time_major).
    if conventions.time_major != "keras":
        x = _as_time_major(x)
        mask = None if mask is None else _as_time_major(mask)

    # Time direction: Keras reverses inputs and mask, and keeps processing order.
    reverse = options.go_backwards and conventions.time_direction != "ignored"
    if reverse:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    if conventions.mask == "ignore":
        mask = None

    # Allocated from the first step's output (below); these shapes only serve T = 0.
    outputs = np.empty((batch, steps, *state_shape), dtype)
    state_trace = {name: np.empty((batch, steps, *state_shape), dtype) for name in state_names}
    prev_output = np.zeros((batch, *state_shape), dtype)
    zero_output = (options.zero_output_for_mask and conventions.mask != "carry") or conventions.mask == "zeros"
    # Keras TF unroll path: carry rule in the loop, zeros applied afterwards (see module doc).
    zero_after = zero_output and options.unroll and conventions.mask == "keras" and mask is not None
    if zero_after:
        zero_output = False
    lagged = conventions.recurrent == "lagged"
    older = list(states)  # the states before the previous step (h_{t-2}), for recurrent="lagged"
    for t in range(steps):
        # The recurrence fed from the wrong step: the cell reads h_{t-2} (the LSTM c stays c_{t-1}).
        fed = [older[0], *states[1:]] if lagged else states
        # Overflow is part of the behaviour under test (Keras overflows the same way), not a bug here.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out, new_states = (first_step if t == 0 and first_step is not None else step)(x[:, t], fed)
        if mask is not None:
            keep = _broadcastable(mask[:, t], np.ndim(out))  # (B, 1, ...): one flag per sample
            if conventions.mask == "jax-spatial" and np.ndim(out) > 2:
                # (B,) -> (1, ..., B, 1): broadcasts along the width axis (see conventions.py).
                keep = mask[:, t].reshape((1,) * (np.ndim(out) - 2) + (batch, 1))
            if zero_output:
                fallback = np.zeros_like(out)
            elif conventions.mask in ("state", "jax-spatial"):
                fallback = states[0]
            else:
                fallback = prev_output
            if conventions.mask == "blend":
                out = _blend(keep, out, fallback)
                new_states = [_blend(keep, new, old) for new, old in zip(new_states, states)]
            else:
                out = np.where(keep, out, fallback)
                new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        if t == 0:
            outputs = np.empty((batch, steps, *np.shape(out)[1:]), dtype)
            state_trace = {
                name: np.empty((batch, steps, *np.shape(s)[1:]), dtype) for name, s in zip(state_names, new_states)
            }
        outputs[:, t] = out
        for name, s in zip(state_names, new_states):
            state_trace[name][:, t] = s
        older = list(states)
        prev_output, states = out, new_states

    return _finish(outputs, state_trace, states, prev_output, options, mask=mask, conventions=conventions,
                   reverse=reverse, zero_after=zero_after)


def _finish(
    outputs: np.ndarray,
    state_trace: dict[str, np.ndarray],
    states: Sequence[np.ndarray],
    prev_output: np.ndarray,
    options: LayerOptions,
    *,
    mask: np.ndarray | None,
    conventions: Conventions,
    reverse: bool,
    zero_after: bool,
) -> SequenceTrace:
    """What the loop returns: ``last_output``, the unroll quirk's zeros, the time direction.

    ``mask`` is in processing order (reversed with ``go_backwards``); ``zero_after``
    marks the TF unroll path that zeroes outputs after the loop (see the module doc).
    """
    steps = outputs.shape[1]
    last_output = outputs[:, -1] if steps else prev_output
    if zero_after and steps:
        time_order_mask = mask[:, ::-1] if reverse else mask
        outputs = np.where(_broadcastable(time_order_mask, outputs.ndim), outputs, 0)
        last_output = np.where(_broadcastable(mask[:, -1], last_output.ndim), last_output, 0)
    if reverse and conventions.time_direction == "flipped":
        outputs = outputs[:, ::-1]
    if conventions.time_major == "both":
        outputs = _from_time_major(outputs)
    return SequenceTrace(
        outputs=outputs, states=state_trace, final_states=tuple(states), last_output=last_output, options=options
    )


def _as_time_major(a: np.ndarray) -> np.ndarray:
    """A batch-major ``(B, T, ...)`` array as a port reads it when it takes the buffer for
    ``(T, B, ...)`` (``a.reshape(T, B, ...)``, or indexing ``a[(t*B + b)*F + f]``), returned
    batch-major again (``[:, t]`` is what the port takes as step t of each sequence)."""
    batch, steps = a.shape[:2]
    return a.reshape((steps, batch) + a.shape[2:]).swapaxes(0, 1)


def _from_time_major(a: np.ndarray) -> np.ndarray:
    """Outputs ``(B, T, ...)`` written by such a port into a time-major buffer (``out[t, b]``)
    that the caller reads as batch-major (``reshape(B, T, ...)``)."""
    return a.swapaxes(0, 1).reshape(a.shape)


#: Largest finite float32: a float32 port overflows to inf beyond it.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _blend(keep: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """The mask applied as arithmetic, as a float32 port computes it:

        out = m * new + (1 - m) * old,   m = 1.0 where the step is used, else 0.0

    equal to the select ``where(m, new, old)`` while both branches are finite in float32;
    but ``0 * inf = NaN``, so where the *discarded* branch has overflowed float32 (|v| >
    float32 max, inf or NaN) the result is NaN. The reference runs in float64, where the
    same values may still be finite: an overflow is judged against the float32 range.
    """
    m = np.broadcast_to(keep, np.broadcast_shapes(np.shape(keep), np.shape(new))).astype(new.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = m * new + (1 - m) * old
        new_bad = ~(np.abs(new) <= _FLOAT32_MAX)  # True for inf and NaN
        old_bad = ~(np.abs(old) <= _FLOAT32_MAX)
    poisoned = np.where(m > 0, old_bad, new_bad)  # the discarded branch overflowed
    return np.where(poisoned, np.nan, out)


def _broadcastable(mask: np.ndarray, ndim: int) -> np.ndarray:
    """``mask`` (``(B,)`` or ``(B, T)``) with length-1 axes appended up to ``ndim``
    axes, so one flag per sample (and step) covers every trailing axis."""
    return mask.reshape(mask.shape + (1,) * (ndim - mask.ndim))


class StatefulSequence:
    """A stateful layer: successive calls continue from the previous call's
    final states (rnn.py l.383-384, 438-442); :meth:`reset_states` sets them to
    zeros (l.321-328). ``Conventions(state_carry="reset")`` simulates a port
    that forgets its state between calls.
    """

    def __init__(
        self,
        kind: str,
        weights: Sequence[np.ndarray],
        config: Mapping[str, Any],
        *,
        conventions: Conventions = KERAS,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        self.kind, self.weights, self.config = kind, list(weights), dict(config)
        self.conventions = conventions
        self.dtype = dtype if isinstance(dtype, Precision) else np.dtype(dtype)
        self.states: tuple[np.ndarray, ...] | None = None

    def reset_states(self) -> None:
        self.states = None

    def __call__(
        self, x: np.ndarray, *, mask: np.ndarray | None = None, initial_state: Sequence[np.ndarray] | None = None
    ) -> SequenceTrace:
        carried = self.states if self.conventions.state_carry == "keras" else None
        trace = self._run(x, mask=mask, initial_state=initial_state, carried_state=carried)
        self.states = trace.final_states
        return trace

    def _run(self, x: np.ndarray, *, mask, initial_state, carried_state) -> SequenceTrace:
        """One call of the layer (subclasses swap in another layer, e.g. ConvLSTM)."""
        return run_sequence(
            self.kind, x, self.weights, self.config, mask=mask, initial_state=initial_state,
            conventions=self.conventions, dtype=self.dtype, carried_state=carried_state,
        )
