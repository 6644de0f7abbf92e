"""A NumPy LSTM port with two bugs: gate order i,f,o,c and sigmoid gates.

The layer has ``recurrent_activation="hard_sigmoid"`` (Keras 3:
``clip(x/6 + 0.5, 0, 1)``). This port (1) slices the fused blocks as
``i, f, o, c`` (Keras stores ``i, f, c, o``) and (2) uses the textbook
sigmoid for the gates. Neither fix alone makes it agree; both together do.

Function port ``lstm(x, weights, config)``: tanh, with bias, forwards;
honours return_sequences and return_state.

Gets wrong: gate order and gate activation. Expected: mismatch, flags
``activation`` and ``gate-order``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))  # BUG 2: the layer uses hard_sigmoid


def lstm(x, weights, config):
    assert config["activation"] == "tanh" and config["use_bias"] and not config["go_backwards"]
    kernel, recurrent, bias = weights
    n = recurrent.shape[0]
    batch, steps, _ = x.shape
    h = np.zeros((batch, n), np.float32)
    c = np.zeros((batch, n), np.float32)
    seq = []
    for t in range(steps):
        g = x[:, t] @ kernel + h @ recurrent + bias
        # BUG 1: blocks read as i, f, o, c; Keras stores i, f, c, o
        i, f = _sigmoid(g[:, :n]), _sigmoid(g[:, n:2 * n])
        o, cc = _sigmoid(g[:, 2 * n:3 * n]), np.tanh(g[:, 3 * n:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h, c] if config["return_state"] else out
