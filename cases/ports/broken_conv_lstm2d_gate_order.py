"""A ConvLSTM2D port that reads the fused gate blocks in the wrong order.

Function port ``conv_lstm(x, weights, config, mask=None)`` (protocol and maths
as in ``correct_conv_lstm.py``, which it reuses). It slices the kernel,
recurrent kernel and bias as [i, f, o, c] - the order of some hand-written
ConvLSTM cells - where Keras stores [i, f, c, o].

What it gets wrong: the gate order. Expected: mismatch ``gate-order``.
"""

from correct_conv_lstm import conv_lstm as _conv_lstm


def conv_lstm(x, weights, config, mask=None):
    return _conv_lstm(x, weights, config, mask=mask, gate_order="ifoc")  # BUG: Keras is "ifco"
