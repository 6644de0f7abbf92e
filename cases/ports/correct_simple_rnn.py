"""A correct NumPy port of ``keras.layers.SimpleRNN`` (Keras 3, TensorFlow backend).

Function port: ``simple_rnn(x, weights, config, mask=None, initial_state=None)``
with ``weights = layer.get_weights()`` and ``config = layer.get_config()``.
It honours every inference option of the layer config: ``activation`` (by
name: tanh, sigmoid, hard_sigmoid, relu, linear, softsign; anything else
raises NotImplementedError), ``use_bias``, ``return_sequences``,
``return_state``, ``go_backwards``, masks, ``zero_output_for_mask`` (with the
TF ``unroll=True`` quirk), and ``initial_state``. Dropout has no effect at
inference and is ignored.

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer  # the shared time loop next to this file

def simple_rnn(x, weights, config, mask=None, initial_state=None):
    act = get_activation(config.get("activation", "tanh"))
    kernel = np.asarray(weights[0], np.float64)
    recurrent = np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else 0.0
    units = recurrent.shape[0]

    def cell(x_t, states):
        h = act(x_t @ kernel + bias + states[0] @ recurrent)
        return h, [h]

    return run_layer(cell, x, config, 1, units, mask=mask, initial_state=initial_state)
