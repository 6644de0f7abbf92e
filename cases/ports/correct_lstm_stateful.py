"""A correct stateful NumPy LSTM class port (Keras 3 ``LSTM(stateful=True)``).

Class port: ``StatefulLSTM(weights, config)`` builds it; each call
``instance(x, mask=None, initial_state=None)`` continues from the states the
previous call left (or from ``initial_state`` when given, which overrides
them, as in Keras); ``reset_states()`` sets them back to zeros. Within a call it
is the same maths as ``correct_lstm.py``: every config option (activations by
name: tanh, sigmoid, hard_sigmoid, relu, linear, softsign), masks (states
carried at masked steps; the masked-step output restarts from 0 in each call,
as Keras's loop does), go_backwards, return_sequences / return_state.

What it gets wrong: nothing. Expected: match, no flags.
"""

import numpy as np

from correct_lstm import make_lstm_cell  # same cell maths as the function port next to this file
from numpy_rnn_loop import run_layer


class StatefulLSTM:
    def __init__(self, weights, config):
        self.config = dict(config)
        self.cell, self.units = make_lstm_cell(weights, config)
        self.states = None

    def reset_states(self):
        self.states = None

    def __call__(self, x, mask=None, initial_state=None):
        start = initial_state if initial_state is not None else self.states
        config = dict(self.config, return_state=True)  # always get the final states back
        output, h, c = run_layer(self.cell, x, config, 2, self.units, mask=mask, initial_state=start)
        self.states = [h, c]
        if self.config.get("return_state", False):
            return [output, h, c]
        return output
