"""A GRU port written for ``reset_after=True`` models, with a branch added later for older ones.

Function port ``gru(x, weights, config, mask=None, initial_state=None)``: the correct GRU port for
``reset_after=True`` (Keras 3's default, bias ``(2, 3U)``). A branch for older models
(``reset_after=False``, bias ``(3U,)``) reads the single bias row right, but keeps the
reset_after placement of the reset gate: ``r * (h @ R_h)`` instead of ``(r * h) @ R_h``.

What it gets wrong: ``reset_after=False`` layers only. Expected: mismatch ``gru-reset-after``
when reset_after=False.
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer


def gru(x, weights, config, mask=None, initial_state=None):
    act = get_activation(config.get("activation", "tanh"))
    ract = get_activation(config.get("recurrent_activation", "sigmoid"))
    kernel = np.asarray(weights[0], np.float64)
    recurrent = np.asarray(weights[1], np.float64)
    u = recurrent.shape[0]
    b_in, b_rec = np.zeros(3 * u), np.zeros(3 * u)
    if config.get("use_bias", True):
        bias = np.asarray(weights[2], np.float64)
        if config.get("reset_after", True):
            b_in, b_rec = bias[0], bias[1]
        else:
            b_in = bias  # the older layout: one row, all on the input side

    def cell(x_t, states):
        h = states[0]
        mx = x_t @ kernel + b_in
        mh = h @ recurrent + b_rec
        z = ract(mx[:, :u] + mh[:, :u])
        r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])  # BUG for reset_after=False: should be (r*h) @ R_h
        h = z * h + (1.0 - z) * hh
        return h, [h]

    return run_layer(cell, x, config, 1, u, mask=mask, initial_state=initial_state)
