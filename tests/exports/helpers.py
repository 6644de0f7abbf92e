"""Shared helpers for the export tests: small layers with asymmetric data.

Every array is random on its own (per-gate kernels, recurrent kernels and
non-zero biases), inputs have std 2 so gates leave their linear range.
"""

from __future__ import annotations

import numpy as np
import pytest

B, T, F, U = 2, 5, 3, 3


def need(*modules: str) -> None:
    for name in modules:
        pytest.importorskip(name, reason=f"{name} is not installed (pip install -e '.[onnx,litert]' or make test-exports)")


def need_exporter(exporter: str) -> None:
    need(*{"onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai_edge_litert",)}[exporter])


def make_layer(factory, features_shape=(F,), seed=0, batch=None):
    """``factory(keras.layers)`` built for ``(batch, None, *features_shape)`` with random per-array weights."""
    from harness.target.keras_env import import_keras

    keras = import_keras()
    layer = factory(keras.layers)
    layer.build((batch, None, *features_shape))
    rng = np.random.default_rng(seed)
    weights = []
    for w in layer.weights:
        path = getattr(w, "path", None) or w.name
        shape = tuple(w.shape)
        scale = 0.5 if "bias" in path else 1.0 / np.sqrt(max(1, int(np.prod(shape[:-1]))))
        weights.append(rng.normal(0.0, scale, shape).astype(np.float32))
    layer.set_weights(weights)
    return layer


def draw_inputs(seed=1, features_shape=(F,), mask=False, n_states=0, units=U):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((B, T, *features_shape)) * 2.0).astype(np.float32)
    m = None
    if mask:
        m = np.ones((B, T), bool)
        m[0, :2] = False
        m[1, 3] = False
    states = [rng.uniform(-0.9, 0.9, (B, units)).astype(np.float32) for _ in range(n_states)] or None
    return x, m, states


def keras_return(layer, x, mask=None, states=None):
    kwargs = {"mask": mask, "training": False}
    if states:
        kwargs["initial_state"] = states
    from harness.target.keras_env import import_keras

    return [np.asarray(o) for o in import_keras().tree.flatten(layer(x, **kwargs))]


def max_error(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
    return max(float(np.abs(g.astype(np.float64) - w).max()) for g, w in zip(got, want))
