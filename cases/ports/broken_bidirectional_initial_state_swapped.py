"""A Bidirectional port that takes ``initial_state`` but splits it the wrong way round.

Function port: ``bidirectional(x, weights, config, mask=None, initial_state=None)``.
Keras gives ``initial_state[:n/2]`` to the forward layer and ``initial_state[n/2:]``
to the backward one (``Bidirectional.call``); this port, written from a
"backward first" diagram, starts the backward half from the first half. Everything
else is the correct port's (``correct_bidirectional.py``).

What it gets wrong: the initial-state split. Expected: mismatch, flag ``initial-state``.
"""

import numpy as np

from correct_bidirectional import CELLS, merge
from numpy_rnn_loop import run_layer


def _half(kind, x, weights, config, mask, initial_state):
    make, n_states = CELLS[kind]
    cell, units = make(weights, config)
    returned = run_layer(cell, x, {**config, "return_state": True}, n_states, units, mask=mask,
                         initial_state=initial_state)
    return returned[0], list(returned[1:])


def bidirectional(x, weights, config, mask=None, initial_state=None):
    kind, fwd_config = config["layer"]["class_name"], dict(config["layer"]["config"])
    backward = config.get("backward_layer") or {"class_name": kind, "config": {**fwd_config, "go_backwards": True}}
    seq = bool(fwd_config.get("return_sequences", False))
    n = 3 if fwd_config.get("use_bias", True) else 2
    init_f = init_b = None
    if initial_state is not None:
        half = len(initial_state) // 2
        init_b, init_f = list(initial_state[:half]), list(initial_state[half:])  # BUG: backward gets the first half
    y, states_f = _half(kind, x, weights[:n], {**fwd_config, "zero_output_for_mask": seq}, mask, init_f)
    y_rev, states_b = _half(backward["class_name"], x, weights[n:], {**backward["config"], "zero_output_for_mask": seq},
                            mask, init_b)
    if seq:
        y_rev = y_rev[:, ::-1]
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, mode)
    head = list(out) if mode is None else [out]
    if fwd_config.get("return_state", False):
        return head + states_f + states_b
    return head if mode is None else np.asarray(out)
