"""A NumPy GRU port (reset_after=True) that drops the recurrent bias row.

Keras's default GRU (``reset_after=True``) stores its bias as ``(2, 3U)``:
row 0 is the input bias, row 1 the recurrent bias, which enters the gates
with ``h@R`` and sits inside ``r*(h@R_h + b_rec_h)`` for the candidate. This
port was written from a single-bias GRU description and uses only
``bias[0]``. The error is there from t=0 (the recurrent bias enters even when
h0 = 0) and persists.

Function port ``gru(x, weights, config)``: reset_after=True with bias only,
tanh / sigmoid, forwards; honours return_sequences and return_state.

Gets wrong: ``bias[1]`` is dropped. Expected: mismatch, flag
``gru-reset-after``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru(x, weights, config):
    assert config["reset_after"] and config["use_bias"] and not config["go_backwards"]
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    kernel, recurrent, bias = weights
    n = recurrent.shape[0]
    b = bias[0]  # BUG: bias[1] (the recurrent bias) is never used
    batch, steps, _ = x.shape
    h = np.zeros((batch, n), np.float32)
    seq = []
    for t in range(steps):
        xw = x[:, t] @ kernel + b
        hu = h @ recurrent
        z = _sigmoid(xw[:, :n] + hu[:, :n])
        r = _sigmoid(xw[:, n:2 * n] + hu[:, n:2 * n])
        hh = np.tanh(xw[:, 2 * n:] + r * hu[:, 2 * n:])
        h = z * h + (1 - z) * hh
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h] if config["return_state"] else out
