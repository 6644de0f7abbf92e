"""A stateful NumPy SimpleRNN class port that forgets its state between calls.

``StreamingRNN(weights, config)`` is meant to stand in for
``SimpleRNN(..., stateful=True)``: the same instance receives consecutive
chunks of a sequence and should continue from where the previous chunk left
off. This port keeps no state: every call starts again from zeros (or from
the ``initial_state`` passed in). The first chunk is right; each later chunk
has a large error at its first step that decays inside the chunk.

Class port ``__call__(x, initial_state=None)``: tanh, use_bias, go_backwards;
honours return_sequences and return_state.

Gets wrong: the state is not carried between calls. Expected: mismatch, flag
``initial-state``.
"""

import numpy as np


class StreamingRNN:
    def __init__(self, weights, config):
        assert config["activation"] == "tanh"
        self.config = config
        self.kernel = weights[0].astype(np.float64)
        self.recurrent = weights[1].astype(np.float64)
        self.bias = weights[2].astype(np.float64) if config["use_bias"] else 0.0

    def reset_states(self):
        pass  # nothing to reset: that is the bug

    def __call__(self, x, initial_state=None):
        batch, steps, _ = x.shape
        units = self.recurrent.shape[0]
        # BUG: a stateful layer continues from the previous call's final state
        h = np.zeros((batch, units)) if initial_state is None else initial_state[0].astype(np.float64)
        if self.config["go_backwards"]:
            x = x[:, ::-1]
        seq = []
        for t in range(steps):
            h = np.tanh(x[:, t] @ self.kernel + self.bias + h @ self.recurrent)
            seq.append(h)
        out = np.stack(seq, axis=1) if self.config["return_sequences"] else h
        return [out, h] if self.config["return_state"] else out
