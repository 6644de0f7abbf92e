"""An LSTM port with a fused fast path that is right only on the general loop (a converter's story).

Function port ``lstm(x, weights, config, mask=None, initial_state=None)``. Like tf2onnx, which
fuses the Keras loop into one ONNX ``LSTM`` op only for some configurations, this port has two
paths: the general loop (the correct port) and a "fused" path taken when the layer returns only
its last output and no mask is given. The fused path uses ONNX's default HardSigmoid,
``clip(0.2x + 0.5)`` (Keras 2), for the gates; Keras 3's hard_sigmoid is ``clip(x/6 + 0.5)``.

What it gets wrong: with ``recurrent_activation=hard_sigmoid``, on the fused path only
(``return_sequences=False`` and no mask). Expected: mismatch ``activation`` with that condition.
"""

import numpy as np

from correct_lstm import make_lstm_cell
from numpy_rnn_loop import run_layer


def lstm(x, weights, config, mask=None, initial_state=None):
    fused = not config.get("return_sequences", False) and mask is None
    if fused and config.get("recurrent_activation") == "hard_sigmoid":
        config = {**config, "recurrent_activation": "onnx_hard_sigmoid"}  # BUG: ONNX HardSigmoid defaults
    cell, units = make_lstm_cell(weights, config)
    return run_layer(cell, x, config, 2, units, mask=mask, initial_state=initial_state)
