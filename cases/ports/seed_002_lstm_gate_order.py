"""Seed 002: a NumPy LSTM port that slices the fused gate blocks in ONNX order.

Re-creation of a user question: the author had written an ONNX LSTM importer
before and sliced Keras's fused kernel, recurrent kernel and bias as
``i, o, f, c`` (ONNX's ``iofc`` layout). Keras stores the blocks as
``i, f, c, o``. The error is O(1) from t=0 and persists.

Function port ``lstm(x, weights, config)``: tanh / sigmoid only, with bias,
forwards only; honours return_sequences and return_state.

Gets wrong: the gate order. Expected: mismatch, flag ``gate-order``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm(x, weights, config):
    if config["activation"] != "tanh" or config["recurrent_activation"] != "sigmoid":
        raise NotImplementedError("this port only knows tanh / sigmoid")
    if config["go_backwards"] or not config["use_bias"]:
        raise NotImplementedError("this port needs use_bias=True, go_backwards=False")
    W, R, b = (w.astype(np.float32) for w in weights)
    n = R.shape[0]
    batch, steps, _ = x.shape
    h = np.zeros((batch, n), np.float32)
    c = np.zeros((batch, n), np.float32)
    seq = []
    for t in range(steps):
        gates = x[:, t] @ W + h @ R + b
        # BUG: ONNX order i, o, f, c; Keras is i, f, c, o
        i = _sigmoid(gates[:, 0 * n:1 * n])
        o = _sigmoid(gates[:, 1 * n:2 * n])
        f = _sigmoid(gates[:, 2 * n:3 * n])
        g = np.tanh(gates[:, 3 * n:4 * n])
        c = f * c + i * g
        h = o * np.tanh(c)
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h, c] if config["return_state"] else out
