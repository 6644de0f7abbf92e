"""Exporting a Keras recurrent layer with a real converter and running the artifact.

People ship exports: ONNX (tf2onnx, which is what Keras 3's own
``model.export(format="onnx")`` runs on the TensorFlow backend) and LiteRT
(TFLite). This package turns one built Keras layer, with its weights set,
into a runnable artifact, so an export can be checked per timestep against
Keras exactly like a port::

    from harness.exports import EXPORTERS, ExportCache, export_layer, ExportUnsupported, ExportError

    artifact = export_layer(layer, "onnx", batch=2, timesteps=8, features_shape=(3,),
                            with_mask=True, initial_state_shapes=[(2, 4), (2, 4)])
    output, h, c = artifact.run(x, mask=mask, initial_state=[h0, c0])   # Keras's return order
    artifact.contents   # {"fused": "LSTM" | None, "loop": "Loop" | None, "ops": {...}, ...}
    artifact.versions   # {"tf2onnx": "1.17.0", "onnxruntime": "1.32.0", ..., "opset": "15"}
    artifact.log        # everything the converter printed (Python logging, warnings, C++ stderr)

``export_layer(layer, exporter, *, batch, timesteps, features_shape, with_mask=False,
initial_state_shapes=None, cache=None) -> Artifact``

- ``layer``: a built Keras 3 layer (TensorFlow backend) with its weights set:
  SimpleRNN/LSTM/GRU, RNN over (stacked) cells, Bidirectional, ConvLSTM1D/2D/3D.
- ``exporter``: a key of :data:`EXPORTERS` (``"onnx"``, ``"litert"``).
- The layer is wrapped in a functional model whose inputs are ``x``
  ``(batch, timesteps, *features_shape)``, then ``mask`` ``(batch, timesteps)``
  bool if ``with_mask`` (fed to ``mask=``), then ``state_0, state_1, ...`` with
  ``initial_state_shapes`` (fed to ``initial_state=``). All shapes are static:
  a dynamic batch leaves Flex ops in LiteRT that cannot run. The model is
  called once, then exported with Keras's own ``model.export`` (ONNX:
  tf2onnx ``from_function``; LiteRT: ``TFLiteConverter.from_saved_model``) with
  that static signature. See ``docs/exports.md`` for why these paths.
- ``cache``: an :class:`ExportCache`; several draws with the same layer config,
  weights, shapes and exporter then share one conversion (failures too).

``Artifact.run(x, mask=None, initial_state=None) -> list[np.ndarray]`` returns
``keras.tree.flatten`` of what the layer returns: ``[output, *states]`` (just
``[output]`` without ``return_state``; RNN over stacked cells, whose states are
nested, gives ``[output, h1, h2, c2, ...]``). Arrays that do not match the
exported shapes raise ``ValueError``.

Failures never show a traceback: :class:`ExportUnsupported` (the converter
refuses, or the artifact holds ops the runtime cannot run: Flex ops,
unmapped TensorFlow ops, a stateful layer, a non-TensorFlow backend) and
:class:`ExportError` (converter crash, artifact that fails to load or run)
carry the tool's own reason as one line in ``str(exc)`` and the full captured
output in ``exc.log``. Both derive from :class:`ExportFailure`.

Every conversion works in a temporary directory that is removed afterwards;
the artifact is kept in memory by its runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from harness.exports import litert_export, onnx_export
from harness.exports.artifact import Artifact
from harness.exports.cache import ExportCache
from harness.exports.errors import ExportError, ExportFailure, ExportUnsupported
from harness.exports.wrap import Signature, check_layer, layer_key


@dataclass(frozen=True)
class Exporter:
    name: str
    title: str
    #: None if usable here, else a one-line hint of what to install.
    available: Callable[[], str | None]
    export: Callable[[Any, Signature], Artifact]


EXPORTERS: dict[str, Exporter] = {
    "onnx": Exporter("onnx", "ONNX via Keras export(format='onnx') = tf2onnx, run by onnxruntime",
                     onnx_export.available, onnx_export.export),
    "litert": Exporter("litert", "LiteRT via Keras export(format='litert'), static signature, run by ai-edge-litert",
                       litert_export.available, litert_export.export),
}


def export_layer(layer: Any, exporter: str, *, batch: int, timesteps: int, features_shape: Sequence[int],
                 with_mask: bool = False, initial_state_shapes: Sequence[Sequence[int]] | None = None,
                 cache: ExportCache | None = None) -> Artifact:
    """Export ``layer`` with ``exporter`` for these static shapes and load the artifact (see the module doc)."""
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter={exporter!r} is not one of {', '.join(EXPORTERS)}")
    sig = Signature.make(batch=batch, timesteps=timesteps, features_shape=features_shape, with_mask=with_mask,
                         initial_state_shapes=initial_state_shapes)
    check_layer(layer)
    chosen = EXPORTERS[exporter]

    def make() -> Artifact:
        return chosen.export(layer, sig)

    if cache is None:
        return make()
    return cache.get((exporter, *layer_key(layer), sig), make)


__all__ = ["EXPORTERS", "Artifact", "ExportCache", "ExportError", "ExportFailure", "ExportUnsupported", "Exporter",
           "Signature", "export_layer"]
