"""Building a layer without running its weight initializers.

Every case loads its own weights (``set_weights``) into the layer it runs on, so
the values a layer's initializers draw at build time are thrown away unused. On
JAX they are not cheap: each initializer (glorot_uniform, orthogonal's QR, ...)
is an eager op that XLA compiles per shape, ~0.6 s per LSTM built (measured:
0.62-0.70 s against 0.035 s with the initializers skipped), more than the
layer's own jitted call costs to compile. On TensorFlow a build costs ~5 ms
either way, so :func:`harness.target.backends.build_layer` skips them on JAX only.

:func:`build_skipping_initializers` swaps every ``*_initializer`` of the layer
and its sublayers (cells, Bidirectional halves, stacked cells) for
:class:`Unused` while the layer builds, then puts the originals back, so
``get_config()`` is unchanged. Shapes, dtypes and variable paths are those of a
normal build; only the throw-away initial values differ (zeros).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def build_skipping_initializers(layer: Any, input_shape: tuple, *, keras: Any) -> None:
    """``layer.build(input_shape)`` with zeros in place of the initializers' draws."""

    class Unused(keras.initializers.Initializer):
        """Zeros from NumPy: no backend op, nothing to compile."""

        def __call__(self, shape, dtype=None):
            return np.zeros(shape, dtype=np.dtype(dtype or "float32"))

    unused = Unused()
    swapped = []
    for sublayer in layer._flatten_layers(include_self=True, recursive=True):
        for name, value in list(vars(sublayer).items()):
            if name.endswith("_initializer") and isinstance(value, keras.initializers.Initializer):
                swapped.append((sublayer, name, value))
                setattr(sublayer, name, unused)
    try:
        layer.build(input_shape)
    finally:
        for sublayer, name, value in swapped:
            setattr(sublayer, name, value)
