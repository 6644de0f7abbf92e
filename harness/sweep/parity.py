"""Checking one case of any kind: Keras against the reference, with the case's own noise floor."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from harness.layers.case import CaseData, CaseSpec
from harness.messages import one_line
from harness.sweep.interrupts import raise_if_received
from harness.oracle.compare import CaseResult, StepRecord, compare, error_result, summarize
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from harness.oracle.group import ReferenceRun, group_references
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


@dataclass(frozen=True)
class Prepared:
    """A case's arrays, and its reference when its compile group computed it at once."""

    data: CaseData
    reference: ReferenceRun | None = None


def prepare_group(specs: Sequence[CaseSpec], runner: KerasRunner) -> list[Prepared | None]:
    """Each case's arrays and, for the SimpleRNN/LSTM/GRU cases, its reference and noise floor
    computed for the whole group in one stacked loop (:mod:`harness.oracle.group`). None where
    the arrays cannot be built, and no reference where the group path does not apply or fails:
    :func:`check_case` then does that case's work alone (and records its error, if any)."""
    datas: list[CaseData | None] = []
    for spec in specs:
        try:
            datas.append(runner.data(spec))
        except Exception:  # noqa: BLE001 - check_case records it
            datas.append(None)
    built = [d for d in datas if d is not None]
    try:
        runs = iter(group_references(built))
    except Exception:  # noqa: BLE001 - case by case instead, where the failing case gets its error
        runs = iter([None] * len(built))
    return [None if d is None else Prepared(d, next(runs)) for d in datas]


def check_data(data: CaseData, runner: KerasRunner, *, conventions: Any = KERAS_LAYER,
               reference: ReferenceRun | None = None) -> CaseOutcome:
    """Compare Keras on ``data`` against the reference run with ``conventions``.

    With the default (Keras's) conventions this is the parity check; with any
    other value Keras is compared against a deliberately wrong reference (the
    meta-tests use that to prove a wrong implementation is caught). The
    tolerance is always Keras's own float32 noise on this case, measured on
    the Keras-convention reference: that is the computation Keras performs.
    ``reference``: the case's float64 reference and floor already computed (:func:`prepare_group`).
    """
    if not isinstance(conventions, LayerConventions):  # a cell's Conventions: the whole layer's, for the cell
        conventions = LayerConventions(cell=conventions)
    spec = data.spec
    case_id, kind = spec.case_id(), spec.kind
    try:
        layer = runner.layer(data)
        ref = layer_reference(data, layer)
        if reference is not None:
            oracle, trace = reference.returned, reference.trace
        else:
            oracle, trace = run_reference(ref, data)
        expected = oracle if conventions.is_keras() else run_reference(
            layer_reference(data, layer, conventions=conventions), data)[0]
        keras_out = runner.run(data, ref)
        noise = reference.noise if reference is not None else noise_floor(ref, data, oracle, trace)
        records = compare(case_id, kind, keras_out, expected, noise)
    except Exception as exc:  # noqa: BLE001 - recorded, not swallowed: the sweep reports it
        return error_outcome(spec, exc)
    result = summarize(case_id, kind, records, noise)
    if conventions.is_keras():  # another target's named behaviours (a no-op on tensorflow)
        result = explain_drift(result, data, layer, keras_out, active().name)
    return CaseOutcome(spec, result, records)


def error_outcome(spec: CaseSpec, exc: Exception) -> CaseOutcome:
    """The case's ``error`` (``unsupported`` when the target is known to raise it), its message one line:
    the known behaviours match the whole text, the record files keep the line that says why.
    A Ctrl-C that TensorFlow turned into another exception is re-raised as the interrupt (:mod:`.interrupts`)."""
    raise_if_received(exc)
    text = f"{type(exc).__name__}: {exc}"
    result = explain_error(error_result(spec.case_id(), spec.kind, text), active().name, spec)
    if "\n" in text.strip():
        result = dataclasses.replace(result, error=f"{type(exc).__name__}: {one_line(exc)}")
    return CaseOutcome(spec, result, [])


def check_case(spec: CaseSpec, runner: KerasRunner, *, conventions: Any = KERAS_LAYER,
               prepared: Prepared | None = None) -> CaseOutcome:
    """Build ``spec``'s arrays (unless ``prepared`` by :func:`prepare_group`) and :func:`check_data` them.

    Never raises for a problem with the case itself: such a case becomes an
    ``error`` result with the reason, so one broken case never kills a sweep.
    """
    if prepared is not None:
        return check_data(prepared.data, runner, conventions=conventions,
                          reference=prepared.reference)
    try:
        data = runner.data(spec)
    except Exception as exc:  # noqa: BLE001
        return error_outcome(spec, exc)
    return check_data(data, runner, conventions=conventions)


def check_group(specs: Sequence[CaseSpec], runner: KerasRunner) -> list[CaseOutcome]:
    """:func:`check_case` for every case of one compile group, the references computed at once."""
    return [check_case(spec, runner, prepared=p) for spec, p in zip(specs, prepare_group(specs, runner))]
