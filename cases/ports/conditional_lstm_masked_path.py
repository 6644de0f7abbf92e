"""A NumPy LSTM port with two code paths: right without a mask, wrong with one.

The fast path (no mask) is the author's own and correct. Masked inputs go through a
second loop the author adapted from an ONNX-based implementation, and it kept ONNX's
gate order: it slices Keras's fused [i, f, c, o] blocks as i, o, f, c. Checked without
masks the port matches; every model fed through ``Masking`` gets the wrong gates.

Function port ``lstm(x, weights, config, mask=None, initial_state=None)``: any
activation the shared loop knows, bias or not, go_backwards, return_sequences,
return_state, zero_output_for_mask, initial_state.

Gets wrong: the gate order, only when a mask is given. Expected: mismatch, flag
``gate-order`` when mask=mixed.
"""

import numpy as np

from numpy_rnn_loop import get_activation, run_layer  # the shared time loop next to this file


def _cell(weights, config, order):
    act = get_activation(config.get("activation", "tanh"))
    ract = get_activation(config.get("recurrent_activation", "sigmoid"))
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else np.zeros(kernel.shape[1])
    u = recurrent.shape[0]
    block = {g: slice(k * u, (k + 1) * u) for k, g in enumerate(order)}

    def cell(x_t, states):
        h, c = states
        z = x_t @ kernel + h @ recurrent + bias
        i, f, o = ract(z[:, block["i"]]), ract(z[:, block["f"]]), ract(z[:, block["o"]])
        c = f * c + i * act(z[:, block["c"]])
        h = o * act(c)
        return h, [h, c]

    return cell, u


def lstm(x, weights, config, mask=None, initial_state=None):
    order = "ifco" if mask is None else "iofc"  # BUG: the masked path kept ONNX's i, o, f, c
    cell, units = _cell(weights, config, order)
    return run_layer(cell, x, config, 2, units, mask=mask, initial_state=initial_state)
