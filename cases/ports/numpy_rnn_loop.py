"""The shared time loop of the correct example ports: a user's own little RNN library.

``run_layer(cell, x, config, ...)`` is the Keras 3 time loop (TF backend generic
path: go_backwards in processing order, masks carrying states and repeating the
previous output, zero_output_for_mask, the unroll quirk) around any
``cell(x_t, states) -> (output, new_states)``. Written independently of
``reference_cells`` (the ports are stand-ins for users' code) and imported by
``correct_*.py`` next to it.
"""

import numpy as np

ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "hard_sigmoid": lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0),  # Keras 3
    "onnx_hard_sigmoid": lambda v: np.clip(0.2 * v + 0.5, 0.0, 1.0),  # ONNX HardSigmoid defaults = Keras 2
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
