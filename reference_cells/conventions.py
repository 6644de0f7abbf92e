"""The explicit set of conventions a recurrent-layer implementation chooses.

Keras's behaviour is one value of this set (:data:`KERAS`). A port bug is just
another value: "reads the fused LSTM kernel as i,f,o,c" is
``Conventions(gate_order="ifoc")``, "GRU update written h=(1-z)h+z*hh" is
``Conventions(gru_update="swapped")``. The reference cells take a
``Conventions`` and follow it, so the diagnosis searches this space instead of
keeping a second, hand-written copy of each bug.

Every field defaults to ``"keras"`` (or the neutral value) meaning "do what the
installed Keras 3 does"; see ``../shared/keras-rnn-semantics.md`` §1-§3.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

#: Keras LSTM gate blocks along the last axis of kernel/recurrent_kernel/bias:
#: input, forget, cell candidate, output (keras/src/layers/rnn/lstm.py l.197).
LSTM_GATE_ORDER = "ifco"
#: Keras GRU gate blocks: update z, reset r, candidate h (gru.py l.207-211).
GRU_GATE_ORDER = "zrh"

_CHOICES: Mapping[str, tuple[str, ...]] = {
    # Where the starting state comes from.
    #   keras: zeros, or the ``initial_state`` passed in.
    #   ones:  a state of ones (seed 001).
    #   zeros: zeros even when ``initial_state`` is passed (given state ignored).
    "initial_state": ("keras", "ones", "zeros"),
    # GRU state update.
    #   keras:   h = z*h_prev + (1-z)*hh        (gru.py l.296)
    #   swapped: h = (1-z)*h_prev + z*hh        (seed 003, some textbooks)
    "gru_update": ("keras", "swapped"),
    # GRU reset placement: keras follows the layer's reset_after; before/after force one.
    "gru_reset": ("keras", "before", "after"),
    # GRU bias rows when the layer has (2, 3U) biases (reset_after=True).
    #   keras:          row 0 on the input side, row 1 inside r*(h@R + b_rec);
    #                   with reset placement "before" both rows are summed on the input side.
    #   drop-recurrent: row 1 ignored.
    #   input-side:     both rows added on the input side, outside r*(...).
    "gru_bias": ("keras", "drop-recurrent", "input-side"),
    # Bias use: keras as stored, none (dropped), double (counted twice, e.g. b_ih=b_hh=b).
    "bias": ("keras", "none", "double"),
    # Kernel layout: keras (input-major, x@K), recurrent-transposed (each gate's R_g read as R_g.T).
    "kernel_layout": ("keras", "recurrent-transposed"),
    # go_backwards handling.
    #   keras:   input reversed, outputs returned in processing order (rnn.py, tf rnn l.249).
    #   flipped: outputs flipped back into time order (ONNX/PyTorch reverse convention).
    #   ignored: go_backwards not applied at all.
    "time_direction": ("keras", "flipped", "ignored"),
    # Masked steps.
    #   keras:  states carried; output = previous emitted output (0 before any), or 0 with
    #           zero_output_for_mask (TF backend generic loop, tensorflow/rnn.py).
    #   ignore: mask not applied at all.
    #   zeros:  output 0 at masked steps regardless of zero_output_for_mask.
    #   state:  output = states[0] of t-1 (JAX/numpy lax.scan rule; differs only before
    #           the first valid step with a non-zero h0).
    #   jax-spatial: the JAX lax.scan rule for a spatial state (ConvLSTM, B, *S, F): the
    #           per-step mask (B, 1) broadcasts against the state's last two axes, so width
    #           position w of every sample follows sample w's mask (Keras JAX backend,
    #           jax/rnn.py l.154-176; it runs only when width == batch, else Keras fails).
    #   carry:  output = previous emitted output at masked steps even when the layer has
    #           zero_output_for_mask=True (a port that only knows the default rule).
    #   blend:  the mask applied as arithmetic, out = m*new + (1-m)*old in float32 (ONNX /
    #           converter lowering of the select): an overflow (inf/NaN) in the discarded
    #           branch turns into NaN (0*inf), see sequence._blend.
    "mask": ("keras", "ignore", "zeros", "state", "jax-spatial", "carry", "blend"),
    # Stateful layers: keras carries final states into the next call; reset restarts each call.
    "state_carry": ("keras", "reset"),
    # The recurrence: what the cell reads as h_{t-1}.
    #   keras:   the hidden state of the previous processed step.
    #   dropped: never fed back: h_{t-1} @ R computed with h_{t-1} = 0 (the recurrent bias, the LSTM
    #            cell state and the GRU interpolation z*h_{t-1} stay), e.g. a loop that computes h
    #            but never writes it back into the array it reads from.
    #   lagged:  fed from the wrong step: the cell reads h_{t-2} wherever it reads h_{t-1} (an
    #            off-by-one in a history array; h0 at the first two steps; the LSTM c is right).
    #   skip-first: the recurrent side (h @ R and the recurrent bias) skipped at the first step of a
    #            call that starts from zeros (a fast path for "no initial state"): visible only where a
    #            recurrent bias exists (GRU reset_after=True), at t=0, then decaying. Seen in mlx's
    #            nn.GRU (ml-explore/mlx#3249). The first step runs with recurrent="dropped" and
    #            gru_bias="drop-recurrent" (run_sequence; other loops do not simulate it).
    "recurrent": ("keras", "dropped", "lagged", "skip-first"),
    # Batch-major input read as time-major (a reshape instead of a transpose, or time-major
    # indexing of the flat (B, T, ...) buffer): every (B, T, ...) array is reinterpreted as
    # (T, B, ...) - a no-op when B == 1 or T == 1.
    #   keras:   x[:, t] is step t.
    #   both:    the input and the mask are read time-major, and the output sequence is written
    #            time-major into a buffer the caller reads batch-major (reshape both ways).
    #   input:   the input and the mask are read time-major; the outputs are returned batch-major.
    "time_major": ("keras", "both", "input"),
}

@dataclass(frozen=True)
class Conventions:
    """How an implementation reads the weights and runs the time loop.

    Attributes:
        gate_order: The order in which the implementation reads the fused
            kernel's gate blocks, e.g. ``"ifoc"`` for an LSTM port that takes
            block 2 as the output gate. ``None`` means the cell's Keras order
            (:data:`LSTM_GATE_ORDER`, :data:`GRU_GATE_ORDER`).
        activation: Overrides the layer's ``activation`` (``None``: as configured).
        recurrent_activation: Overrides ``recurrent_activation`` (``None``: as configured).
        forget_bias: Added to the LSTM forget-gate bias at every step (``1.0``
            reproduces a port that re-applies ``unit_forget_bias`` at inference).
        initial_state, gru_update, gru_reset, gru_bias, bias, kernel_layout,
        time_direction, mask, state_carry, recurrent, time_major: see the choices documented in
            ``_CHOICES`` in this module; ``"keras"`` is Keras 3's behaviour.
    """

    gate_order: str | None = None
    activation: str | None = None
    recurrent_activation: str | None = None
    forget_bias: float = 0.0
    initial_state: str = "keras"
    gru_update: str = "keras"
    gru_reset: str = "keras"
    gru_bias: str = "keras"
    bias: str = "keras"
    kernel_layout: str = "keras"
    time_direction: str = "keras"
    mask: str = "keras"
    state_carry: str = "keras"
    recurrent: str = "keras"
    time_major: str = "keras"

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(
                    f"Conventions.{name}={value!r} is not one of {', '.join(allowed)}"
                )
        if self.gate_order is not None:
            order = self.gate_order
            if sorted(order) not in (sorted(LSTM_GATE_ORDER), sorted(GRU_GATE_ORDER)):
                raise ValueError(
                    f"Conventions.gate_order={order!r} must be a permutation of "
                    f"{LSTM_GATE_ORDER!r} (LSTM) or {GRU_GATE_ORDER!r} (GRU)"
                )

    def differences(self) -> dict[str, Any]:
        """The fields that differ from Keras's behaviour, as ``{field: value}``."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        }

    def is_keras(self) -> bool:
        return not self.differences()

    def to_dict(self) -> dict[str, Any]:
        return self.differences()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Conventions":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown convention field(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def describe(self) -> str:
        diff = self.differences()
        if not diff:
            return "keras"
        return ", ".join(f"{k}={v}" for k, v in diff.items())


def choices(field: str) -> tuple[str, ...]:
    """The allowed values of a string-valued convention field."""
    return _CHOICES[field]


#: Keras 3's own behaviour.
KERAS = Conventions()


def gate_blocks(order: str | None, keras_order: str) -> dict[str, int]:
    """Map each gate name to the block index the implementation reads it from.

    ``order`` is how the implementation names the blocks in storage order: with
    ``order="ifoc"`` block 2 is read as ``o``, so ``o -> 2`` and ``c -> 3``.
    """
    order = keras_order if order is None else order
    if sorted(order) != sorted(keras_order):
        raise ValueError(
            f"gate_order={order!r} is not a permutation of this cell's gates {keras_order!r}"
        )
    return {gate: order.index(gate) for gate in keras_order}
