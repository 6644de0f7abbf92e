"""``rnn-parity check``: run a port against Keras on many examples and name what it gets wrong.

The harness chooses the examples: options the user fixes stay fixed, the rest
are drawn; weights stay well-conditioned (recurrent gain <= 1) so round-off
cannot drown a cause, biases are never zero, some inputs reach the
hard_sigmoid knees, and masks / initial states are used whenever the port
declares it accepts them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.case import CaseData, CaseSpec
from harness.compare import CaseResult, StepRecord, compare, error_result, summarize
from harness.diagnosis import Diagnosis, Example, Finding, diagnose, evaluate
from harness.generate import draw_examples
from harness.known_behaviours import runnable
from harness.targets import active
from harness.port import Port, PortCallError, comparable_spec
from harness.port_guard import HUNG, first_non_finite
from harness.reference import run_reference
from harness.runner import KerasRunner
from harness.spec import LayerSpec
from harness.strategies import case_specs, check_chunks, layer_specs
from hypothesis import strategies as st
from harness.tolerance import measure_floor

#: Well-conditioned data for diagnosis (see the tolerance rule).
CHECK_GAINS = (1.0, 0.5)
CHECK_INPUT_SCALES = (1.0, 3.0)


@dataclass(frozen=True)
class CheckOptions:
    kind: str
    fixed: Mapping[str, Any] = field(default_factory=dict)  # LayerSpec and CaseSpec fields the user fixed
    examples: int = 10
    seed: int = 0
    max_timesteps: int = 32
    max_batch: int = 4
    max_units: int = 16
    replay: tuple[str, ...] = ()  # case tokens: run exactly these examples instead of drawing

    def __post_init__(self) -> None:
        if self.examples < 1:
            raise ValueError(f"--examples must be >= 1, got {self.examples}")
        known = ({f.name for f in dataclasses.fields(LayerSpec)} | {f.name for f in dataclasses.fields(CaseSpec)}) - {"kind", "layer"}
        unknown = sorted(set(self.fixed) - known)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        layer_fixed = {k: v for k, v in self.fixed.items() if k in {f.name for f in dataclasses.fields(LayerSpec)}}
        probe = {"units": 1, "features": 1, **layer_fixed}
        if self.kind != "SimpleRNN":
            probe.setdefault("recurrent_activation", "sigmoid")
        LayerSpec(kind=self.kind, **probe)  # validates the fixed values early, naming the bad one


@dataclass
class ExampleOutcome:
    spec: CaseSpec
    result: CaseResult
    records: list[StepRecord]


@dataclass
class CheckReport:
    port: str
    verdict: str
    outcomes: list[ExampleOutcome]
    diagnosis: Diagnosis | None = None
    base_error: float = 0.0  # worst |port - keras| over the examples
    not_exercised: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # worth knowing, not errors (e.g. suppressed prints)
    seconds: float = 0.0
    diagnosis_seconds: float = 0.0

    command: str = ""  # the command line that ran this check (for replay lines)

    def replay_command(self, spec: CaseSpec) -> str:
        base = self.command or f"rnn-parity check {self.port}"
        return f"{base} --replay {spec.token()}"

    @property
    def first_divergence(self) -> dict | None:
        drifted = [o.result for o in self.outcomes if o.result.status == "drift"]
        if not drifted:
            return None
        first = min(drifted, key=lambda r: (r.first_t, r.first_tensor != "output"))
        return {"t": first.first_t, "tensor": first.first_tensor, "error": first.first_err,
                "tolerance": first.first_tolerance, "case_id": first.case_id}

    @property
    def errors(self) -> list[dict[str, str]]:
        """Every example the port failed on, with its one-line reason."""
        return [{"example": o.result.case_id, "reason": o.result.error or ""}
                for o in self.outcomes if o.result.status == "error"]

    @property
    def flags(self) -> list[str]:
        if self.verdict != "mismatch" or self.diagnosis is None:
            return []
        return self.diagnosis.flags()

    def to_json(self) -> dict[str, Any]:
        def finding(f: Finding, *, closest: bool = False) -> list[dict]:
            return [
                {"flag": p.flag if not closest else "unexplained",
                 "detail": p.detail if not closest else f"closest candidate (does NOT explain the port): {p.detail}",
                 "fix": p.fix, "residual": f.residual, "residual_over_tolerance": f.ratio}
                for p in f.hypothesis.parts
            ]

        diagnosis: list[dict] = []
        if self.verdict == "mismatch" and self.diagnosis is not None:
            for f in self.diagnosis.explained:
                diagnosis += finding(f)
            for f in self.diagnosis.closest:
                diagnosis += finding(f, closest=True)
        first = self.first_divergence
        return {
            "verdict": self.verdict,
            "flags": self.flags,
            "diagnosis": diagnosis,
            "ambiguous": bool(self.diagnosis and self.diagnosis.ambiguous),
            "first_divergence": None if first is None else {"t": first["t"], "tensor": first["tensor"]},
            "examples": len(self.outcomes),
            "base_error": self.base_error,
            "not_exercised": self.not_exercised,
            "error": self.error,
            "errors": self.errors,
            "notes": self.notes,
            "port": self.port,
            "seconds": round(self.seconds, 3),
            "diagnosis_seconds": round(self.diagnosis_seconds, 3),
            "hypotheses_searched": self.diagnosis.searched if self.diagnosis else 0,
        }


#: Distinct layer configurations per check: each costs a Keras build and trace (~0.5 s),
#: while more data per configuration is nearly free.
CHECK_LAYERS = 4


def _draw(port: Port, options: CheckOptions, *, seed: int, count: int) -> list[CaseSpec]:
    """``count`` examples over at most :data:`CHECK_LAYERS` drawn layer configurations."""
    layer_fields = {f.name for f in dataclasses.fields(LayerSpec)}
    fixed = dict(options.fixed)
    layer_fixed = {k: v for k, v in fixed.items() if k in layer_fields}
    case_fixed = {k: v for k, v in fixed.items() if k not in layer_fields}
    check_chunks(case_fixed, layer_fixed, options.max_timesteps)
    if not port.accepts_mask:
        case_fixed["mask"] = "none"
    if not port.accepts_initial_state:
        case_fixed["initial_state"] = False
    if not port.carries_state:
        case_fixed["chunks"] = 1
    layer_fixed.pop("kind", None)
    layers = draw_examples(layer_specs(kinds=[options.kind], max_units=options.max_units, **layer_fixed),
                           count=min(count, CHECK_LAYERS), seed=seed)
    strategy = case_specs(
        layers=st.sampled_from(layers),
        max_timesteps=options.max_timesteps,
        max_batch=options.max_batch,
        recurrent_gains=CHECK_GAINS,
        input_scales=CHECK_INPUT_SCALES,
        **case_fixed,
    )
    # Cases Keras on this target is known to fail on cannot judge a port (harness/known_behaviours.py).
    return runnable(draw_examples(strategy, count=count, seed=seed), active().name)


def _run_example(port: Port, spec: CaseSpec, runner: KerasRunner) -> tuple[ExampleOutcome, Example | None]:
    case_id, cell = spec.case_id(), spec.layer.kind
    data = spec.build()
    try:
        port_out = port.run(data, runner.layer_config(data))
    except PortCallError as exc:
        return ExampleOutcome(spec, error_result(case_id, cell, str(exc)), []), None
    compared = CaseData(spec=CaseSpec.from_dict({**spec.to_dict(), "layer": comparable_spec(port, spec.layer).to_dict()}),
                        weights=data.weights, x=data.x, mask=data.mask, initial_state=data.initial_state)
    reference = run_reference(compared)
    keras_out = runner.run(compared)
    noise = measure_floor(compared, reference)
    non_finite = first_non_finite(port_out, keras_out)
    if non_finite:
        return ExampleOutcome(spec, error_result(case_id, cell, non_finite), []), None
    try:
        records = compare(case_id, cell, port_out, keras_out, noise)
    except ValueError as exc:
        return ExampleOutcome(spec, error_result(case_id, cell, f"the port returned {exc}"), []), None
    outcome = ExampleOutcome(spec, summarize(case_id, cell, records, noise), records)
    return outcome, Example(data=compared, port=port_out, noise=noise)


def run_check(port: Port, options: CheckOptions, *, runner: KerasRunner | None = None) -> CheckReport:
    """Run ``port`` on ``options.examples`` drawn examples, then diagnose any mismatch."""
    start = time.perf_counter()
    runner = runner or KerasRunner()
    if options.replay:
        specs = [CaseSpec.from_token(token) for token in options.replay]
    else:
        specs = _draw(port, options, seed=options.seed, count=options.examples)
    outcomes, examples = [], []
    for spec in specs:
        outcome, example = _run_example(port, spec, runner)
        outcomes.append(outcome)
        if example is not None:
            examples.append(example)

    report = CheckReport(port=port.name, verdict="match", outcomes=outcomes, not_exercised=_not_exercised(port, specs))
    errors = [o for o in outcomes if o.result.status == "error"]
    report.base_error = max((o.result.worst_abs_err for o in outcomes if o.result.status != "error"), default=0.0)
    if errors:
        report.verdict = "error"
        not_run = sum(o.result.error == HUNG for o in errors)
        failed = len(errors) - not_run
        report.error = (f"{errors[0].result.error} (example {errors[0].spec.case_id()}; {failed} of {len(outcomes)} "
                        f"examples failed" + (f", {not_run} not run after the port hung" if not_run else "") + ")")
    elif any(o.result.status == "drift" for o in outcomes):
        report.verdict = "mismatch"
        started = time.perf_counter()
        report.diagnosis = diagnose(examples, with_mask=port.accepts_mask, with_initial_state=port.accepts_initial_state)
        if report.diagnosis.ambiguous:
            _disambiguate(report, port, options, runner)
        report.diagnosis_seconds = time.perf_counter() - started
    if port.guard.printed_lines:
        report.notes.append(f"the port printed {port.guard.printed_lines} line(s) (suppressed)")
    report.seconds = time.perf_counter() - start
    return report


def _disambiguate(report: CheckReport, port: Port, options: CheckOptions, runner: KerasRunner) -> None:
    """Several explanations fit equally: draw fresh inputs and keep those that still fit."""
    assert report.diagnosis is not None
    extra = _draw(port, options, seed=options.seed + 1_000_003, count=max(4, options.examples // 2))
    fresh = [ex for spec in extra for _, ex in [_run_example(port, spec, runner)] if ex is not None]
    if not fresh:
        return
    kept = [f for f in (evaluate(f.hypothesis, fresh, precise=True) for f in report.diagnosis.explained) if f.ratio <= 1.0]
    if kept:
        names = {f.hypothesis.conventions.describe() for f in kept}
        report.diagnosis.explained = [f for f in report.diagnosis.explained if f.hypothesis.conventions.describe() in names]
        report.diagnosis.ambiguous = len(report.diagnosis.explained) > 1


def _not_exercised(port: Port, specs: list[CaseSpec]) -> list[str]:
    missing = []
    if not port.accepts_mask:
        missing.append("masks (the port has no `mask` parameter)")
    if not port.accepts_initial_state:
        missing.append("initial_state (the port has no `initial_state` parameter)")
    if any(s.layer.stateful for s in specs) and not port.carries_state:
        missing += port.notes
    elif port.adapter in ("step", "stepper"):
        missing += port.notes
    return missing


def parse_layer_options(kind: str, pairs: list[str], config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``--set option=value`` and ``--config FILE`` into fixed LayerSpec/CaseSpec fields."""
    layer_fields = {f.name for f in dataclasses.fields(LayerSpec)}
    case_fields = {f.name for f in dataclasses.fields(CaseSpec)}
    fixed: dict[str, Any] = {}
    if config:
        parsed = LayerSpec.from_keras_config(kind, {**config, "units": config.get("units", 1)}, features=1)
        fixed.update({k: v for k, v in parsed.to_dict().items() if k in config and k not in ("kind", "features")})
        if "units" in config:
            fixed["units"] = int(config["units"])
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set {pair!r}: expected option=value")
        key, raw = (part.strip() for part in pair.split("=", 1))
        if key not in layer_fields and key not in case_fields or key in ("kind", "layer"):
            known = sorted((set(layer_fields) | set(case_fields)) - {"kind", "layer"})
            raise ValueError(f"--set {key}: unknown option; expected one of {', '.join(known)}")
        try:
            value = json.loads(raw.lower() if raw.lower() in ("true", "false", "null") else raw)
        except json.JSONDecodeError:
            value = raw
        fixed[key] = value
    return fixed
