"""A NumPy SimpleRNN port that goes time-major with ``reshape`` instead of ``transpose``.

The author's loop runs over a time-major array ``(timesteps, batch, features)``
and converts Keras's batch-major input with ``x.reshape(T, B, F)`` (and the
output sequence back with ``reshape(B, T, U)``). Both reshapes are right only
when batch is 1, which is what the author tested with: with batch > 1 each
"sequence" mixes steps of several samples.

Function port ``simple_rnn(x, weights, config, mask=None)``: any activation
Keras names that the shared loop knows, bias or not, go_backwards, masks,
return_sequences, return_state, zero_output_for_mask.

Gets wrong: the batch and time axes mixed by reshape. Expected: mismatch, flag
``time-major`` when batch > 1 (the check's condition: ``when batch>1``).
"""

import numpy as np

from correct_bidirectional import make_simple_rnn_cell  # the correct cell port next to this file
from numpy_rnn_loop import run_layer  # the shared time loop next to this file


def simple_rnn(x, weights, config, mask=None):
    cell, units = make_simple_rnn_cell(weights, config)
    batch, steps, features = x.shape
    x_tm = np.asarray(x).reshape(steps, batch, features)  # BUG: x.transpose(1, 0, 2)
    m_tm = None if mask is None else np.asarray(mask).reshape(steps, batch)  # BUG: mask.T
    # The shared loop is batch-major: hand it the time-major arrays swapped back, as the author's loop reads them.
    returned = run_layer(cell, x_tm.transpose(1, 0, 2), config, 1, units,
                         mask=None if m_tm is None else m_tm.T)
    out = returned[0] if config.get("return_state", False) else returned
    if config.get("return_sequences", False):
        out = out.transpose(1, 0, 2).reshape(batch, steps, -1)  # BUG: written time-major, read batch-major
    return [out, *returned[1:]] if config.get("return_state", False) else out
