"""A SimpleRNN port that is right for the default layer and wrong with ``zero_output_for_mask=True``.

Function port ``simple_rnn(x, weights, config, mask=None, initial_state=None)``, the correct
port's cell and time loop (``numpy_rnn_loop.run_layer``), except that its author only knew the
default masking rule: at a masked step it always repeats the previous output.

What it gets wrong: with ``zero_output_for_mask=True`` Keras outputs zeros at masked steps; this
port carries the previous output there. Right everywhere else (no mask, or the default rule).
Expected: mismatch ``masking`` when zero_output_for_mask=True (and a mask is given).
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer


def simple_rnn(x, weights, config, mask=None, initial_state=None):
    act = get_activation(config.get("activation", "tanh"))
    kernel = np.asarray(weights[0], np.float64)
    recurrent = np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else 0.0

    def cell(x_t, states):
        h = act(x_t @ kernel + bias + states[0] @ recurrent)
        return h, [h]

    loop_config = {**config, "zero_output_for_mask": False}  # BUG: the option is never read
    return run_layer(cell, x, loop_config, 1, recurrent.shape[0], mask=mask, initial_state=initial_state)
