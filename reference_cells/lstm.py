"""LSTM cell: one step of ``keras.layers.LSTMCell`` (implementation 2).

Equations (keras/src/layers/rnn/lstm.py l.277-287, ``_compute_carry_and_output_fused``)::

    z   = (x_t @ K + h_{t-1} @ R) + b          # (B, 4U), blocks [i, f, c, o]
    i   = ract(z_i)
    f   = ract(z_f)
    c_t = f * c_{t-1} + i * act(z_c)
    o   = ract(z_o)
    h_t = o * act(c_t)

Shapes: ``x_t (B, F)``; ``h, c (B, U)``; ``K (F, 4U)``, ``R (U, 4U)``,
``b (4U,)`` (one bias; ``unit_forget_bias`` only initialises it). The output
is ``h_t``; the states are ``[h_t, c_t]`` in that order.

The input side ``x_t @ K`` does not depend on the state, so
:meth:`LSTMCell.project` computes it for every timestep in one matmul
(``(B, T, F) -> (B, T, 4U)``) and :meth:`LSTMCell.step_projected` is the
recurrence (the sums keep Keras's order: ``(x_t @ K + h @ R) + b``);
:meth:`LSTMCell.step` is the two together for one step.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from reference_cells import activations
from reference_cells.conventions import LSTM_GATE_ORDER, Conventions
from reference_cells.gates import bias_scale, recurrent_blocks, split_gates
from reference_cells.layer_config import LayerOptions
from reference_cells.precision import Precision, arithmetic

GATE_ORDER = LSTM_GATE_ORDER
STATE_NAMES = ("h", "c")


class LSTMCell:
    """One LSTM step with weights fixed at construction."""

    kind = "LSTM"
    state_names = STATE_NAMES

    def __init__(
        self, weights: Sequence[np.ndarray], options: LayerOptions, conventions: Conventions,
        dtype: np.dtype | Precision,
    ) -> None:
        arith = arithmetic(dtype)
        dtype, q = arith.dtype, arith.round  # q: rounding after each operation (identity when native)
        self.q = q
        expected = 3 if options.use_bias else 2
        if len(weights) != expected:
            raise ValueError(f"LSTM expects {expected} weight arrays, got {len(weights)}")
        u = self.units = options.units
        split = dict(units=u, keras_order=GATE_ORDER, conventions=conventions)
        kernel = split_gates(q(np.asarray(weights[0], dtype=dtype)), **split)
        recurrent = recurrent_blocks(q(np.asarray(weights[1], dtype=dtype)), **split)
        bias_fused = q(np.asarray(weights[2], dtype=dtype)) if options.use_bias else np.zeros(4 * u, dtype)
        bias = split_gates(q(bias_fused * dtype.type(bias_scale(conventions))), **split)
        bias["f"] = q(bias["f"] + dtype.type(conventions.forget_bias))
        # Re-fuse in Keras order so one matmul serves all gates, as Keras does.
        self.kernel = np.concatenate([kernel[g] for g in GATE_ORDER], axis=-1)  # (F, 4U)
        self.recurrent_kernel = np.concatenate([recurrent[g] for g in GATE_ORDER], axis=-1)  # (U, 4U)
        self.bias = np.concatenate([bias[g] for g in GATE_ORDER])  # (4U,)
        self.act = activations.get(conventions.activation or options.activation)
        self.ract = activations.get(conventions.recurrent_activation or options.recurrent_activation)
        self.feedback = conventions.recurrent != "dropped"  # False: h_{t-1} never fed back (read as 0)

    def project(self, x: np.ndarray) -> np.ndarray:
        """The input side ``x @ K``: ``(..., F) -> (..., 4U)`` (one step or all of them)."""
        return self.q(x @ self.kernel)

    def step(self, x_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.step_projected(self.project(x_t), states)

    def step_projected(self, xk_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One step from ``xk_t = x_t @ K`` (:meth:`project`)."""
        h_prev, c_prev = states
        u = self.units
        q = self.q
        h_in = h_prev if self.feedback else np.zeros_like(h_prev)
        z = q(xk_t + q(h_in @ self.recurrent_kernel))
        z = q(z + self.bias)
        z_i, z_f, z_c, z_o = (z[..., k * u : (k + 1) * u] for k in range(4))
        i = q(self.ract(z_i))
        f = q(self.ract(z_f))
        c = q(q(f * c_prev) + q(i * q(self.act(z_c))))
        o = q(self.ract(z_o))
        h = q(o * q(self.act(c)))
        return h, [h, c]
