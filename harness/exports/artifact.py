"""What every exported artifact offers: ``run``, ``contents``, ``versions``, ``log``."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from harness.exports.errors import ExportError, one_line
from harness.exports.wrap import Signature


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions (``"missing"`` when absent)."""
    out = {}
    for name in names:
        out[name] = "missing"
        for distribution in (name, f"{name}-cpu"):  # TensorFlow is installed as tensorflow-cpu on Linux x86-64
            try:
                out[name] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return out


@dataclass
class Artifact:
    """One exported layer, loaded in its runtime.

    Attributes:
        exporter: ``"onnx"`` or ``"litert"``.
        signature: the static shapes it was exported for (``run`` checks its arrays against them).
        contents: what the artifact holds: ``fused`` (the fused sequence op, e.g. ``"LSTM"``,
            or None), ``loop`` (``"Loop"``/``"WHILE"`` or None), ``ops`` (``{op type: count}``
            over every subgraph), and exporter-specific details (``fused_activations`` for ONNX,
            ``flex_ops`` for LiteRT, ``opset``).
        versions: converter and runtime versions (provenance).
        log: everything the converter and the runtime printed while exporting and loading.
        seconds: conversion time, wall clock (building the model, converting, loading).
        size_bytes: size of the serialized artifact.
    """

    exporter: str
    signature: Signature
    contents: dict[str, Any]
    versions: dict[str, str]
    log: str
    seconds: float
    size_bytes: int
    _runner: Callable[[dict[str, np.ndarray]], list[np.ndarray]] = field(repr=False)
    runs: int = 0

    def run(self, x: np.ndarray, mask: np.ndarray | None = None,
            initial_state: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        """The artifact's outputs for these inputs, in the Keras layer's return order ``[output, *states]``.

        ValueError (one line) if the arrays do not fit the exported static shapes; ExportError
        (one line) if the runtime fails."""
        feeds = self.signature.feeds(x, mask, initial_state)
        try:
            outputs = self._runner(feeds)
        except Exception as exc:  # noqa: BLE001 - a runtime failure is reported as one line
            raise ExportError(f"{self.exporter} runtime failed: {one_line(exc)}", exporter=self.exporter,
                              log=str(exc)) from None
        self.runs += 1
        return [np.asarray(o) for o in outputs]

    def describe(self) -> str:
        """One line: exporter, fused op or loop, op count."""
        shape = self.contents.get("fused") or self.contents.get("loop") or "no loop"
        kind = "fused" if self.contents.get("fused") else "loop"
        return (f"{self.exporter}: {kind} {shape}, {sum(self.contents.get('ops', {}).values())} ops, "
                f"{self.seconds:.1f}s to export")
