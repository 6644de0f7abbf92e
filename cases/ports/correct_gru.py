"""A correct NumPy port of ``keras.layers.GRU`` (Keras 3, TensorFlow backend).

Function port: ``gru(x, weights, config, mask=None, initial_state=None)``
with ``weights = layer.get_weights()`` and ``config = layer.get_config()``.
Gate blocks [z, r, h]. ``reset_after=True``: bias ``(2, 3U)`` (row 0 input,
row 1 recurrent), ``hh = act(x@K_h + b_in_h + r*(h@R_h + b_rec_h))``;
``reset_after=False``: bias ``(3U,)``, ``hh = act(x@K_h + b_h + (r*h)@R_h)``;
``h = z*h_prev + (1-z)*hh``. It honours ``activation`` and
``recurrent_activation`` (by name: tanh, sigmoid, hard_sigmoid, relu, linear,
softsign; anything else raises NotImplementedError), ``use_bias``,
``reset_after``, ``return_sequences``, ``return_state``, ``go_backwards``,
masks, ``zero_output_for_mask`` (with the TF ``unroll=True`` quirk) and
``initial_state``.

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer  # the shared time loop next to this file

def make_gru_cell(weights, config):
    act = get_activation(config.get("activation", "tanh"))
    ract = get_activation(config.get("recurrent_activation", "sigmoid"))
    kernel = np.asarray(weights[0], np.float64)
    recurrent = np.asarray(weights[1], np.float64)
    u = recurrent.shape[0]
    reset_after = config.get("reset_after", True)
    b_in, b_rec = np.zeros(3 * u), np.zeros(3 * u)
    if config.get("use_bias", True):
        bias = np.asarray(weights[2], np.float64)
        if reset_after:
            b_in, b_rec = bias[0], bias[1]
        else:
            b_in = bias

    def cell(x_t, states):
        h = states[0]
        mx = x_t @ kernel + b_in
        if reset_after:
            mh = h @ recurrent + b_rec
            z = ract(mx[:, :u] + mh[:, :u])
            r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
        else:
            mh = h @ recurrent[:, :2 * u]
            z = ract(mx[:, :u] + mh[:, :u])
            r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
            hh = act(mx[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1.0 - z) * hh
        return h, [h]

    return cell, u


def gru(x, weights, config, mask=None, initial_state=None):
    cell, units = make_gru_cell(weights, config)
    return run_layer(cell, x, config, 1, units, mask=mask, initial_state=initial_state)
