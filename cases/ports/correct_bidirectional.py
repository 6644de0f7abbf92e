"""A correct NumPy port of ``keras.layers.Bidirectional`` around SimpleRNN/LSTM/GRU (Keras 3, TF backend).

Function port: ``bidirectional(x, weights, config, mask=None)`` with
``weights = layer.get_weights()`` (forward ``[K, R(, b)]`` then backward) and
``config = layer.get_config()`` (``{"layer": ..., "backward_layer": ...,
"merge_mode": ...}``). Both halves get the same inputs and mask; the backward
half reads the sequence reversed and its output sequence is flipped back to
time order before the merge (concat, sum, ave, mul or None); masked steps of
returned sequences are 0 (Keras forces ``zero_output_for_mask`` to
``return_sequences``); states are returned forward then backward
(LSTM: ``[h_f, c_f, h_b, c_b]``). The cells are the correct example ports'.

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from correct_gru import make_gru_cell  # the correct cell ports next to this file
from correct_lstm import make_lstm_cell
from numpy_rnn_loop import get_activation, run_layer


def make_simple_rnn_cell(weights, config):
    act = get_activation(config.get("activation", "tanh"))
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else 0.0

    def cell(x_t, states):
        h = act(x_t @ kernel + bias + states[0] @ recurrent)
        return h, [h]

    return cell, recurrent.shape[0]


CELLS = {"SimpleRNN": (make_simple_rnn_cell, 1), "LSTM": (make_lstm_cell, 2), "GRU": (make_gru_cell, 1)}


def run_half(kind, x, weights, config, mask):
    """One direction: (its output as run_layer returns it, its final states)."""
    make, n_states = CELLS[kind]
    cell, units = make(weights, config)
    returned = run_layer(cell, x, {**config, "return_state": True}, n_states, units, mask=mask)
    return returned[0], list(returned[1:])


def merge(y, y_rev, mode):
    if mode == "concat":
        return np.concatenate([y, y_rev], axis=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    return [y, y_rev]


def halves(x, weights, config, mask):
    """Forward and backward outputs (the backward one as run_layer returns it) and states."""
    kind, fwd_config = config["layer"]["class_name"], dict(config["layer"]["config"])
    backward = config.get("backward_layer") or {"class_name": kind, "config": {**fwd_config, "go_backwards": True}}
    seq = bool(fwd_config.get("return_sequences", False))
    n = 3 if fwd_config.get("use_bias", True) else 2
    y, states_f = run_half(kind, x, weights[:n], {**fwd_config, "zero_output_for_mask": seq}, mask)
    y_rev, states_b = run_half(backward["class_name"], x, weights[n:],
                               {**backward["config"], "zero_output_for_mask": seq}, mask)
    return y, y_rev, states_f, states_b, seq, bool(fwd_config.get("return_state", False))


def bidirectional(x, weights, config, mask=None):
    y, y_rev, states_f, states_b, seq, with_state = halves(x, weights, config, mask)
    if seq:
        y_rev = y_rev[:, ::-1]  # back to time order: position t has read x[T-1..t]
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, mode)
    head = list(out) if mode is None else [out]
    if with_state:
        return head + states_f + states_b
    return head if mode is None else out
