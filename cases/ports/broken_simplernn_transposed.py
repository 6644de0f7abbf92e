"""A NumPy SimpleRNN port that uses the recurrent kernel transposed.

The author came from PyTorch, where ``weight_hh`` is ``(hidden, hidden)`` and
applied as ``h @ W_hh.T``, and kept the ``.T`` for Keras's
``recurrent_kernel``, which Keras applies as ``h @ R`` (input-major). With
h0 = 0 the error is exactly 0 at t=0 and O(1) from t=1. (Only visible with
more than one unit, so the case fixes units = 6.)

Function port ``simple_rnn(x, weights, config)``: tanh, with bias, forwards;
honours return_sequences and return_state.

Gets wrong: ``R.T`` instead of ``R``. Expected: mismatch, flag
``kernel-layout``.
"""

import numpy as np


def simple_rnn(x, weights, config):
    assert config["activation"] == "tanh" and config["use_bias"] and not config["go_backwards"]
    kernel, recurrent, bias = weights
    batch, steps, _ = x.shape
    h = np.zeros((batch, recurrent.shape[0]), np.float32)
    seq = []
    for t in range(steps):
        h = np.tanh(x[:, t] @ kernel + bias + h @ recurrent.T)  # BUG: Keras uses h @ recurrent
        seq.append(h)
    out = np.stack(seq, axis=1) if config["return_sequences"] else h
    return [out, h] if config["return_state"] else out
