"""A correct NumPy port of ``keras.layers.LSTM`` (Keras 3, TensorFlow backend).

Function port: ``lstm(x, weights, config, mask=None, initial_state=None)``
with ``weights = layer.get_weights()`` and ``config = layer.get_config()``.
Gate blocks [i, f, c, o]; ``z = x@K + h@R + b``; ``c = f*c + i*act(z_c)``;
``h = o*act(c)``; states ``[h, c]``. It honours ``activation`` and
``recurrent_activation`` (by name: tanh, sigmoid, hard_sigmoid, relu, linear,
softsign; anything else raises NotImplementedError), ``use_bias``,
``return_sequences``, ``return_state``, ``go_backwards``, masks,
``zero_output_for_mask`` (with the TF ``unroll=True`` quirk) and
``initial_state``. The stored bias is used as it is (``unit_forget_bias`` only
initialises it).

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer  # the shared time loop next to this file

def make_lstm_cell(weights, config):
    act = get_activation(config.get("activation", "tanh"))
    ract = get_activation(config.get("recurrent_activation", "sigmoid"))
    kernel = np.asarray(weights[0], np.float64)
    recurrent = np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else 0.0
    u = recurrent.shape[0]

    def cell(x_t, states):
        h, c = states
        z = x_t @ kernel + h @ recurrent + bias
        i = ract(z[:, :u])
        f = ract(z[:, u:2 * u])
        g = act(z[:, 2 * u:3 * u])
        o = ract(z[:, 3 * u:])
        c = f * c + i * g
        h = o * act(c)
        return h, [h, c]

    return cell, u


def lstm(x, weights, config, mask=None, initial_state=None):
    cell, units = make_lstm_cell(weights, config)
    return run_layer(cell, x, config, 2, units, mask=mask, initial_state=initial_state)
