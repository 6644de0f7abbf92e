"""A NumPy LSTM port that accepts a mask and ignores it.

The port's signature takes ``mask`` (so it looks mask-aware to its callers),
but the time loop never reads it: padded steps update h and c like any other
step. The error is exactly 0 before the first padded step and O(1) after; the
final states are wrong for padded rows.

Function port ``lstm(x, weights, config, mask=None, initial_state=None)``:
tanh / hard_sigmoid (Keras 3), use_bias, go_backwards, initial_state all
right; honours return_sequences and return_state.

Gets wrong: the mask is ignored. Expected: mismatch, flag ``masking`` (the
case fixes ``mask: "mixed"`` so every example has padding).
"""

import numpy as np


def _hard_sigmoid(v):
    return np.clip(v / 6.0 + 0.5, 0.0, 1.0)


def lstm(x, weights, config, mask=None, initial_state=None):
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "hard_sigmoid"
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if config["use_bias"] else 0.0
    n = recurrent.shape[0]
    batch, steps, _ = x.shape
    if initial_state is None:
        h, c = np.zeros((batch, n)), np.zeros((batch, n))
    else:
        h, c = (s.astype(np.float64) for s in initial_state)
    del mask  # BUG: accepted, never used
    if config["go_backwards"]:
        x = x[:, ::-1]
    seq = []
    for t in range(steps):
        g = x[:, t] @ kernel + h @ recurrent + bias
        i, f = _hard_sigmoid(g[:, :n]), _hard_sigmoid(g[:, n:2 * n])
        cc, o = np.tanh(g[:, 2 * n:3 * n]), _hard_sigmoid(g[:, 3 * n:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h, c] if config["return_state"] else out
