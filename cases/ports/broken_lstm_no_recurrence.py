"""A NumPy LSTM port re-created from a bug class found in a public NumPy LSTM implementation.

The public layer kept one connected layer per gate for the input side and one
for the recurrent side, computed ``h`` at each step, and never wrote it back
into the array the next step read: the recurrent matmul always saw zeros, so
only its bias got through, while the cell state ``c`` was carried correctly.
Its own test against Keras printed the comparison and never asserted it. Loaded
with Keras weights, it also took the first kernel block as the forget gate and
the second as the input gate (Keras stores i, f, c, o).

Function port ``lstm(x, weights, config)``: tanh / sigmoid, with bias, forwards;
honours return_sequences and return_state.

Gets wrong: h_{t-1} never fed back (exact at t=0, O(0.1) from t=1) and the i/f
blocks swapped. Expected: mismatch, flags ``gate-order`` and ``recurrent-term``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm(x, weights, config):
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert config["use_bias"] and not config["go_backwards"]
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in weights)
    u = recurrent.shape[0]
    # BUG 1: blocks read as f, i, c, o (Keras: i, f, c, o).
    wf, wi, wg, wo = (kernel[:, k * u:(k + 1) * u] for k in range(4))
    rf, ri, rg, ro = (recurrent[:, k * u:(k + 1) * u] for k in range(4))
    bf, bi, bg, bo = (bias[k * u:(k + 1) * u] for k in range(4))
    batch, steps, _ = x.shape
    hidden = np.zeros((batch, steps, u))  # the per-step hidden states the recurrent side reads
    out = np.zeros((batch, steps, u))
    c = np.zeros((batch, u))
    for t in range(steps):
        h_prev = hidden[:, t - 1] if t > 0 else np.zeros((batch, u))
        x_t = x[:, t]
        f = _sigmoid(x_t @ wf + h_prev @ rf + bf)
        i = _sigmoid(x_t @ wi + h_prev @ ri + bi)
        g = np.tanh(x_t @ wg + h_prev @ rg + bg)
        o = _sigmoid(x_t @ wo + h_prev @ ro + bo)
        c = f * c + i * g
        h = o * np.tanh(c)
        out[:, t] = h  # BUG 2: stored as output only; `hidden` stays zeros
    h = out[:, -1]
    output = out if config["return_sequences"] else h
    output = output.astype(np.float32)
    return [output, h.astype(np.float32), c.astype(np.float32)] if config["return_state"] else output
