"""A NumPy LSTM port (no wrapper) that returns its states as [c, h].

The author came from TF1, where ``LSTMStateTuple`` is ``(c, h)``, and unpacked
``return_state`` that way: ``output, c, h``. Keras returns ``[output, h, c]``.
The output sequence is right everywhere; only the returned states are swapped.

Function port ``lstm(x, weights, config, mask=None, initial_state=None)``: the
correct LSTM of ``correct_lstm.py``, with its states reordered.

Gets wrong: state order. Expected: mismatch, flag ``state-order`` (checked with
return_state=True).
"""

from correct_lstm import lstm as _correct_lstm


def lstm(x, weights, config, mask=None, initial_state=None):
    returned = _correct_lstm(x, weights, config, mask=mask, initial_state=initial_state)
    if not config.get("return_state", False):
        return returned
    output, h, c = returned
    return [output, c, h]  # BUG: Keras returns [output, h, c]
