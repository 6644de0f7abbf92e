"""Checking one case of any kind: Keras against the reference, with the case's own noise floor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.layers.case import CaseData, CaseSpec
from harness.oracle.compare import CaseResult, StepRecord, compare, error_result, summarize
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.tolerance import noise_floor
from harness.target.behaviours import explain_drift, explain_error
from harness.target.runner import KerasRunner
from harness.target.targets import active


@dataclass(frozen=True)
class CaseOutcome:
    spec: CaseSpec
    result: CaseResult
    records: list[StepRecord]


def check_data(data: CaseData, runner: KerasRunner, *, conventions: Any = KERAS_LAYER) -> CaseOutcome:
    """Compare Keras on ``data`` against the reference run with ``conventions``.

    With the default (Keras's) conventions this is the parity check; with any
    other value Keras is compared against a deliberately wrong reference (the
    meta-tests use that to prove a wrong implementation is caught). The
    tolerance is always Keras's own float32 noise on this case, measured on
    the Keras-convention reference: that is the computation Keras performs.
    """
    if not isinstance(conventions, LayerConventions):  # a cell's Conventions: the whole layer's, for the cell
        conventions = LayerConventions(cell=conventions)
    spec = data.spec
    case_id, kind = spec.case_id(), spec.kind
    try:
        layer = runner.layer(data)
        ref = layer_reference(data, layer)
        oracle, trace = run_reference(ref, data)
        expected = oracle if conventions.is_keras() else run_reference(
            layer_reference(data, layer, conventions=conventions), data)[0]
        keras_out = runner.run(data, ref)
        noise = noise_floor(ref, data, oracle, trace)
        records = compare(case_id, kind, keras_out, expected, noise)
    except Exception as exc:  # noqa: BLE001 - recorded, not swallowed: the sweep reports it
        return CaseOutcome(spec, explain_error(error_result(case_id, kind, f"{type(exc).__name__}: {exc}"),
                                               active().name, spec), [])
    result = summarize(case_id, kind, records, noise)
    if conventions.is_keras():  # another target's named behaviours (a no-op on tensorflow)
        result = explain_drift(result, data, layer, keras_out, active().name)
    return CaseOutcome(spec, result, records)


def check_case(spec: CaseSpec, runner: KerasRunner, *, conventions: Any = KERAS_LAYER) -> CaseOutcome:
    """Build ``spec``'s arrays and :func:`check_data` them.

    Never raises for a problem with the case itself: such a case becomes an
    ``error`` result with the reason, so one broken case never kills a sweep.
    """
    try:
        data = runner.data(spec)
    except Exception as exc:  # noqa: BLE001
        return CaseOutcome(spec, explain_error(error_result(spec.case_id(), spec.kind, f"{type(exc).__name__}: {exc}"),
                                               active().name, spec), [])
    return check_data(data, runner, conventions=conventions)
