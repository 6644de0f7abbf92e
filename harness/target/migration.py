"""Keras 2 -> Keras 3 migration: loading a Keras 2 file and measuring what silently changes.

A model saved by Keras 2 (tf_keras, tf.keras 2.x) loads into Keras 3 with
the same weights, but ``"hard_sigmoid"`` now means ``clip(x/6 + 0.5)``
instead of ``clip(0.2x + 0.5)`` and nothing remaps it
(``../shared/keras-rnn-semantics.md`` §2.1; the ``keras2-hard-sigmoid``
behaviour in :mod:`harness.target.behaviours`). The outputs change at every
step, with no error and no warning. :func:`hard_sigmoid_drift` measures that
change per timestep on the layer's real inputs: the reference run with the
Keras 3 formula against the reference run with the Keras 2 one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from reference_cells.activations import KERAS2_HARD_SIGMOID

#: Config keys tf_keras writes that Keras 3 layers reject (``Unrecognized keyword arguments``).
KERAS2_ONLY_KEYS = ("time_major",)


def saved_keras_version(path: Path) -> str | None:
    """The Keras version recorded in a ``.h5`` (attribute) or ``.keras`` (metadata.json) file."""
    path = Path(path)
    try:
        if path.suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as handle:
                value = handle.attrs.get("keras_version")
            return value.decode() if isinstance(value, bytes) else value
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("metadata.json")).get("keras_version")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return None


def is_keras2_file(path: Path) -> bool:
    version = saved_keras_version(path)
    return bool(version) and version.split(".")[0] == "2"


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in KERAS2_ONLY_KEYS}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def load_keras2_h5(keras: Any, path: Path, *, safe_mode: bool = True):
    """Load a Keras 2 ``.h5`` model in Keras 3 after dropping the Keras-2-only config keys.

    This is what a migration does by hand; the numbers are then Keras 3's. The
    file is not modified: a stripped copy in a temporary directory is loaded."""
    import shutil
    import tempfile

    import h5py

    with tempfile.TemporaryDirectory(prefix="rnn-parity-keras2-") as tmp:
        copy = Path(tmp) / Path(path).name
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as handle:
            raw = handle.attrs["model_config"]
            config = _strip(json.loads(raw.decode() if isinstance(raw, bytes) else raw))
            handle.attrs["model_config"] = json.dumps(config)
        return keras.saving.load_model(copy, safe_mode=safe_mode, compile=False)


def uses_hard_sigmoid(layer: Any) -> bool:
    """Whether the layer (or a wrapped layer / cell) has a hard_sigmoid activation."""
    parts = [layer, getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None),
             getattr(layer, "cell", None), *getattr(getattr(layer, "cell", None), "cells", [])]
    for part in parts:
        if part is None or not hasattr(part, "get_config"):
            continue
        config = part.get_config()
        if "hard_sigmoid" in (config.get("activation"), config.get("recurrent_activation")):
            return True
    return False


def hard_sigmoid_drift(layer: Any, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Per-timestep max |Keras 3 - Keras 2| of the layer's per-step outputs on ``x``, or None.

    Both sides are the float64 reference on the same weights and inputs; they
    differ only in the hard_sigmoid formula. Tensors returned once (last
    output, states) count at the last step."""
    from harness.oracle.references import reference_for

    if not uses_hard_sigmoid(layer):
        return None
    keras3 = reference_for(layer)
    keras2 = reference_for(layer, renames={"hard_sigmoid": KERAS2_HARD_SIGMOID})
    if keras3 is None or keras2 is None:
        return None
    weights = [np.asarray(w) for w in layer.get_weights()]
    steps = x.shape[1]
    a = keras3.named(keras3.run(weights, x, mask, np.dtype(np.float64)), timesteps=steps)
    b = keras2.named(keras2.run(weights, x, mask, np.dtype(np.float64)), timesteps=steps)
    per_t = np.zeros(steps)
    for name, tensor in a.items():
        diff = np.abs(tensor.values - b[name].values).max(axis=(0, 2))
        np.maximum.at(per_t, tensor.steps, diff)
    return per_t
