"""GRU cell: one step of ``keras.layers.GRUCell`` (implementation 2).

Equations (keras/src/layers/rnn/gru.py l.261-296); blocks are [z, r, h]::

    mx = x_t @ K + b_in                              # (B, 3U)
    reset_after=True  (default; bias (2, 3U): b_in = bias[0], b_rec = bias[1]):
        mh = h_{t-1} @ R + b_rec                     # (B, 3U)
        z  = ract(mx_z + mh_z);  r = ract(mx_r + mh_r)
        hh = act(mx_h + r * mh_h)                    # reset applied AFTER the matmul
    reset_after=False (bias (3U,) = b_in, no recurrent bias):
        mh = h_{t-1} @ R[:, :2U]
        z  = ract(mx_z + mh_z);  r = ract(mx_r + mh_r)
        hh = act(mx_h + (r * h_{t-1}) @ R_h)         # reset applied BEFORE the matmul
    h_t = z * h_{t-1} + (1 - z) * hh

Shapes: ``x_t (B, F)``, ``h (B, U)``, ``K (F, 3U)``, ``R (U, 3U)``. Output and
the single state are ``h_t``.

The input side ``mx`` does not depend on the state, so :meth:`GRUCell.project`
computes it for every timestep in one matmul (``(B, T, F) -> (B, T, 3U)``) and
:meth:`GRUCell.step_projected` is the recurrence; :meth:`GRUCell.step` is the
two together for one step.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from reference_cells import activations
from reference_cells.conventions import GRU_GATE_ORDER, Conventions
from reference_cells.gates import bias_scale, recurrent_blocks, split_gates
from reference_cells.layer_config import LayerOptions
from reference_cells.precision import Precision, arithmetic

GATE_ORDER = GRU_GATE_ORDER
STATE_NAMES = ("h",)


class GRUCell:
    """One GRU step with weights fixed at construction."""

    kind = "GRU"
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
            raise ValueError(f"GRU expects {expected} weight arrays, got {len(weights)}")
        u = self.units = options.units
        split = dict(units=u, keras_order=GATE_ORDER, conventions=conventions)
        kernel = split_gates(q(np.asarray(weights[0], dtype=dtype)), **split)
        recurrent = recurrent_blocks(q(np.asarray(weights[1], dtype=dtype)), **split)

        # Bias rows as stored: (2, 3U) with reset_after=True, (3U,) otherwise.
        scale = dtype.type(bias_scale(conventions))
        if options.use_bias:
            stored = q(q(np.asarray(weights[2], dtype=dtype)) * scale)
            if options.reset_after:
                if stored.shape != (2, 3 * u):
                    raise ValueError(f"GRU(reset_after=True) bias must have shape (2, {3 * u}), got {stored.shape}")
                b_in, b_rec = stored[0], stored[1]
            else:
                if stored.shape != (3 * u,):
                    raise ValueError(f"GRU(reset_after=False) bias must have shape ({3 * u},), got {stored.shape}")
                b_in, b_rec = stored, np.zeros(3 * u, dtype)
        else:
            b_in = b_rec = np.zeros(3 * u, dtype)

        reset_after = {"keras": options.reset_after, "before": False, "after": True}[conventions.gru_reset]
        # Where the recurrent bias row goes (see Conventions.gru_bias).
        if conventions.gru_bias == "drop-recurrent":
            b_rec = np.zeros_like(b_rec)
        elif conventions.gru_bias == "input-side" or not reset_after:
            # Reset-before has no place for a recurrent bias: it is summed on the input side.
            b_in, b_rec = q(b_in + b_rec), np.zeros_like(b_rec)

        self.reset_after = reset_after
        self.kernel = np.concatenate([kernel[g] for g in GATE_ORDER], axis=-1)  # (F, 3U)
        self.recurrent_kernel = np.concatenate([recurrent[g] for g in GATE_ORDER], axis=-1)  # (U, 3U)
        self.input_bias = np.concatenate([split_gates(b_in, **split)[g] for g in GATE_ORDER])  # (3U,)
        self.recurrent_bias = np.concatenate([split_gates(b_rec, **split)[g] for g in GATE_ORDER])  # (3U,)
        self.swapped_update = conventions.gru_update == "swapped"
        self.act = activations.get(conventions.activation or options.activation)
        self.ract = activations.get(conventions.recurrent_activation or options.recurrent_activation)
        self.feedback = conventions.recurrent != "dropped"  # False: h_{t-1} never fed back (read as 0)

    def project(self, x: np.ndarray) -> np.ndarray:
        """The input side ``mx = x @ K + b_in``: ``(..., F) -> (..., 3U)`` (one step or all of them)."""
        q = self.q
        return q(q(x @ self.kernel) + self.input_bias)

    def step(self, x_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.step_projected(self.project(x_t), states)

    def step_projected(self, mx: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One step from ``mx = x_t @ K + b_in`` (:meth:`project`)."""
        (h_prev,) = states
        u, q = self.units, self.q
        # The matmul input; the update z*h_prev below still reads the real h_{t-1}.
        h_in = h_prev if self.feedback else np.zeros_like(h_prev)
        mx_z, mx_r, mx_h = mx[..., :u], mx[..., u : 2 * u], mx[..., 2 * u :]
        if self.reset_after:
            mh = q(q(h_in @ self.recurrent_kernel) + self.recurrent_bias)
            mh_z, mh_r, mh_h = mh[..., :u], mh[..., u : 2 * u], mh[..., 2 * u :]
            z = q(self.ract(q(mx_z + mh_z)))
            r = q(self.ract(q(mx_r + mh_r)))
            hh = q(self.act(q(mx_h + q(r * mh_h))))
        else:
            mh = q(h_in @ self.recurrent_kernel[..., : 2 * u])
            mh_z, mh_r = mh[..., :u], mh[..., u:]
            z = q(self.ract(q(mx_z + mh_z)))
            r = q(self.ract(q(mx_r + mh_r)))
            hh = q(self.act(q(mx_h + q(q(r * h_in) @ self.recurrent_kernel[..., 2 * u :]))))
        if self.swapped_update:
            h = q(q(q(1 - z) * h_prev) + q(z * hh))
        else:
            h = q(q(z * h_prev) + q(q(1 - z) * hh))
        return h, [h]
