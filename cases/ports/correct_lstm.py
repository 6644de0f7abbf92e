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

ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0),  # Keras 3
    "relu": lambda v: np.maximum(v, 0.0),
    "linear": lambda v: v,
    "softsign": lambda v: v / (1.0 + np.abs(v)),
}


def get_activation(name):
    if name is None:
        return ACTIVATIONS["linear"]
    if name not in ACTIVATIONS:
        raise NotImplementedError(f"activation {name!r} is not implemented by this port")
    return ACTIVATIONS[name]


def run_layer(cell, x, config, n_states, units, mask=None, initial_state=None):
    """The Keras time loop (TF backend generic path) around ``cell(x_t, states)``."""
    x = np.asarray(x, np.float64)
    batch, steps, _ = x.shape
    if initial_state is not None:
        states = [np.asarray(s, np.float64) for s in initial_state]
    else:
        states = [np.zeros((batch, units)) for _ in range(n_states)]
    m = None if mask is None else np.asarray(mask, bool)
    backwards = bool(config.get("go_backwards", False))
    if backwards:
        x = x[:, ::-1]
        m = None if m is None else m[:, ::-1]
    zero_output = bool(config.get("zero_output_for_mask", False)) and m is not None
    zero_after = zero_output and bool(config.get("unroll", False))
    prev_output = np.zeros((batch, units))
    outputs = []
    for t in range(steps):
        out, new_states = cell(x[:, t], states)
        if m is not None:
            keep = m[:, t][:, None]
            fallback = np.zeros_like(out) if zero_output and not zero_after else prev_output
            out = np.where(keep, out, fallback)
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        outputs.append(out)
        prev_output, states = out, new_states
    sequence = np.stack(outputs, axis=1)
    last = sequence[:, -1]
    if zero_after:
        time_order = m[:, ::-1] if backwards else m
        sequence = np.where(time_order[:, :, None], sequence, 0.0)
        last = np.where(m[:, -1][:, None], last, 0.0)
    output = sequence if config.get("return_sequences", False) else last
    output = output.astype(np.float32)
    if config.get("return_state", False):
        return [output] + [s.astype(np.float32) for s in states]
    return output


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
