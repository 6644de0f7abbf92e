"""harness.target.fast_build: a layer built without its initializers is the same layer.

Same ``get_config()`` (the initializers are put back), the same variables (shapes,
dtypes, names, order), for every kind the runner builds; only the throw-away
initial values are zeros. Runs on the default target (the JAX runner uses it).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.target.fast_build import build_skipping_initializers
from harness.target.keras_env import import_keras


def layers(keras):
    return {
        "LSTM": (lambda: keras.layers.LSTM(5, unit_forget_bias=True), (None, None, 3)),
        "GRU": (lambda: keras.layers.GRU(4, reset_after=False), (None, None, 3)),
        "Bidirectional": (lambda: keras.layers.Bidirectional(keras.layers.SimpleRNN(3)), (None, None, 2)),
        "StackedRNN": (lambda: keras.layers.RNN([keras.layers.LSTMCell(2), keras.layers.GRUCell(3)]), (None, None, 2)),
        "ConvLSTM1D": (lambda: keras.layers.ConvLSTM1D(2, 3), (None, None, 6, 2)),
    }


def unnamed(config):
    """A config without its (auto-numbered) layer names."""
    if isinstance(config, dict):
        return {k: unnamed(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [unnamed(v) for v in config]
    return config


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "Bidirectional", "StackedRNN", "ConvLSTM1D"])
def test_a_layer_built_without_initializers_has_the_same_config_and_variables(kind):
    keras = import_keras()
    make, shape = layers(keras)[kind]
    normal, fast = make(), make()
    normal.build(shape)
    build_skipping_initializers(fast, shape, keras=keras)
    assert unnamed(fast.get_config()) == unnamed(normal.get_config())
    describe = lambda layer: [(tuple(v.shape), str(v.dtype), v.name) for v in layer.weights]
    assert describe(fast) == describe(normal)
    kernels = lambda layer: [np.asarray(v) for v in layer.weights if v.path.endswith("kernel")]
    assert not any(k.any() for k in kernels(fast))  # zeros: nothing was drawn (an LSTM's forget bias is still ones)
    assert all(k.any() for k in kernels(normal))
