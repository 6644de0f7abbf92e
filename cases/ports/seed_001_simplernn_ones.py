"""Seed 001: a NumPy SimpleRNN port for ``Masking -> SimpleRNN(return_state=True)``.

Re-creation of a user question: the model is ``Masking(mask_value=0)`` followed by
``SimpleRNN(units, return_state=True)``; the port handles the mask correctly
(states carried at padded steps, output = previous emitted output, 0 before
any) and returns ``[output, h]``, but it starts the recurrence from a state of
ones ("so tanh has something to work with") where Keras starts from zeros.
The error is largest at t=0 and decays as the state forgets where it began;
rows whose first steps are padded, or that are entirely padded, keep the ones.

Function port ``simple_rnn(x, weights, config, mask=None)`` (no initial_state
parameter); tanh only, honours use_bias, return_sequences, return_state,
go_backwards and zero_output_for_mask.

Gets wrong: the initial state. Expected: mismatch, flag ``initial-state``.
"""

import numpy as np


def simple_rnn(x, weights, config, mask=None):
    if config["activation"] != "tanh":
        raise NotImplementedError("this port only knows tanh")
    kernel, recurrent = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2].astype(np.float64) if config["use_bias"] else 0.0
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    if mask is None:
        mask = np.ones((batch, steps), bool)
    if config["go_backwards"]:
        x, mask = x[:, ::-1], mask[:, ::-1]

    h = np.ones((batch, units))  # BUG: Keras starts from zeros
    prev_out = np.zeros((batch, units))
    outputs = []
    for t in range(steps):
        new_h = np.tanh(x[:, t] @ kernel + bias + h @ recurrent)
        keep = mask[:, t][:, None]
        fallback = 0.0 if config.get("zero_output_for_mask") else prev_out
        out = np.where(keep, new_h, fallback)
        h = np.where(keep, new_h, h)
        outputs.append(out)
        prev_out = out
    seq = np.stack(outputs, axis=1)
    out = seq if config["return_sequences"] else seq[:, -1]
    return [out, h] if config["return_state"] else out
