"""A correct NumPy port of ``keras.layers.RNN([cell, cell, ...])`` over SimpleRNN/LSTM/GRU cells.

Function port: ``stacked_rnn(x, weights, config, mask=None)`` with ``weights =
layer.get_weights()`` (cell after cell, each ``[K, R(, b)]``) and ``config =
layer.get_config()`` (``config["cell"]`` is a ``StackedRNNCells`` holding the
cells' configs, or the single cell). At every step cell k+1 reads cell k's
output of the same step; all cells' states are carried at masked steps; the
time loop (go_backwards, masks, return_sequences) is the shared
``numpy_rnn_loop.run_layer``; with return_state the states come back one
list per cell, ``[out, [h1, c1], [h2], ...]``. The cells are the correct
example ports'.

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from correct_bidirectional import CELLS  # the correct cell makers next to this file
from numpy_rnn_loop import run_layer


def stacked_rnn(x, weights, config, mask=None):
    cell_configs = config["cell"]["config"]["cells"] if config["cell"]["class_name"] == "StackedRNNCells" \
        else [config["cell"]]
    cells, i = [], 0
    for entry in cell_configs:
        kind, cfg = entry["class_name"].removesuffix("Cell"), entry["config"]
        n = 3 if cfg.get("use_bias", True) else 2
        make, n_states = CELLS[kind]
        cell, units = make(weights[i:i + n], cfg)
        cells.append((cell, n_states, units))
        i += n

    def step(x_t, states):
        inputs, new, k = x_t, [], 0
        for cell, n_states, _ in cells:
            inputs, cell_states = cell(inputs, states[k:k + n_states])
            new += cell_states
            k += n_states
        return inputs, new

    initial = [np.zeros((x.shape[0], units)) for _, n_states, units in cells for _ in range(n_states)]
    returned = run_layer(step, x, {**config, "return_state": True}, len(initial), cells[-1][2], mask=mask,
                         initial_state=initial)
    if not config.get("return_state", False):
        return returned[0]
    nested, k = [], 0
    for _, n_states, _ in cells:
        nested.append(returned[1 + k:1 + k + n_states])
        k += n_states
    return [returned[0], *nested]
