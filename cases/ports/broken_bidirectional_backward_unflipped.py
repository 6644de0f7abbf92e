"""A Bidirectional port whose backward half is misaligned in time.

Function port ``bidirectional(x, weights, config, mask=None)`` (protocol as in
``correct_bidirectional.py``, whose halves it reuses). It reverses the input
for the backward layer, but then merges the backward output sequence as it
comes out of the loop - in processing order - instead of flipping it back to
time order: position t of the backward half holds the output after reading
x[T-1..T-1-t], where Keras has the one after reading x[T-1..t].

What it gets wrong: the backward half's time alignment (return_sequences=True).
Expected: mismatch ``time-direction``.
"""

from correct_bidirectional import halves, merge


def bidirectional(x, weights, config, mask=None):
    y, y_rev, states_f, states_b, seq, with_state = halves(x, weights, config, mask)
    mode = config.get("merge_mode", "concat")
    out = merge(y, y_rev, mode)  # BUG: y_rev not flipped back (y_rev[:, ::-1])
    head = list(out) if mode is None else [out]
    if with_state:
        return head + states_f + states_b
    return head if mode is None else out
