"""A Bidirectional port that forgets the halving of merge_mode="ave".

Function port ``bidirectional(x, weights, config, mask=None)`` (protocol as in
``correct_bidirectional.py``, whose halves it reuses). Both halves are right;
for ``merge_mode="ave"`` it returns ``y_fwd + y_bwd`` (a sum), exactly twice
what Keras returns.

What it gets wrong: the merge. Expected: mismatch ``merge-mode``.
"""

from correct_bidirectional import halves, merge


def bidirectional(x, weights, config, mask=None):
    y, y_rev, states_f, states_b, seq, with_state = halves(x, weights, config, mask)
    if seq:
        y_rev = y_rev[:, ::-1]
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, "sum" if mode == "ave" else mode)  # BUG: "ave" merged as a sum
    head = list(out) if mode is None else [out]
    if with_state:
        return head + states_f + states_b
    return head if mode is None else out
