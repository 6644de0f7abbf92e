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


def run_layer(cell, x, config, n_states, units, mask=None, initial_state=None, *, store=None, to_float=None):
    """The Keras time loop (TF backend generic path) around ``cell(x_t, states)``.

    ``store`` holds every value the loop keeps (default: float64 arrays); ``to_float`` turns the
    results back into numbers before the float32 return (a reduced-precision port's, see
    low_precision.py)."""
    store = store or (lambda a: np.asarray(a, np.float64))
    to_float = to_float or (lambda a: a)
    x = store(x)
    batch, steps = x.shape[:2]
    zero = store(np.zeros((batch, units)))
    states = ([store(s) for s in initial_state] if initial_state is not None
              else [store(np.zeros((batch, units))) for _ in range(n_states)])
    m = None if mask is None else np.asarray(mask, bool)
    backwards = bool(config.get("go_backwards", False))
    if backwards:
        x = x[:, ::-1]
        m = None if m is None else m[:, ::-1]
    zero_output = bool(config.get("zero_output_for_mask", False)) and m is not None
    zero_after = zero_output and bool(config.get("unroll", False))
    prev_output = zero
    outputs = []
    for t in range(steps):
        out, new_states = cell(x[:, t], states)
        if m is not None:
            keep = m[:, t][:, None]
            out = np.where(keep, out, zero if zero_output and not zero_after else prev_output)
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        outputs.append(out)
        prev_output, states = out, new_states
    sequence = np.stack(outputs, axis=1)
    last = sequence[:, -1]
    if zero_after:
        time_order = m[:, ::-1] if backwards else m
        sequence = np.where(time_order[:, :, None], sequence, zero[:, None, :])
        last = np.where(m[:, -1][:, None], last, zero)
    output = sequence if config.get("return_sequences", False) else last
    to32 = lambda a: np.asarray(to_float(a), np.float32)  # noqa: E731
    if config.get("return_state", False):
        return [to32(output)] + [to32(s) for s in states]
    return to32(output)
