"""A NumPy LSTM port that adds the Keras bias twice.

Written as a PyTorch-style cell ``gates = x@W_ih + b_ih + h@W_hh + b_hh`` and
filled with ``b_ih = b_hh = keras_bias``. Keras has one bias (there is no
separate recurrent bias), so every gate's bias is counted twice. The error is
there from t=0 and persists.

Function port ``lstm(x, weights, config, mask=None, initial_state=None)``:
tanh / sigmoid, with bias, forwards; masks and initial_state handled
correctly; honours return_sequences and return_state.

Gets wrong: the bias is counted twice. Expected: mismatch, flag ``bias``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm(x, weights, config, mask=None, initial_state=None):
    assert config["use_bias"] and not config["go_backwards"]
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    w_ih, w_hh, bias = (w.astype(np.float64) for w in weights)
    b_ih = bias
    b_hh = bias  # BUG: Keras's single bias used as both b_ih and b_hh
    n = w_hh.shape[0]
    batch, steps, _ = x.shape
    if initial_state is None:
        h, c = np.zeros((batch, n)), np.zeros((batch, n))
    else:
        h, c = (s.astype(np.float64) for s in initial_state)
    if mask is None:
        mask = np.ones((batch, steps), bool)
    zero_out = config["zero_output_for_mask"]
    prev = np.zeros((batch, n))
    seq = []
    for t in range(steps):
        g = x[:, t] @ w_ih + b_ih + h @ w_hh + b_hh
        i, f = _sigmoid(g[:, :n]), _sigmoid(g[:, n:2 * n])
        cc, o = np.tanh(g[:, 2 * n:3 * n]), _sigmoid(g[:, 3 * n:])
        c_new = f * c + i * cc
        h_new = o * np.tanh(c_new)
        keep = mask[:, t][:, None]
        out = np.where(keep, h_new, 0.0 if zero_out else prev)
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        seq.append(out)
        prev = out
    out = np.stack(seq, axis=1) if config["return_sequences"] else seq[-1]
    return [out, h, c] if config["return_state"] else out
