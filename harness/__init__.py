"""rnn-parity: parity testing for Keras recurrent layers.

The public facade. Names load on first use, so ``import harness`` (and the
pytest plugin) costs almost nothing; the pipeline behind it is, in dependency
order: ``layers`` (specs, cases, strategies) -> ``oracle`` (the reference entry,
noise floor, comparator) -> ``ports`` (the port protocol) -> ``target`` (real
Keras on a backend) -> ``check`` / ``sweep`` -> ``reporting`` -> ``cli``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "assert_port_matches": "harness.api",
    "check_port": "harness.api",
    "CaseData": "harness.layers.case",
    "CaseSpec": "harness.layers.case",
    "CellSpec": "harness.layers.cell",
    "CompositeSpec": "harness.layers.composite",
    "CaseResult": "harness.oracle.compare",
    "StepRecord": "harness.oracle.compare",
    "compare": "harness.oracle.compare",
    "records_frame": "harness.oracle.compare",
    "summarize": "harness.oracle.compare",
    "RnnParityError": "harness.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
