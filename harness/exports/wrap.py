"""Wrapping one built Keras layer in a small functional model with static shapes.

The exported model's inputs are, in this order and with these names:
``x`` ``(B, T, *features_shape)`` float32, ``mask`` ``(B, T)`` bool (when
``with_mask``; it feeds the layer's ``mask=`` argument explicitly, because
Keras drops an automatic mask when ``initial_state`` is passed), then
``state_0``, ``state_1``, ... float32 (the ``initial_state`` list). Its
outputs are the layer's return, flattened with ``keras.tree.flatten``: ``[output, *states]``
(RNN over stacked cells: ``[output, h1, h2, c2, ...]``).

Shapes are static on purpose: a dynamic batch or time dimension leaves
``FlexTensorListReserve`` in a LiteRT model, which the runtime cannot run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from harness.exports.errors import ExportUnsupported, capture


@dataclass(frozen=True)
class Signature:
    """The static input shapes of one export (part of the cache key)."""

    batch: int
    timesteps: int
    features_shape: tuple[int, ...]
    with_mask: bool
    initial_state_shapes: tuple[tuple[int, ...], ...] | None

    @classmethod
    def make(cls, *, batch: int, timesteps: int, features_shape: Sequence[int], with_mask: bool,
             initial_state_shapes: Sequence[Sequence[int]] | None) -> "Signature":
        if int(batch) < 1 or int(timesteps) < 1:
            raise ValueError(f"batch and timesteps must be >= 1 (static shapes), got batch={batch} timesteps={timesteps}")
        features = tuple(int(d) for d in features_shape)
        if not features or any(d < 1 for d in features):
            raise ValueError(f"features_shape must be a non-empty tuple of positive sizes, got {features_shape!r}")
        states = None
        if initial_state_shapes:
            states = tuple(tuple(int(d) for d in s) for s in initial_state_shapes)
            for s in states:
                if not s or s[0] != int(batch):
                    raise ValueError(f"every initial state shape must start with the batch size {batch}, got {s}")
        return cls(int(batch), int(timesteps), features, bool(with_mask), states)

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (self.batch, self.timesteps, *self.features_shape)

    @property
    def input_names(self) -> list[str]:
        names = ["x"] + (["mask"] if self.with_mask else [])
        return names + [f"state_{i}" for i in range(len(self.initial_state_shapes or ()))]

    def feeds(self, x: np.ndarray, mask: np.ndarray | None, initial_state: Sequence[np.ndarray] | None) -> dict[str, np.ndarray]:
        """``{input name: array}`` for a run, checked against the static shapes (ValueError, one line)."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape != self.x_shape:
            raise ValueError(f"x has shape {x.shape}; this artifact was exported for {self.x_shape}")
        feeds = {"x": np.ascontiguousarray(x)}
        if self.with_mask:
            if mask is None:
                raise ValueError("this artifact was exported with a mask input; pass mask=")
            m = np.asarray(mask).astype(bool)
            if m.shape != (self.batch, self.timesteps):
                raise ValueError(f"mask has shape {m.shape}; expected {(self.batch, self.timesteps)}")
            feeds["mask"] = np.ascontiguousarray(m)
        elif mask is not None:
            raise ValueError("this artifact was exported without a mask input (with_mask=False); mask must be None")
        wanted = self.initial_state_shapes or ()
        given = list(initial_state or [])
        if len(given) != len(wanted):
            raise ValueError(f"this artifact takes {len(wanted)} initial state array(s); got {len(given)}")
        for i, (arr, shape) in enumerate(zip(given, wanted)):
            arr = np.asarray(arr, dtype=np.float32)
            if arr.shape != shape:
                raise ValueError(f"initial_state[{i}] has shape {arr.shape}; expected {shape}")
            feeds[f"state_{i}"] = np.ascontiguousarray(arr)
        return feeds


def check_layer(layer: Any) -> None:
    """ExportUnsupported for layers no artifact can reproduce; the Keras backend must be TensorFlow."""
    from harness.target.keras_env import import_keras

    keras = import_keras()
    major = int(str(getattr(keras, "__version__", "0")).split(".")[0] or 0)
    if major < 3 or keras.backend.backend() != "tensorflow":
        name = getattr(keras, "__name__", "keras")
        raise ExportUnsupported(
            f"exports need Keras 3 on the TensorFlow backend (this process runs {name} "
            f"{getattr(keras, '__version__', '?')} / {keras.backend.backend()})")
    if not getattr(layer, "built", False):
        raise ValueError("export_layer needs a built layer with its weights set (call layer.build(...) first)")
    if getattr(layer, "stateful", False):
        raise ExportUnsupported("stateful layers keep state between calls; an exported artifact has none "
                                "(export the layer with stateful=False)")


def build_model(layer: Any, sig: Signature) -> Any:
    """A functional model around ``layer`` with static inputs, called once (the ONNX export needs that)."""
    from harness.target.keras_env import import_keras

    keras = import_keras()
    x_in = keras.Input(shape=sig.x_shape[1:], batch_size=sig.batch, name="x", dtype="float32")
    inputs = [x_in]
    kwargs: dict[str, Any] = {}
    if sig.with_mask:
        m_in = keras.Input(shape=(sig.timesteps,), batch_size=sig.batch, name="mask", dtype="bool")
        inputs.append(m_in)
        kwargs["mask"] = m_in
    if sig.initial_state_shapes:
        states = [keras.Input(shape=s[1:], batch_size=sig.batch, name=f"state_{i}", dtype="float32")
                  for i, s in enumerate(sig.initial_state_shapes)]
        inputs += states
        cells = getattr(getattr(layer, "cell", None), "cells", None)
        if cells is not None:  # RNN over stacked cells takes one list of states per cell
            sizes = [len(c.state_size) if isinstance(c.state_size, (list, tuple)) else 1 for c in cells]
            edges = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
            kwargs["initial_state"] = [states[a:b] for a, b in zip(edges[:-1], edges[1:])]
        else:
            kwargs["initial_state"] = states
    # Flat outputs: RNN over stacked cells returns nested states ([output, [h1], [h2, c2]]), which a
    # SavedModel signature (the LiteRT path) refuses. The artifact returns keras.tree.flatten of the return.
    outputs = keras.tree.flatten(layer(x_in, **kwargs))
    model = keras.Model(inputs, outputs, name="rnn_parity_export")
    model(zero_inputs(sig))  # the ONNX export refuses a model that was never called
    return model


def zero_inputs(sig: Signature) -> list[np.ndarray]:
    arrays = [np.zeros(sig.x_shape, np.float32)]
    if sig.with_mask:
        arrays.append(np.ones((sig.batch, sig.timesteps), bool))
    arrays += [np.zeros(s, np.float32) for s in sig.initial_state_shapes or ()]
    return arrays


def tensor_specs(sig: Signature) -> list[Any]:
    """``tf.TensorSpec`` per input, named as :attr:`Signature.input_names`."""
    from harness.target.keras_env import import_tensorflow

    tf = import_tensorflow()
    specs = [tf.TensorSpec(sig.x_shape, tf.float32, name="x")]
    if sig.with_mask:
        specs.append(tf.TensorSpec((sig.batch, sig.timesteps), tf.bool, name="mask"))
    specs += [tf.TensorSpec(s, tf.float32, name=f"state_{i}") for i, s in enumerate(sig.initial_state_shapes or ())]
    return specs


def layer_key(layer: Any) -> tuple[str, str]:
    """(config, weights digest) of a layer: its ``get_config()`` without the name, and a hash of its weights."""
    with warnings.catch_warnings():  # Keras warns when it serializes a lambda (it keeps its code: good for a key)
        warnings.simplefilter("ignore")
        config = dict(layer.get_config())
    config.pop("name", None)
    text = type(layer).__module__ + "." + type(layer).__qualname__ + json.dumps(config, sort_keys=True, default=repr)
    digest = hashlib.sha256()
    for w in layer.get_weights():
        w = np.ascontiguousarray(w)
        digest.update(f"{w.dtype}{w.shape}".encode())
        digest.update(w.tobytes())
    return text, digest.hexdigest()


@dataclass
class Converted:
    """What :func:`keras_export` produced: the serialized artifact (empty on failure), everything
    printed while converting, the converter's exception (None on success), when the export started."""

    blob: bytes
    log: str
    failure: Exception | None
    started: float


def keras_export(layer: Any, sig: Signature, *, exporter: str, available: Callable[[], str | None],
                 filename: str) -> Converted:
    """The start every exporter shares: refuse if its extra is missing, then wrap ``layer`` in its
    static-shape model (:func:`build_model`) and run Keras's ``model.export(format=exporter)`` in a
    temporary directory (always removed), capturing every output. The converter's exception is
    returned, not raised: the exporter classifies it once the log is complete."""
    missing = available()
    if missing:
        raise ExportUnsupported(f"{exporter} exporter unavailable: {missing}", exporter=exporter)
    started = time.perf_counter()
    failure: Exception | None = None
    blob = b""
    with tempfile.TemporaryDirectory(prefix=f"rnn-parity-{exporter}-") as tmp, capture() as log:
        path = os.path.join(tmp, filename)
        try:
            model = build_model(layer, sig)
            model.export(path, format=exporter, input_signature=[tensor_specs(sig)], verbose=False)
            with open(path, "rb") as f:
                blob = f.read()
        except Exception as exc:  # noqa: BLE001 - classified by the exporter, once the log is complete
            failure = exc
    return Converted(blob=blob, log=log.text, failure=failure, started=started)
