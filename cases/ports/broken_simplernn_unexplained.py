"""A NumPy SimpleRNN port with a bug outside the catalogue.

A debugging leftover adds ``1e-3 * t`` to the pre-activation at step ``t``
(a "time encoding" experiment nobody removed). No named convention (gate
order, activation, initial state, bias, kernel layout, time direction,
masking), single or paired, reproduces it: the harness should say so rather
than force a wrong name onto it.

Function port ``simple_rnn(x, weights, config)``: tanh, use_bias,
go_backwards; honours return_sequences and return_state.

Gets wrong: an extra ``1e-3 * t`` term. Expected: mismatch, flag
``unexplained``.
"""

import numpy as np


def simple_rnn(x, weights, config):
    assert config["activation"] == "tanh"
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if config["use_bias"] else 0.0
    batch, steps, _ = x.shape
    if config["go_backwards"]:
        x = x[:, ::-1]
    h = np.zeros((batch, recurrent.shape[0]))
    seq = []
    for t in range(steps):
        h = np.tanh(x[:, t] @ kernel + bias + h @ recurrent + 1e-3 * t)  # BUG: + 1e-3 * t
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h] if config["return_state"] else out
