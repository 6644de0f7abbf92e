"""A Bidirectional(LSTM) port that returns its states interleaved.

Function port ``bidirectional(x, weights, config, mask=None)`` (protocol as in
``correct_bidirectional.py``, whose halves it reuses). The outputs are right,
but with return_state it returns ``[out, h_fwd, h_bwd, c_fwd, c_bwd]`` - the
PyTorch habit of stacking (h, c) per direction - where Keras returns the
forward layer's states then the backward layer's: ``[out, h_fwd, c_fwd, h_bwd, c_bwd]``.

What it gets wrong: the order of the returned states. Expected: mismatch ``state-order``.
"""

from correct_bidirectional import halves, merge


def bidirectional(x, weights, config, mask=None):
    y, y_rev, states_f, states_b, seq, with_state = halves(x, weights, config, mask)
    if seq:
        y_rev = y_rev[:, ::-1]
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, mode)
    head = list(out) if mode is None else [out]
    if with_state:
        return head + [s for pair in zip(states_f, states_b) for s in pair]  # BUG: h_f, h_b, c_f, c_b
    return head if mode is None else out
