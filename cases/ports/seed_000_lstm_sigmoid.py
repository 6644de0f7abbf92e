"""Seed 000: a NumPy LSTM port that uses sigmoid for the gates.

The model was built with Keras 2.2, whose LSTM default recurrent_activation
was hard_sigmoid; the port used the textbook sigmoid. Close at t=0, and it
never agrees (the error stays ~1e-2 over 128 steps).
Expected: mismatch, flag ``activation``.
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm(x, weights, config):
    kernel, recurrent, bias = weights
    units = config["units"]
    batch, steps, _ = x.shape
    h = np.zeros((batch, units), np.float32)
    c = np.zeros((batch, units), np.float32)
    outputs = []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i = sigmoid(z[:, :units])
        f = sigmoid(z[:, units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = sigmoid(z[:, 3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    seq = np.stack(outputs, axis=1)
    out = seq if config["return_sequences"] else h
    return [out, h, c] if config["return_state"] else out
