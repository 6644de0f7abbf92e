"""Pure-NumPy reference implementations of Keras recurrent layers (the oracle).

Never imports Keras or TensorFlow. float64 by default. The public surface:

* :func:`run_sequence` / :class:`StatefulSequence` - a whole layer call, with
  every output and state at every timestep (:class:`SequenceTrace`).
* :class:`Conventions` / :data:`KERAS` - the set of conventions an
  implementation chooses; Keras's behaviour is one value of it.
* the cells (:class:`SimpleRNNCell`, :class:`LSTMCell`, :class:`GRUCell`) and
  the gate orders :data:`LSTM_GATE_ORDER` (``"ifco"``) and
  :data:`GRU_GATE_ORDER` (``"zrh"``).
"""

from reference_cells.conventions import GRU_GATE_ORDER, KERAS, LSTM_GATE_ORDER, Conventions
from reference_cells.gru import GRUCell
from reference_cells.layer_config import CELL_KINDS, LayerOptions
from reference_cells.lstm import LSTMCell
from reference_cells.sequence import SequenceTrace, StatefulSequence, run_sequence
from reference_cells.simple_rnn import SimpleRNNCell

__all__ = [
    "CELL_KINDS",
    "Conventions",
    "GRUCell",
    "GRU_GATE_ORDER",
    "KERAS",
    "LSTMCell",
    "LSTM_GATE_ORDER",
    "LayerOptions",
    "SequenceTrace",
    "SimpleRNNCell",
    "StatefulSequence",
    "run_sequence",
]
