"""An unfinished LSTM port that misbehaves the way real work in progress does.

Function port: ``lstm(x, weights, config, mask=None, initial_state=None)``.
It mimics a fixed-point target whose cell-state register overflows: once
``|c|`` passes 8 the state becomes inf and the output NaN from that timestep
on (exact otherwise), and it prints debugging lines on every call.

What the harness must do: record each affected example as an ``error`` naming
the first timestep with a NaN/inf (not a drift, not a crash), count the prints
in a note without letting them garble the terminal or the JSON, and go on with
the other examples. Expected verdict: error.
"""

import numpy as np

from correct_lstm import make_lstm_cell  # the correct cell next to this file
from numpy_rnn_loop import run_layer


def lstm(x, weights, config, mask=None, initial_state=None):
    print(f"debug: lstm called with x{x.shape}")  # left in by the port's author
    cell, units = make_lstm_cell(weights, config)

    def float16_cell(x_t, states):
        h, [h, c] = cell(x_t, states)
        c = np.where(np.abs(c) > 8.0, np.inf, c)  # the register's range is +-8
        h = np.where(np.isfinite(c), h, np.nan)
        return h, [h, c]

    return run_layer(float16_cell, x, config, 2, units, mask=mask, initial_state=initial_state)
