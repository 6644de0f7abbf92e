"""ONNX: Keras's own ``model.export(format="onnx")`` (tf2onnx ``from_function``), run by onnxruntime.

Why that path and not ``tf2onnx.convert.from_keras``: it is what users ship with
Keras 3 on TensorFlow. ``export(format="onnx")`` traces the model into a
concrete function (ExportArchive), applies Keras's numpy-2 patch to tf2onnx
(``keras/src/export/tf2onnx_lib.py``) and calls ``tf2onnx.convert.from_function``
with the default opset. ``from_keras`` and the SavedModel CLI share the same
rewriters and gave the same graphs (docs/exports.md), without the patch.

tf2onnx does not raise on TensorFlow ops it cannot map: it logs
``Unsupported ops: Counter(...)`` and writes a model that onnxruntime cannot
load. That log line becomes :class:`ExportUnsupported`.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import numpy as np

from harness.exports.artifact import Artifact, package_versions
from harness.exports.errors import ExportError, ExportUnsupported, capture, one_line
from harness.exports.errors import with_exception as _with
from harness.exports.wrap import Signature, keras_export, zero_inputs

FUSED_OPS = ("LSTM", "GRU", "RNN")
LOOP_OPS = ("Loop", "Scan")
_UNSUPPORTED = (re.compile(r"Unsupported ops: .*"), re.compile(r"Tensorflow op \[.*\] is not supported"))


def available() -> str | None:
    """None if the ONNX exporter can run here, else what to install."""
    import importlib.util

    missing = [m for m in ("tf2onnx", "onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    return f"{', '.join(missing)} not installed (pip install -e '.[onnx]')" if missing else None


def export(layer: Any, sig: Signature) -> Artifact:
    converted = keras_export(layer, sig, exporter="onnx", available=available, filename="layer.onnx")
    text, failure, blob, start = converted.log, converted.failure, converted.blob, converted.started
    unsupported = _UNSUPPORTED[0].search(text) or _UNSUPPORTED[1].search(text)
    if unsupported:
        raise ExportUnsupported(f"tf2onnx: {unsupported.group(0)}", log=text, exporter="onnx")
    if failure is not None:
        raise ExportError(f"tf2onnx failed: {type(failure).__name__}: {one_line(failure)}",
                          log=_with(text, failure), exporter="onnx")
    with capture() as load_log:
        try:
            import onnx
            import onnxruntime as ort

            proto = onnx.load_model_from_string(blob)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(blob, sess_options=options, providers=["CPUExecutionProvider"])
            if {i.name for i in session.get_inputs()} == set(sig.input_names):
                session.run(None, dict(zip(sig.input_names, zero_inputs(sig))))  # a first run, inside the capture
            failure = None
        except Exception as exc:  # noqa: BLE001
            failure = exc
    text = "\n".join(p for p in (text, load_log.text) if p)
    if failure is not None:
        message = one_line(failure)
        cls = ExportUnsupported if re.search(r"NOT_IMPLEMENTED|Could not find an implementation|"
                                             r"No Op registered|not a registered function/op", str(failure)) else ExportError
        raise cls(f"onnxruntime cannot load the model: {message}", log=_with(text, failure), exporter="onnx")
    names = [o.name for o in session.get_outputs()]
    inputs = {i.name for i in session.get_inputs()}
    if inputs != set(sig.input_names):
        raise ExportError(f"the ONNX model's inputs are {sorted(inputs)}, expected {sig.input_names}", log=text,
                          exporter="onnx")

    def runner(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return session.run(names, feeds)  # graph output order = the concrete function's flattened outputs

    return Artifact(exporter="onnx", signature=sig, contents=contents(proto), log=text,
                    versions={**package_versions("keras", "tensorflow", "tf2onnx", "onnx", "onnxruntime",
                                                 "protobuf", "numpy"),
                              "opset": str(_opset(proto))},
                    seconds=time.perf_counter() - start, size_bytes=len(blob), _runner=runner)


def _opset(proto: Any) -> int | None:
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return None


def contents(proto: Any) -> dict[str, Any]:
    """Op counts over the graph and every subgraph (Loop bodies), the fused op and its activations."""
    import onnx

    ops: Counter[str] = Counter()
    fused: list[dict[str, Any]] = []

    def walk(graph: Any) -> None:
        for node in graph.node:
            ops[node.op_type] += 1
            if node.op_type in FUSED_OPS:
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                fused.append({
                    "op": node.op_type,
                    "direction": _text(attrs.get("direction", b"forward")),
                    "activations": [_text(a) for a in attrs.get("activations", [])],
                    "activation_alpha": [float(v) for v in attrs.get("activation_alpha", [])],
                    "activation_beta": [float(v) for v in attrs.get("activation_beta", [])],
                })
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        walk(g)

    walk(proto.graph)
    return {
        "fused": fused[0]["op"] if fused else None,
        "loop": next((op for op in LOOP_OPS if ops[op]), None),
        "ops": dict(sorted(ops.items())),
        "fused_activations": fused,
        "opset": _opset(proto),
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
