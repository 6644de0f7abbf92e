"""A NumPy GRU port that flips go_backwards outputs back into time order.

For ``go_backwards=True`` Keras reverses the input and returns the output
sequence in *processing* order (``output[:, 0]`` is the step that read
``x[:, T-1]``). This port, modelled on ONNX's ``direction="reverse"`` /
PyTorch's backward direction, flips the outputs back into time order. O(1)
error almost everywhere; ``out[:, -1]`` of one equals ``out[:, 0]`` of the
other. The final state is right.

Function port ``gru(x, weights, config, mask=None, initial_state=None)``:
tanh / sigmoid, both reset_after modes, use_bias, masks and initial_state
handled correctly; honours return_sequences and return_state.

Gets wrong: the output time direction. Expected: mismatch, flag
``time-direction``.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru(x, weights, config, mask=None, initial_state=None):
    assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    n = recurrent.shape[0]
    b_in, b_rec = np.zeros(3 * n), np.zeros(3 * n)
    if config["use_bias"]:
        if config["reset_after"]:
            b_in, b_rec = weights[2][0].astype(np.float64), weights[2][1].astype(np.float64)
        else:
            b_in = weights[2].astype(np.float64)
    batch, steps, _ = x.shape
    h = np.zeros((batch, n)) if initial_state is None else initial_state[0].astype(np.float64)
    if mask is None:
        mask = np.ones((batch, steps), bool)
    if config["go_backwards"]:
        x, mask = x[:, ::-1], mask[:, ::-1]
    prev = np.zeros((batch, n))
    seq = []
    for t in range(steps):
        mx = x[:, t] @ kernel + b_in
        if config["reset_after"]:
            mh = h @ recurrent + b_rec
            z, r = _sigmoid(mx[:, :n] + mh[:, :n]), _sigmoid(mx[:, n:2 * n] + mh[:, n:2 * n])
            hh = np.tanh(mx[:, 2 * n:] + r * mh[:, 2 * n:])
        else:
            mh = h @ recurrent[:, :2 * n]
            z, r = _sigmoid(mx[:, :n] + mh[:, :n]), _sigmoid(mx[:, n:2 * n] + mh[:, n:2 * n])
            hh = np.tanh(mx[:, 2 * n:] + (r * h) @ recurrent[:, 2 * n:])
        h_new = z * h + (1 - z) * hh
        keep = mask[:, t][:, None]
        out = np.where(keep, h_new, 0.0 if config["zero_output_for_mask"] else prev)
        h = np.where(keep, h_new, h)
        seq.append(out)
        prev = out
    sequence = np.stack(seq, axis=1)
    last = sequence[:, -1]
    if config["go_backwards"]:
        sequence = sequence[:, ::-1]  # BUG: Keras returns the outputs in processing order
    out = sequence if config["return_sequences"] else last
    return [out, h] if config["return_state"] else out
