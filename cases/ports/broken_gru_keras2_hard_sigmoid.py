"""A NumPy GRU port that uses Keras 2's hard_sigmoid for a Keras 3 layer.

The layer has ``recurrent_activation="hard_sigmoid"``. Keras 3 defines it as
``clip(x/6 + 0.5, 0, 1)`` (knees at |x| = 3); this port copied Keras 2's
``clip(0.2*x + 0.5, 0, 1)`` (knees at |x| = 2.5). Close near 0, ~1e-2 error
from t=0 that stays.

Function port ``gru(x, weights, config, mask=None, initial_state=None)``:
tanh candidate, both reset_after modes, use_bias, go_backwards, masks and
initial_state all right; honours return_sequences and return_state.

Gets wrong: the hard_sigmoid formula. Expected: mismatch, flag
``activation``.
"""

import numpy as np


def hard_sigmoid(v):
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)  # BUG: Keras 2; Keras 3 is v / 6 + 0.5


def gru(x, weights, config, mask=None, initial_state=None):
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "hard_sigmoid"
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    n = recurrent.shape[0]
    b_in, b_rec = np.zeros(3 * n), np.zeros(3 * n)
    if config["use_bias"]:
        if config["reset_after"]:
            b_in, b_rec = weights[2][0].astype(np.float64), weights[2][1].astype(np.float64)
        else:
            b_in = weights[2].astype(np.float64)
    batch, steps, _ = x.shape
    h = np.zeros((batch, n)) if initial_state is None else initial_state[0].astype(np.float64)
    if mask is None:
        mask = np.ones((batch, steps), bool)
    if config["go_backwards"]:
        x, mask = x[:, ::-1], mask[:, ::-1]
    prev = np.zeros((batch, n))
    seq = []
    for t in range(steps):
        mx = x[:, t] @ kernel + b_in
        if config["reset_after"]:
            mh = h @ recurrent + b_rec
            z, r = hard_sigmoid(mx[:, :n] + mh[:, :n]), hard_sigmoid(mx[:, n:2 * n] + mh[:, n:2 * n])
            hh = np.tanh(mx[:, 2 * n:] + r * mh[:, 2 * n:])
        else:
            mh = h @ recurrent[:, :2 * n]
            z, r = hard_sigmoid(mx[:, :n] + mh[:, :n]), hard_sigmoid(mx[:, n:2 * n] + mh[:, n:2 * n])
            hh = np.tanh(mx[:, 2 * n:] + (r * h) @ recurrent[:, 2 * n:])
        h_new = z * h + (1 - z) * hh
        keep = mask[:, t][:, None]
        out = np.where(keep, h_new, 0.0 if config["zero_output_for_mask"] else prev)
        h = np.where(keep, h_new, h)
        seq.append(out)
        prev = out
    sequence = np.stack(seq, axis=1)
    out = sequence if config["return_sequences"] else sequence[:, -1]
    return [out, h] if config["return_state"] else out
