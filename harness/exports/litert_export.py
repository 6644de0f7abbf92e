"""LiteRT (TFLite): Keras's own ``model.export(format="litert")`` with a static signature, run by ai-edge-litert.

``export(format="litert")`` goes ExportArchive -> SavedModel ->
``tf.lite.TFLiteConverter.from_saved_model`` with ``SELECT_TF_OPS`` allowed.
With Keras's default signature (batch=None) the recurrent while-loop keeps a
``FlexTensorListReserve`` op, which ai-edge-litert has no delegate for; with
the static ``(B, T, ...)`` signature given here every op is a builtin.

Because Select TF ops are allowed, the converter rarely refuses: what it
cannot lower becomes a Flex op. So a model with Flex ops that the runtime
refuses is :class:`ExportUnsupported` (naming the Flex ops), as is a
``ConverterError``; anything else is :class:`ExportError`.

Inputs and outputs are matched by name (the signature runner's ``x``,
``mask``, ``state_i`` and ``output_0``, ``output_1``...): LiteRT does not keep
Keras's order.
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

FUSED_OPS = ("UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_RNN",
             "BIDIRECTIONAL_SEQUENCE_RNN")
_OUTPUT = re.compile(r"^output_(\d+)$")


def available() -> str | None:
    import importlib.util

    return None if importlib.util.find_spec("ai_edge_litert") else "ai-edge-litert not installed (pip install -e '.[litert]')"


def export(layer: Any, sig: Signature) -> Artifact:
    converted = keras_export(layer, sig, exporter="litert", available=available, filename="layer.tflite")
    text, failure, blob, start = converted.log, converted.failure, converted.blob, converted.started
    if failure is not None:
        cls = ExportUnsupported if type(failure).__name__ == "ConverterError" else ExportError
        raise cls(f"TFLite converter: {one_line(failure)}", log=_with(text, failure), exporter="litert")
    try:
        found = contents(blob)
    except Exception as exc:  # noqa: BLE001
        raise ExportError(f"the .tflite file cannot be parsed: {one_line(exc)}", log=_with(text, exc),
                          exporter="litert") from None
    with capture() as load_log:
        try:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_content=blob, num_threads=1)
            runner = interpreter.get_signature_runner()
            input_names = set(runner.get_input_details())
            output_names = list(runner.get_output_details())
            if input_names == set(sig.input_names):
                runner(**dict(zip(sig.input_names, zero_inputs(sig))))  # first invoke: delegates, kernels
            failure = None
        except Exception as exc:  # noqa: BLE001
            failure = exc
    text = "\n".join(p for p in (text, load_log.text) if p)
    if failure is not None:
        if found["flex_ops"]:
            raise ExportUnsupported(
                f"LiteRT cannot run Flex op(s) {', '.join(found['flex_ops'])}: {one_line(failure)}",
                log=_with(text, failure), exporter="litert")
        raise ExportError(f"LiteRT cannot load the model: {one_line(failure)}", log=_with(text, failure),
                          exporter="litert")
    if input_names != set(sig.input_names):
        raise ExportError(f"the LiteRT signature's inputs are {sorted(input_names)}, expected {sig.input_names}",
                          log=text, exporter="litert")
    order = _output_order(output_names)

    def run(feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        out = runner(**feeds)
        return [np.array(out[name]) for name in order]

    return Artifact(exporter="litert", signature=sig, contents=found, log=text,
                    versions=package_versions("keras", "tensorflow", "ai-edge-litert", "numpy"),
                    seconds=time.perf_counter() - start, size_bytes=len(blob), _runner=run)


def _output_order(names: list[str]) -> list[str]:
    """``output_0, output_1, ...`` in numeric order (``output_10`` after ``output_9``), the Keras return order."""
    numbered = {}
    for name in names:
        m = _OUTPUT.match(name)
        if not m:
            raise ExportError(f"unexpected LiteRT output name {name!r} (expected output_<i>)", exporter="litert")
        numbered[int(m.group(1))] = name
    if sorted(numbered) != list(range(len(names))):
        raise ExportError(f"LiteRT outputs {sorted(names)} are not output_0..output_{len(names) - 1}",
                          exporter="litert")
    return [numbered[i] for i in range(len(names))]


def contents(blob: bytes) -> dict[str, Any]:
    """Op counts over every subgraph (WHILE bodies included), the fused op, and the Flex ops."""
    from ai_edge_litert import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}
    model = schema.Model.GetRootAsModel(blob, 0) if hasattr(schema.Model, "GetRootAsModel") else schema.Model.GetRootAs(blob, 0)
    ops: Counter[str] = Counter()
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        for i in range(graph.OperatorsLength()):
            code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin == schema.BuiltinOperator.CUSTOM:
                name = (code.CustomCode() or b"CUSTOM").decode()
            else:
                name = names.get(builtin, f"BUILTIN_{builtin}")
            ops[name] += 1
    fused = next((op for op in FUSED_OPS if ops[op]), None)
    return {
        "fused": fused,
        "loop": "WHILE" if ops["WHILE"] else None,
        "ops": dict(sorted(ops.items())),
        "flex_ops": sorted(op for op in ops if op.startswith("Flex")),
        "subgraphs": model.SubgraphsLength(),
    }
