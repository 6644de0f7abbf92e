"""A NumPy GRU port whose recurrence reads the hidden state of the wrong step.

It keeps every hidden state in a history array ``hs`` of T + 1 rows, ``hs[0]``
the initial state and ``hs[t + 1]`` the state after step t, and reads
``hs[t - 1]`` at step t where ``hs[t]`` belongs: an off-by-one that feeds
h_{t-2} back (h0 at the first two steps, ``hs[-1]`` is still zero). Right at
t=0 and t=1 with h0 = 0, off from t=2, never decaying.

Function port ``gru(x, weights, config)``: tanh / sigmoid, reset_after=True
with both bias rows, forwards; honours return_sequences and return_state.

Gets wrong: h_{t-2} fed back. Expected: mismatch, flag ``recurrent-term``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru(x, weights, config):
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    assert config["use_bias"] and config["reset_after"] and not config["go_backwards"]
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in weights)
    u = recurrent.shape[0]
    batch, steps, _ = x.shape
    hs = np.zeros((steps + 1, batch, u))
    for t in range(steps):
        h_prev = hs[t - 1]  # BUG: hs[t] is h_{t-1}; hs[t - 1] is h_{t-2}
        mx = x[:, t] @ kernel + bias[0]
        mh = h_prev @ recurrent + bias[1]
        z = _sigmoid(mx[:, :u] + mh[:, :u])
        r = _sigmoid(mx[:, u:2 * u] + mh[:, u:2 * u])
        hh = np.tanh(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        hs[t + 1] = z * h_prev + (1 - z) * hh
    seq = hs[1:].transpose(1, 0, 2).astype(np.float32)
    out = seq if config["return_sequences"] else seq[:, -1]
    return [out, seq[:, -1]] if config["return_state"] else out
