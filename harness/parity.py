"""Checking one case: Keras against the reference, with its own noise floor."""

from __future__ import annotations

from dataclasses import dataclass

from harness.case import CaseData, CaseSpec
from harness.compare import CaseResult, StepRecord, compare, error_result, summarize
from harness.known_behaviours import explain_drift, explain_error
from harness.reference import run_reference, run_reference_and_trace
from harness.runner import KerasRunner
from harness.targets import active
from harness.tolerance import measure_floor
from reference_cells import KERAS, Conventions


@dataclass(frozen=True)
class CaseOutcome:
    spec: CaseSpec
    result: CaseResult
    records: list[StepRecord]


def check_data(data: CaseData, runner: KerasRunner, *, conventions: Conventions = KERAS) -> CaseOutcome:
    """Compare Keras on ``data`` against the reference run with ``conventions``.

    With the default :data:`KERAS` conventions this is the parity check; with
    any other value Keras is compared against a deliberately wrong reference
    (the meta-tests use that to prove a wrong implementation is caught). The
    tolerance is always Keras's own float32 noise on this case, measured on
    the Keras-convention reference: that is the computation Keras performs.
    """
    spec = data.spec
    case_id, cell = spec.case_id(), spec.layer.kind
    try:
        oracle, trace = run_reference_and_trace(data)
        expected = oracle if conventions.is_keras() else run_reference(data, conventions=conventions)
        keras_out = runner.run(data)
        noise = measure_floor(data, oracle, trace=trace)
        records = compare(case_id, cell, keras_out, expected, noise)
    except Exception as exc:  # noqa: BLE001 - recorded, not swallowed: the sweep reports it
        return CaseOutcome(spec, explain_error(error_result(case_id, cell, f"{type(exc).__name__}: {exc}"),
                                               active().name, spec), [])
    result = summarize(case_id, cell, records, noise)
    if conventions.is_keras():  # another target's named behaviours (a no-op on tensorflow)
        result = explain_drift(result, data, keras_out, active().name)
    return CaseOutcome(spec, result, records)


def check_case(spec: CaseSpec, runner: KerasRunner, *, conventions: Conventions = KERAS) -> CaseOutcome:
    """Build ``spec``'s arrays and :func:`check_data` them.

    Never raises for a problem with the case itself: such a case becomes an
    ``error`` result with the reason, so one broken case never kills a sweep.
    """
    try:
        data = spec.build()
    except Exception as exc:  # noqa: BLE001
        return CaseOutcome(spec, error_result(spec.case_id(), spec.layer.kind, f"{type(exc).__name__}: {exc}"), [])
    return check_data(data, runner, conventions=conventions)
