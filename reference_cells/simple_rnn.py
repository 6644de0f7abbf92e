"""SimpleRNN cell: one step of ``keras.layers.SimpleRNNCell``.

Equation (keras/src/layers/rnn/simple_rnn.py l.161-169)::

    h_t = act((x_t @ K + b) + h_{t-1} @ R)

Shapes: ``x_t (B, F)``, ``h (B, U)``; weights as ``layer.get_weights()``
returns them: ``K (F, U)``, ``R (U, U)``, ``b (U,)`` (absent when
``use_bias=False``). Output and the single state are both ``h_t``.

The input side ``x_t @ K + b`` does not depend on the state, so
:meth:`SimpleRNNCell.project` computes it for every timestep in one matmul
(``(B, T, F) -> (B, T, U)``) and :meth:`SimpleRNNCell.step_projected` is the
recurrence; :meth:`SimpleRNNCell.step` is the two together for one step.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from reference_cells import activations
from reference_cells.conventions import Conventions
from reference_cells.gates import bias_scale
from reference_cells.layer_config import LayerOptions
from reference_cells.precision import Precision, arithmetic

STATE_NAMES = ("h",)


class SimpleRNNCell:
    """One SimpleRNN step with weights fixed at construction."""

    kind = "SimpleRNN"
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
            raise ValueError(f"SimpleRNN expects {expected} weight arrays [kernel, recurrent_kernel{', bias' if options.use_bias else ''}], got {len(weights)}")
        self.units = options.units
        self.kernel = q(np.asarray(weights[0], dtype=dtype))  # (F, U)
        recurrent = q(np.asarray(weights[1], dtype=dtype))  # (U, U)
        self.recurrent_kernel = recurrent.T if conventions.kernel_layout == "recurrent-transposed" else recurrent
        bias = q(np.asarray(weights[2], dtype=dtype)) if options.use_bias else np.zeros(self.units, dtype)
        self.bias = q(bias * dtype.type(bias_scale(conventions)))  # (U,)
        self.act = activations.get(conventions.activation or options.activation)
        self.feedback = conventions.recurrent != "dropped"  # False: h_{t-1} never fed back (read as 0)

    def project(self, x: np.ndarray) -> np.ndarray:
        """The input side ``x @ K + b``: ``(..., F) -> (..., U)`` (one step or all of them)."""
        q = self.q
        return q(q(x @ self.kernel) + self.bias)

    def step_projected(self, xk_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """``h_t = act(xk_t + h_{t-1} @ R)`` with ``xk_t = x_t @ K + b`` from :meth:`project`."""
        (h_prev,) = states
        q = self.q
        h_in = h_prev if self.feedback else np.zeros_like(h_prev)
        h = q(self.act(q(xk_t + q(h_in @ self.recurrent_kernel))))
        return h, [h]

    def step(self, x_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.step_projected(self.project(x_t), states)
