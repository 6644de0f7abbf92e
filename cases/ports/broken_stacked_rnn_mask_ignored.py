"""An ``RNN([cells])`` port that accepts a mask and ignores it.

Function port ``stacked_rnn(x, weights, config, mask=None)`` (protocol as in
``correct_stacked_rnn.py``, which it reuses). It runs every step as valid: at a
padded step Keras carries every cell's state and repeats the previous output;
this port updates the states with the padding values.

What it gets wrong: masking. Expected: mismatch ``masking``.
"""

from correct_stacked_rnn import stacked_rnn as _stacked_rnn


def stacked_rnn(x, weights, config, mask=None):
    return _stacked_rnn(x, weights, config, mask=None)  # BUG: the mask is dropped
