"""KerasRunner.release() frees every traced graph, also those TensorFlow's gradient registry kept.

Tracing a ``tf.custom_gradient`` op (``tf.nn.silu``: any layer with a silu activation)
registers a gradient closure over the traced graph in TensorFlow's global registry; a
long sweep kept ~10,000 graph operations alive that way (``backends.forget_custom_gradients``).
"""

from __future__ import annotations

import gc

from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec
from harness.target.runner import KerasRunner


def live_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def test_release_frees_the_graphs_of_layers_with_custom_gradient_activations():
    runner = KerasRunner()
    before = live_graphs()
    for kind, activation in [("SimpleRNN", "silu"), ("GRU", "tanh"), ("LSTM", "silu")]:
        layer = CellSpec(kind=kind, units=3, features=2, activation=activation, return_sequences=True)
        runner.run_raw(runner.data(CaseSpec(layer=layer, batch=2, timesteps=5, seed=1)))
    assert live_graphs() > before  # the traces exist while the runner holds them
    runner.release()
    assert live_graphs() <= before
