"""A correct NumPy port of ``keras.layers.ConvLSTM1D/2D/3D`` (Keras 3, TF backend, channels_last).

Function port: ``conv_lstm(x, weights, config, mask=None)`` with
``x (B, T, *spatial, C)``, ``weights = layer.get_weights()`` =
``[K (*k, C, 4F), R (*k, F, 4F)(, b (4F,))]`` and ``config = layer.get_config()``.
Gate blocks [i, f, c, o] on the last axis::

    z = conv(x_t, K, strides, padding, dilation) + b + conv(h, R, 1, "same")
    c = f*c + i*act(z_c);  h = o*act(c)

``conv`` is cross-correlation (no kernel flip); "same" padding puts the odd
pad at the end (TF). It honours filters, kernel_size, strides, padding,
dilation_rate, activation, recurrent_activation, use_bias, return_sequences,
return_state, go_backwards (outputs in processing order) and masks (states
carried, the previous output repeated at masked steps). ``gate_order`` lets
another file read the blocks in another order.

What it gets wrong: nothing. Expected: match, no flags.
"""

import itertools

import numpy as np

from numpy_rnn_loop import get_activation


def _tuple(value, rank):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


def conv(x, w, strides, padding, dilation):
    """Cross-correlation of x (B, *S, C) with w (*k, C, F), channels_last."""
    rank = w.ndim - 2
    kernel = w.shape[:rank]
    spatial = x.shape[1:-1]
    if padding == "same":
        pads = []
        for n, k, s, d in zip(spatial, kernel, strides, dilation):
            n_out = -(-n // s)
            total = max((n_out - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
        out_shape = tuple(-(-n // s) for n, s in zip(spatial, strides))
    else:
        out_shape = tuple((n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(spatial, kernel, strides, dilation))
    out = np.zeros((x.shape[0], *out_shape, w.shape[-1]))
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                       for o, d, s, n in zip(offset, dilation, strides, out_shape))
        out += np.tensordot(x[(slice(None), *window)], w[offset], axes=([-1], [0]))
    return out


def conv_lstm(x, weights, config, mask=None, gate_order="ifco"):
    x = np.asarray(x, np.float64)
    rank = x.ndim - 3
    act = get_activation(config.get("activation", "tanh"))
    ract = get_activation(config.get("recurrent_activation", "sigmoid"))
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    filters = recurrent.shape[-2]
    bias = np.asarray(weights[2], np.float64) if config.get("use_bias", True) else np.zeros(4 * filters)
    strides = _tuple(config.get("strides", 1), rank)
    dilation = _tuple(config.get("dilation_rate", 1), rank)
    padding = config.get("padding", "valid").lower()
    block = {g: slice(k * filters, (k + 1) * filters) for k, g in enumerate(gate_order)}

    batch, steps = x.shape[:2]
    m = None if mask is None else np.asarray(mask, bool)
    if config.get("go_backwards", False):
        x = x[:, ::-1]
        m = None if m is None else m[:, ::-1]
    probe = conv(x[:, 0], kernel, strides, padding, dilation)
    h = np.zeros(probe.shape[:-1] + (filters,))
    c = np.zeros_like(h)
    prev = np.zeros_like(h)
    outputs = []
    ones = (1,) * rank
    for t in range(steps):
        z = conv(x[:, t], kernel, strides, padding, dilation) + bias + conv(h, recurrent, ones, "same", ones)
        i, f = ract(z[..., block["i"]]), ract(z[..., block["f"]])
        g, o = act(z[..., block["c"]]), ract(z[..., block["o"]])
        new_c = f * c + i * g
        new_h = o * act(new_c)
        out = new_h
        if m is not None:
            keep = m[:, t].reshape((batch,) + (1,) * (h.ndim - 1))
            out = np.where(keep, new_h, prev)
            new_h, new_c = np.where(keep, new_h, h), np.where(keep, new_c, c)
        outputs.append(out)
        prev, h, c = out, new_h, new_c
    sequence = np.stack(outputs, axis=1)
    output = sequence if config.get("return_sequences", False) else sequence[:, -1]
    output = output.astype(np.float32)
    if config.get("return_state", False):
        return [output, h.astype(np.float32), c.astype(np.float32)]
    return output
