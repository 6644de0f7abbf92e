"""Seed 003: a stateful per-timestep GRU class with the update gate the wrong way round.

Re-creation of a user question: a GRU re-implemented for a streaming device
as an object that keeps its own hidden state and is fed one timestep at a
time, ``GRUStream(weights, config).forward_pass(x_t) -> h_t`` (the model is
``GRU(..., stateful=True, return_sequences=True)``). It reads the blocks
[z, r, h] correctly, uses the layer's ``recurrent_activation`` and
``activation`` by name, both ``reset_after`` modes and ``use_bias``, but
updates the state with the textbook (Cho et al. / PyTorch-doc-misread) form
``h = (1-z)*h + z*hh``; Keras uses ``h = z*h + (1-z)*hh``. O(1) error from
t=0 (with h0=0 it returns z*hh instead of (1-z)*hh) that persists.

Stepper port: ``--adapter stepper --method forward_pass``.

Gets wrong: the GRU update convention. Expected: mismatch, flag
``gru-update-convention``.
"""

import numpy as np

_ACTS = {
    "tanh": np.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0),
    "relu": lambda v: np.maximum(v, 0.0),
    "linear": lambda v: v,
    "softsign": lambda v: v / (1.0 + np.abs(v)),
}


class GRUStream:
    def __init__(self, weights, config):
        for key in ("activation", "recurrent_activation"):
            if config[key] not in _ACTS:
                raise NotImplementedError(f"{key} {config[key]!r}")
        self.act = _ACTS[config["activation"]]
        self.ract = _ACTS[config["recurrent_activation"]]
        self.W = weights[0].astype(np.float64)
        self.U = weights[1].astype(np.float64)
        self.units = self.U.shape[0]
        self.reset_after = config["reset_after"]
        self.b_x = np.zeros(3 * self.units)
        self.b_h = np.zeros(3 * self.units)
        if config["use_bias"]:
            b = weights[2].astype(np.float64)
            if self.reset_after:
                self.b_x, self.b_h = b[0], b[1]
            else:
                self.b_x = b
        self.h = None

    def reset_states(self):
        self.h = None

    def forward_pass(self, x_t):
        n = self.units
        if self.h is None:
            self.h = np.zeros((x_t.shape[0], n))
        h = self.h
        xz = x_t @ self.W + self.b_x
        if self.reset_after:
            hz = h @ self.U + self.b_h
            z = self.ract(xz[:, :n] + hz[:, :n])
            r = self.ract(xz[:, n:2 * n] + hz[:, n:2 * n])
            hh = self.act(xz[:, 2 * n:] + r * hz[:, 2 * n:])
        else:
            hz = h @ self.U[:, :2 * n]
            z = self.ract(xz[:, :n] + hz[:, :n])
            r = self.ract(xz[:, n:2 * n] + hz[:, n:2 * n])
            hh = self.act(xz[:, 2 * n:] + (r * h) @ self.U[:, 2 * n:])
        self.h = (1.0 - z) * h + z * hh  # BUG: Keras is z * h + (1 - z) * hh
        return self.h.astype(np.float32)
