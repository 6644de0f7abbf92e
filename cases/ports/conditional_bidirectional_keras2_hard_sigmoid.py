"""A Bidirectional(LSTM) port written against Keras 2 docs: right with sigmoid gates, wrong with hard_sigmoid.

Function port: ``bidirectional(x, weights, config, mask=None)`` as the correct
Bidirectional port (both halves on the same inputs and mask, the backward half
reversed and flipped back, every merge mode, states forward then backward).
Its author took the gate activation from Keras 2's documentation:
``hard_sigmoid(x) = clip(0.2 * x + 0.5, 0, 1)``. Keras 3's is
``clip(x / 6 + 0.5, 0, 1)``, so the port matches every layer with sigmoid gates
and drifts on every layer with hard_sigmoid gates.

Expected: mismatch, ``activation``, when ``recurrent_activation=hard_sigmoid``.
"""

import numpy as np

from correct_bidirectional import merge
from numpy_rnn_loop import get_activation, run_layer


def keras2_hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)  # the port's bug: Keras 3 uses x / 6 + 0.5


def make_lstm_cell(weights, config):
    act = get_activation(config.get("activation", "tanh"))
    name = config.get("recurrent_activation", "sigmoid")
    ract = keras2_hard_sigmoid if name == "hard_sigmoid" else get_activation(name)
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else 0.0
    u = recurrent.shape[0]

    def cell(x_t, states):
        h, c = states
        z = x_t @ kernel + h @ recurrent + bias
        i, f, g, o = ract(z[:, :u]), ract(z[:, u:2 * u]), act(z[:, 2 * u:3 * u]), ract(z[:, 3 * u:])
        c = f * c + i * g
        h = o * act(c)
        return h, [h, c]

    return cell, u


def bidirectional(x, weights, config, mask=None):
    fwd_config = dict(config["layer"]["config"])
    if config["layer"]["class_name"] != "LSTM":
        raise NotImplementedError("this port implements Bidirectional(LSTM) only")
    seq = bool(fwd_config.get("return_sequences", False))
    n = 3 if fwd_config.get("use_bias", True) else 2
    halves = []
    for w, backwards in ((weights[:n], False), (weights[n:], True)):
        cell, units = make_lstm_cell(w, fwd_config)
        cfg = {**fwd_config, "go_backwards": backwards, "zero_output_for_mask": seq, "return_state": True}
        returned = run_layer(cell, x, cfg, 2, units, mask=mask)
        halves.append((returned[0], list(returned[1:])))
    (y, states_f), (y_rev, states_b) = halves
    if seq:
        y_rev = y_rev[:, ::-1]  # back to time order
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, mode)
    head = list(out) if mode is None else [out]
    if fwd_config.get("return_state", False):
        return head + states_f + states_b
    return head if mode is None else out
