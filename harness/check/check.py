"""``rnn-parity check``: run a port against Keras on many examples and name what it gets wrong.

One loop for every layer kind (SimpleRNN/LSTM/GRU and the composites
Bidirectional, StackedRNN, ConvLSTM1D/2D/3D). The harness chooses the
examples: options the user fixes stay fixed, the rest are drawn; weights stay
well-conditioned (recurrent gain <= 1, weight scale <= 1) so round-off cannot
drown a cause, biases are never zero, some inputs reach the hard_sigmoid
knees, and masks / initial states / stateful chunks are used whenever the
port declares it accepts them. Each example: the port, Keras, the reference
and its noise floor (:func:`run_example`); a mismatch is then diagnosed
(:func:`harness.check.diagnosis.diagnose`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from hypothesis import strategies as st

from harness.check.conditions import (MAX_TESTED, CauseGroup, Condition, facts, negate_spec, partition, separators,
                                      shared_facts,
                                      try_condition)
from harness.check.coverage import BALANCED_VALUES, DATA_VALUES, balance, balance_data
from harness.check.diagnosis import Diagnosis, Example, Finding, diagnose, evaluate
from harness.check.precision import gridded, off_grid_hint, undeclared_precision
from harness.errors import PortCallError, PortUnsupported, UsageError
from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.composite import COMPOSITE_KINDS, OPTIONS, check_layers, validate_options
from harness.layers.generate import draw_examples
from harness.layers.strategies import UNROLL_MAX_TIMESTEPS, case_specs, check_chunks, layer_specs
from harness.layers.tensors import concat_chunks
from harness.oracle.conventions import LayerConventions
from harness.oracle.compare import abs_diff, CaseResult, StepRecord, compare, error_result, shared_non_finite, summarize
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.references import flatten
from harness.oracle.tolerance import noise_floor
from harness.ports.guard import HUNG, first_non_finite
from harness.ports.port import Port, comparable_spec
from harness.target.behaviours import drop_known_crashes, known_crashes
from harness.target.runner import KerasRunner
from harness.target.targets import active
from reference_cells.layer_config import CELL_KINDS
from reference_cells.precision import FLOAT32, Precision, parse_precision

KINDS = CELL_KINDS + COMPOSITE_KINDS
#: Well-conditioned data for diagnosis (see the tolerance rule).
CHECK_GAINS = (1.0, 0.5)
CHECK_INPUT_SCALES = (1.0, 3.0)
#: Shortest drawn sequence (unless --set timesteps; composites draw 4 too): one step cannot show a recurrence, an initial
#: state's decay, go_backwards or a mask rule, and Hypothesis draws it for a third of the examples.
CHECK_MIN_TIMESTEPS = 4
#: Composite layers: weights ~ N(0, scale^2 / fan_in) (a CaseSpec's kernel_scale).
CHECK_WEIGHT_SCALES = (1.0, 0.5)
_CELL_FIELDS = {f.name for f in dataclasses.fields(CellSpec)} - {"kind"}
_CASE_FIELDS = {f.name for f in dataclasses.fields(CaseSpec)} - {"layer"}
#: Data options a composite check may fix (``weight_scale`` is the composite name of kernel_scale).
_COMPOSITE_DATA = ("batch", "timesteps", "mask", "initial_state", "chunks", "weight_scale", "seed")
#: Default sizes for cells and for composites: (max_timesteps, max_batch, max_units).
_LIMITS = {"cell": (32, 4, 16), "composite": (24, 3, 6)}


def option_names(kind: str) -> tuple[str, ...]:
    """What ``--set`` may fix for ``kind``."""
    if kind in COMPOSITE_KINDS:
        return (*OPTIONS[kind], *_COMPOSITE_DATA)
    return tuple(sorted(_CELL_FIELDS | _CASE_FIELDS))


@dataclass(frozen=True)
class CheckOptions:
    kind: str
    fixed: Mapping[str, Any] = field(default_factory=dict)  # options the user fixed (see option_names)
    examples: int = 10
    seed: int = 0
    max_timesteps: int | None = None  # None: 32 for cells, 24 for composites
    max_batch: int | None = None
    max_units: int | None = None
    replay: tuple[str, ...] = ()  # case tokens: run exactly these examples instead of drawing
    #: The arithmetic the port declares it computes in (``"float16"``, ``"bfloat16"``, ``"fixed<16,6>"``, or a
    #: :class:`~reference_cells.precision.Precision`): the tolerance is that arithmetic's noise floor.
    precision: Any = FLOAT32

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"--layer {self.kind!r} is not one of {', '.join(KINDS)}")
        try:
            precision = parse_precision(self.precision)
        except ValueError as exc:
            raise UsageError(f"precision: {exc}") from None
        if precision != FLOAT32 and self.kind.startswith("ConvLSTM"):
            raise UsageError(f"--precision {precision}: {self.kind} ports are checked in float32 only "
                             "(the ConvLSTM reference does not simulate reduced precision)")
        object.__setattr__(self, "precision", precision)
        if self.examples < 1:
            raise ValueError(f"--examples must be >= 1, got {self.examples}")
        defaults = _LIMITS["composite" if self.composite else "cell"]
        for name, default in zip(("max_timesteps", "max_batch", "max_units"), defaults):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        known = option_names(self.kind)
        unknown = sorted(set(self.fixed) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s) for {self.kind}: {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(known))}")
        fixed = dict(self.fixed)
        if fixed.get("mask", "none") not in ("none", "mixed"):
            raise ValueError(f"mask={fixed['mask']!r} is not one of none, mixed")
        for name in ("batch", "timesteps", "chunks"):
            value = fixed.get(name, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.composite:
            validate_options(self.kind, fixed)
            scale = fixed.get("weight_scale", 1.0)
            if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
                raise ValueError(f"weight_scale must be a positive number, got {scale!r}")
            check_chunks(fixed, fixed, self.max_timesteps)
            return
        layer_fixed = {k: v for k, v in fixed.items() if k in _CELL_FIELDS}
        probe = {"units": 1, "features": 1, **layer_fixed}
        if self.kind != "SimpleRNN":
            probe.setdefault("recurrent_activation", "sigmoid")
        CellSpec(kind=self.kind, **probe)  # validates the fixed values early, naming the bad one

    @property
    def composite(self) -> bool:
        return self.kind in COMPOSITE_KINDS


@dataclass
class ExampleOutcome:
    spec: CaseSpec
    result: CaseResult
    records: list[StepRecord]
    details: dict = field(default_factory=dict)  # what the port ran (an export: the artifact's contents)
    non_finite: str | None = None  # where the port returned NaN/inf while Keras is finite (evidence, diagnosed)
    shared_non_finite: int = 0  # values non-finite on both sides alike (both overflowed): not an error

    @property
    def matched(self) -> bool:
        return self.result.status not in ("drift", "error", "unsupported")


@dataclass
class CheckReport:
    port: str
    verdict: str
    outcomes: list[ExampleOutcome]
    diagnosis: Diagnosis | None = None  # every group's causes together (see ``groups``)
    groups: list[CauseGroup] = field(default_factory=list)  # diverging examples by cause, each with its condition
    base_error: float = 0.0  # worst |port - keras| over the examples
    not_exercised: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # worth knowing, not errors (e.g. suppressed prints)
    seconds: float = 0.0
    diagnosis_seconds: float = 0.0
    precision: Precision = FLOAT32  # the precision the port was checked at (declared)
    precision_cause: PrecisionCause | None = None  # undeclared lower precision that explains the port's error

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
        """The union of every group's flags (``unexplained`` for a group nothing explains)."""
        if self.verdict != "mismatch" or self.diagnosis is None:
            return []
        extra = {"precision"} if self.precision_cause else set()
        if not self.groups:
            return sorted(extra) if extra else self.diagnosis.flags()
        return sorted({flag for group in self.groups for flag in group.diagnosis.flags()} | extra)

    @property
    def shared_non_finite(self) -> int:
        return sum(o.shared_non_finite for o in self.outcomes)

    @property
    def support(self) -> list[dict[str, Any]]:
        """Option value -> examples and how many matched (every drawn fact, in fact order)."""
        table: dict[tuple[str, str], list[int]] = {}
        order: dict[str, int] = {}
        for o in self.outcomes:
            if o.result.status == "error":
                continue
            for name, value in facts(o.spec).items():
                order.setdefault(name, len(order))
                row = table.setdefault((name, json.dumps(value)), [0, 0])
                row[0] += 1
                row[1] += int(o.matched)
        rows = sorted(table.items(), key=lambda item: (order[item[0][0]], item[0][1]))
        return [{"option": name, "value": json.loads(value), "examples": n, "matched": m}
                for (name, value), (n, m) in rows]

    def never_drawn(self, fixed: Mapping[str, Any] = {}) -> list[str]:
        """Values of options no example exercised (the user did not fix them): booleans, the
        two-valued options of :data:`~harness.check.coverage.BALANCED_VALUES` and the data facts
        ``mask``, ``initial_state``, ``batch`` (:data:`~harness.check.coverage.DATA_VALUES`)."""
        values: dict[str, set] = {}
        for row in self.support:
            values.setdefault(row["option"], set()).add(json.dumps(row["value"]))
        two_valued = {**BALANCED_VALUES, **DATA_VALUES}
        out = []
        for name, seen in values.items():
            if name in fixed or name in ("chunks", "units") or len(seen) != 1:
                continue
            value = json.loads(next(iter(seen)))
            if name in two_valued and value in two_valued[name]:
                other = next(v for v in two_valued[name] if v != value)
                out.append(f"{name}>1" if other == ">1" else f"{name}={other}")
            elif isinstance(value, bool):
                out.append(f"{name}={not value}")
        return out

    def causes(self) -> list[dict[str, Any]]:
        """One entry per named cause (or ``unexplained`` group), with the condition it shows under."""
        out = []
        if self.precision_cause:
            cause = self.precision_cause
            out.append({"flag": "precision", "when": {}, "examples": cause.examples, "condition_isolated": True,
                        "condition_test": "", "explanation": cause.detail, "fix": cause.fix,
                        "precision": str(cause.precision)})
        for group in self.groups:
            condition = group.condition
            base = {"when": condition.when if condition.isolated else {}, "examples": len(group.members),
                    "condition_isolated": condition.isolated, "condition_test": condition.summary()}
            if group.diagnosis.explained:
                for f in group.diagnosis.explained:
                    for part in f.hypothesis.parts:
                        out.append({"flag": part.flag, **base, "explanation": part.detail, "fix": part.fix})
            else:
                out.append({"flag": "unexplained", **base,
                            "explanation": "no catalogue cause, single or paired, reproduces the port"})
        return out

    def to_json(self) -> dict[str, Any]:
        def finding(f: Finding, *, closest: bool = False) -> list[dict]:
            return [
                {"flag": p.flag if not closest else "unexplained",
                 "detail": p.detail if not closest else f"closest candidate (does NOT explain the port): {p.detail}",
                 "fix": p.fix, "residual": f.residual, "residual_over_tolerance": f.ratio}
                for p in f.hypothesis.parts
            ]

        diagnosis: list[dict] = []
        if self.verdict == "mismatch" and self.precision_cause is not None:
            cause = self.precision_cause
            diagnosis.append({"flag": "precision", "detail": cause.detail, "fix": cause.fix,
                              "residual": cause.residual, "residual_over_tolerance": cause.ratio})
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
            "unsupported": [{"example": o.result.case_id, "reason": o.result.error or ""}
                            for o in self.outcomes if o.result.status == "unsupported"],
            "artifacts": [{"example": o.result.case_id, **o.details} for o in self.outcomes if o.details],
            "notes": self.notes,
            "port": self.port,
            "seconds": round(self.seconds, 3),
            "diagnosis_seconds": round(self.diagnosis_seconds, 3),
            "hypotheses_searched": self.diagnosis.searched if self.diagnosis else 0,
            "causes": self.causes() if self.verdict == "mismatch" else [],
            "support": self.support,
            "shared_non_finite": self.shared_non_finite,
            "precision": str(self.precision),
            "detected_precision": str(self.precision_cause.precision) if self.precision_cause else None,
        }


@dataclass(frozen=True)
class PrecisionCause:
    """The port's error is the round-off of a lower precision than it was checked at (flag ``precision``)."""

    precision: Precision  # the finest precision of the ladder whose noise floor explains the port
    declared: Precision
    examples: int  # diverging examples at the declared precision
    residual: float  # worst |port - keras| over them
    ratio: float  # worst error / tolerance at ``precision`` over the examples that match there
    still: int = 0  # of them, how many still diverge at ``precision`` (for the causes named there)

    @property
    def detail(self) -> str:
        return (f"your port computes in {self.precision}: its error is {self.precision} round-off"
                + ("" if self.declared == FLOAT32 else f" (it was declared {self.declared})"))

    @property
    def fix(self) -> str:
        return f"pass --precision {self.precision} to check it at that precision"


#: Distinct layer configurations per check: each costs a Keras build and trace (~0.5 s),
#: while more data per configuration is nearly free.
CHECK_LAYERS = 4


def draw_cases(port: Port, options: CheckOptions, *, seed: int, count: int, layers: int = CHECK_LAYERS) -> list[CaseSpec]:
    """``count`` examples over at most ``layers`` drawn layer configurations, without the
    cases Keras on this target is known to fail on (:mod:`harness.target.behaviours`)."""
    known = option_names(options.kind)
    fixed = {**{k: v for k, v in port.pins.items() if k in known}, **options.fixed}
    if not port.accepts_mask:
        fixed["mask"] = "none"
    if not port.accepts_initial_state:
        fixed["initial_state"] = False
    draw = _draw_composite if options.composite else _draw_cell
    target = active().name
    specs = drop_known_crashes(draw(port, options, fixed, seed=seed, count=count, layers=layers), target)
    # Keras cannot run some draws (a known crash): draw others in their place, deterministically.
    for retry in range(1, _TOP_UP_DRAWS + 1):
        if len(specs) >= count:
            break
        more = draw(port, options, fixed, seed=seed + 15_485_863 * retry, count=count, layers=layers)
        specs += [s for s in more if not known_crashes(s, target) and s not in specs][: count - len(specs)]
    return specs


#: Fresh draws tried in place of examples Keras cannot run (each is another layer configuration).
_TOP_UP_DRAWS = 3


def _draw_cell(port: Port, options: CheckOptions, fixed: dict[str, Any], *, seed: int, count: int,
               layers: int = CHECK_LAYERS) -> list[CaseSpec]:
    layer_fixed = {k: v for k, v in fixed.items() if k in _CELL_FIELDS}
    case_fixed = {k: v for k, v in fixed.items() if k not in _CELL_FIELDS}
    check_chunks(case_fixed, layer_fixed, options.max_timesteps)
    if not port.carries_state:
        case_fixed["chunks"] = 1
    drawn = draw_examples(layer_specs(kinds=[options.kind], max_units=options.max_units, **layer_fixed),
                          count=_configurations(port, fixed, count=count, layers=layers), seed=seed)
    drawn = balance(drawn, layer_fixed)  # every value of every drawn option, by design (coverage.py)

    def cases(layer: st.SearchStrategy) -> st.SearchStrategy[CaseSpec]:
        return case_specs(
            layers=layer,
            min_timesteps=min(CHECK_MIN_TIMESTEPS, options.max_timesteps),
            max_timesteps=options.max_timesteps,
            max_batch=options.max_batch,
            recurrent_gains=CHECK_GAINS,
            input_scales=CHECK_INPUT_SCALES,
            **case_fixed,
        )

    if _shares_builds(port, fixed):
        return _draw_examples(port, fixed, drawn, cases, count=count, seed=seed)
    specs = _spread(draw_examples(cases(st.sampled_from(drawn)), count=count, seed=seed), drawn, case_fixed)
    return balance_data(specs, case_fixed, max_batch=options.max_batch)


def _spread(specs: list[CaseSpec], drawn: list, fixed: Mapping[str, Any]) -> list[CaseSpec]:
    """The examples dealt over the layer configurations ``drawn`` in turn (example ``k`` gets
    configuration ``k % n``), keeping their data: a balanced option's values are then exercised
    as balanced (Hypothesis, drawing the configuration per example, favours the first ones).
    A sequence longer than an unrolled layer takes is shortened; chunks need a stateful layer."""
    out = []
    for k, spec in enumerate(specs):
        layer = drawn[k % len(drawn)]
        timesteps, chunks = spec.timesteps, spec.chunks
        if getattr(layer, "unroll", False) and "timesteps" not in fixed:
            timesteps = min(timesteps, max(1, UNROLL_MAX_TIMESTEPS))
        if not layer.stateful:
            chunks = 1
        try:
            out.append(dataclasses.replace(spec, layer=layer, timesteps=timesteps, chunks=min(chunks, timesteps)))
        except ValueError:
            out.append(spec)
    return out


def _draw_composite(port: Port, options: CheckOptions, fixed: dict[str, Any], *, seed: int,
                    count: int, layers: int = CHECK_LAYERS) -> list[CaseSpec]:
    drawn = draw_examples(check_layers(options.kind, fixed, options.max_units),
                          count=_configurations(port, fixed, count=count, layers=layers), seed=seed)

    def value(name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
        return st.just(fixed[name]) if name in fixed else strategy

    def cases(layers_: st.SearchStrategy) -> st.SearchStrategy[CaseSpec]:
        @st.composite
        def case(draw: st.DrawFn) -> CaseSpec:
            layer = draw(layers_)
            batch = draw(value("batch", st.integers(1, options.max_batch)))
            timesteps = draw(value("timesteps", st.integers(min(4, options.max_timesteps), options.max_timesteps)))
            mask = draw(value("mask", st.sampled_from(["mixed", "none"])))
            scale = draw(value("weight_scale", st.sampled_from(CHECK_WEIGHT_SCALES)))
            case_seed = draw(st.integers(0, 2**32 - 1))
            initial_state = draw(value("initial_state", st.booleans()))
            chunks = fixed.get("chunks", 1) if layer.stateful and port.carries_state else 1
            return CaseSpec(layer=layer, batch=batch, timesteps=timesteps, mask=mask, kernel_scale=scale,
                            seed=case_seed, initial_state=initial_state, chunks=min(chunks, timesteps))

        return case()

    if _shares_builds(port, fixed):
        return _draw_examples(port, fixed, drawn, cases, count=count, seed=seed)
    specs = _spread(draw_examples(cases(st.sampled_from(drawn)), count=count, seed=seed), drawn, fixed)
    if port.carries_state and "chunks" not in fixed:
        # A stateful layer (as dealt by _spread) is fed in 1..4 consecutive calls, from the example's seed.
        specs = [dataclasses.replace(s, chunks=1 + s.seed % min(4, s.timesteps)) if s.layer.stateful else s
                 for s in specs]
    return balance_data(specs, fixed, max_batch=options.max_batch)


def _shares_builds(port: Port, fixed: Mapping[str, Any]) -> bool:
    """Does this check draw several examples per layer build (see :attr:`Port.draws_per_build`)?"""
    return port.draws_per_build > 1 and "seed" not in fixed and "weights_seed" not in fixed


def _configurations(port: Port, fixed: Mapping[str, Any], *, count: int, layers: int) -> int:
    """How many layer configurations to draw: at most ``layers``, or, for a port that draws several
    examples per build (an export: one conversion per build), one per build: ``count / draws_per_build``
    of them, at least ``layers``, since a build costs a conversion whatever its configuration."""
    if not _shares_builds(port, fixed):
        return min(count, layers)
    return min(count, max(layers, -(-count // port.draws_per_build)))


def _draw_examples(port: Port, fixed: Mapping[str, Any], drawn: list, cases: Any, *, count: int,
                   seed: int) -> list[CaseSpec]:
    """``count`` examples over the layer configurations ``drawn`` for a port that draws several
    examples per build (an export; :func:`_shares_builds`); ``cases(layer strategy)`` draws one.

    One build per configuration, its
    examples in a row. The build's first example is drawn as for a hand-written port (its shapes,
    mask and initial-state presence, weight scales, seed); the others keep all of that and its
    weights (``weights_seed`` = its seed) and draw their own data seed (inputs, mask rows,
    initial state values) and, for cells, input scale. So a 10-example LSTM check exports 4
    times instead of 10."""
    # Each configuration's last example in an ordinary draw of 8 per configuration (not its first:
    # Hypothesis starts from the minimal example, batch 1, one step, seed 0); a configuration the
    # draw missed gets its own draw.
    heads: dict[int, CaseSpec] = {}
    for spec in draw_examples(cases(st.sampled_from(drawn)), count=max(count, 8 * len(drawn)), seed=seed):
        heads[next(i for i, layer in enumerate(drawn) if layer == spec.layer)] = spec
    for i, layer in enumerate(drawn):
        if i not in heads:
            heads[i] = draw_examples(cases(st.just(layer)), count=8, seed=seed + 1 + i)[-1]
    out: list[CaseSpec] = []
    for i in range(len(drawn)):
        head = heads[i]
        size = count // len(drawn) + (i < count % len(drawn))
        rng = np.random.default_rng([seed % 2**32, i, head.seed])
        seeds: set[int] = {head.seed}
        out.append(head)
        while len(seeds) < size:
            data_seed = int(rng.integers(0, 2**32 - 1))
            if data_seed in seeds:
                continue
            seeds.add(data_seed)
            scale = head.input_scale
            if isinstance(head.layer, CellSpec) and "input_scale" not in fixed:
                scale = float(rng.choice(CHECK_INPUT_SCALES))
            out.append(dataclasses.replace(head, seed=data_seed, input_scale=scale, weights_seed=head.seed))
    return out


def run_example(port: Port, spec: CaseSpec, runner: KerasRunner, *,
                precision: Precision = FLOAT32) -> tuple[ExampleOutcome, Example | None]:
    """The port, Keras, the reference and its noise floor (at ``precision``) on one example."""
    case_id, kind = spec.case_id(), spec.kind
    try:
        compared = dataclasses.replace(spec, layer=comparable_spec(port, spec.layer))
        data = runner.data(compared)
        layer = runner.layer(data)
        ref = layer_reference(data, layer)
        calls = runner.run_raw(data)
    except (ValueError, PortCallError) as exc:  # a spec the harness or Keras cannot run
        return ExampleOutcome(spec, error_result(case_id, kind, str(exc)), []), None
    keras_out = concat_chunks([ref.named(returned, start=a, stop=b).values() for a, b, returned in calls])
    shapes = [(a, b, [tuple(v.shape) for v in flatten(returned)]) for a, b, returned in calls]
    asked = dataclasses.replace(data, spec=spec)  # what the port is asked (a stepper is compared on less)
    port.details = None
    try:
        port_out = port.run(asked, runner.layer_config(asked), (ref, shapes))
    except PortUnsupported as exc:
        unsupported = dataclasses.replace(error_result(case_id, kind, str(exc)), status="unsupported")
        return ExampleOutcome(spec, unsupported, [], dict(port.details or {})), None
    except PortCallError as exc:
        return ExampleOutcome(spec, error_result(case_id, kind, str(exc)), [], dict(port.details or {})), None
    reference, trace = run_reference(ref, data)
    noise = noise_floor(ref, data, reference, trace, precision=precision)
    non_finite = first_non_finite(port_out, keras_out)
    try:
        records = compare(case_id, kind, port_out, keras_out, noise)
    except ValueError as exc:
        return ExampleOutcome(spec, error_result(case_id, kind, f"the port returned {exc}"), []), None
    example_layer = None if isinstance(data.spec.layer, CellSpec) else layer
    result = summarize(case_id, kind, records, noise)
    if non_finite and result.status != "drift":
        result = _non_finite_drift(result, records, port_out, keras_out)
    shared = sum(int(shared_non_finite(p.values.astype("float64"), keras_out[n].values.astype("float64")).sum())
                 for n, p in port_out.items() if n in keras_out and keras_out[n].values.shape == p.values.shape)
    outcome = ExampleOutcome(spec, result, records, dict(port.details or {}), non_finite=non_finite,
                             shared_non_finite=shared)
    return outcome, Example(data=data, port=port_out, noise=noise, layer=example_layer, keras=keras_out)


def _non_finite_drift(result: CaseResult, records: list[StepRecord], port_out: Mapping, keras_out: Mapping) -> CaseResult:
    """NaN/inf where Keras is finite, at steps the tolerance does not judge: still a divergence."""
    bad = [r for r in records if not np.isfinite(r.max_abs_err)]
    first = min(bad, key=lambda r: (r.t, r.tensor != "output")) if bad else None
    return dataclasses.replace(result, status="drift", worst_abs_err=float("inf"),
                               first_tensor=first.tensor if first else None, first_t=first.t if first else None,
                               first_index=first.index if first else None, first_err=float("inf"),
                               first_tolerance=first.tolerance if first else None)


def run_check(port: Port, options: CheckOptions, *, runner: KerasRunner | None = None) -> CheckReport:
    """Run ``port`` on ``options.examples`` drawn examples, then diagnose any mismatch."""
    start = time.perf_counter()
    runner = runner or KerasRunner()
    if options.replay:
        specs = [CaseSpec.from_token(token) for token in options.replay]
    else:
        specs = draw_cases(port, options, seed=options.seed, count=options.examples)
    outcomes, examples, ran = [], [], []  # ran[k]: the outcome of examples[k]
    for spec in specs:
        outcome, example = run_example(port, spec, runner, precision=options.precision)
        outcomes.append(outcome)
        if example is not None:
            examples.append(example)
            ran.append(outcome)

    report = CheckReport(port=port.name, verdict="match", outcomes=outcomes, not_exercised=_not_exercised(port, specs),
                         precision=options.precision)
    constrained = {**port.pins, **options.fixed, **({} if port.accepts_mask else {"mask": "none"}),
                   **({} if port.accepts_initial_state else {"initial_state": False})}
    missed = report.never_drawn(constrained) if not options.replay else []
    if missed:
        report.not_exercised.append(f"{', '.join(missed)} (not drawn in {len(outcomes)} examples; "
                                    "fix it with --set to check it, or draw more with --examples)")
    errors = [o for o in outcomes if o.result.status == "error"]
    unsupported = [o for o in outcomes if o.result.status == "unsupported"]
    judged = [o for o in outcomes if o.result.status not in ("error", "unsupported")]
    report.base_error = max((o.result.worst_abs_err for o in judged), default=0.0)
    if unsupported:
        reasons = sorted({o.result.error or "" for o in unsupported})
        report.notes.append(f"{len(unsupported)} of {len(outcomes)} examples unsupported: {'; '.join(reasons)}")
    if unsupported and not judged and not errors:
        report.verdict = "unsupported"
        report.error = f"{unsupported[0].result.error} (example {unsupported[0].spec.case_id()})"
    elif errors:
        report.verdict = "error"
        not_run = sum(o.result.error == HUNG for o in errors)
        failed = len(errors) - not_run
        report.error = (f"{errors[0].result.error} (example {errors[0].spec.case_id()}; {failed} of {len(outcomes)} "
                        f"examples failed" + (f", {not_run} not run after the port hung" if not_run else "") + ")")
    elif any(o.result.status == "drift" for o in outcomes):
        report.verdict = "mismatch"
        started = time.perf_counter()
        diverging = [k for k, o in enumerate(ran) if o.result.status == "drift"]
        accepts = dict(with_mask=port.accepts_mask, with_initial_state=port.accepts_initial_state)
        found, searched_first = None, 0
        if gridded(examples, diverging, declared=options.precision):
            # Its values lie on a lower precision's grid (round-off's fingerprint): single causes at the declared
            # precision first, then that precision, before the costly partition and pair search of a full-precision port.
            quick = diagnose(examples, pairs=False, closest=False, **accepts)
            searched_first = quick.searched
            report.groups = [CauseGroup(quick, list(diverging))]
            if not quick.explained:
                found = undeclared_precision(examples, diverging, declared=options.precision, groups=report.groups,
                                             screen=False, **accepts)
                if found is None:
                    report.groups = partition(examples, diverging, **accepts)
        else:
            report.groups = partition(examples, diverging, **accepts)
        judged_at = report  # the outcomes the conditions are searched against (at the port's precision)
        if found is None and any(not g.diagnosis.explained for g in report.groups):
            searched_first = sum(g.diagnosis.searched for g in report.groups)
            # Nothing names the port at its declared precision: is it computing in a lower one?
            found = undeclared_precision(examples, diverging, declared=options.precision, groups=report.groups,
                                         **accepts)
        if any(not g.diagnosis.explained for g in report.groups) or found is not None:
            if found is not None:
                precision, examples, results, report.groups = found
                report.precision_cause = PrecisionCause(
                    precision=precision, declared=options.precision, examples=len(diverging),
                    residual=max(ran[k].result.worst_abs_err for k in diverging),
                    ratio=max((r.worst_ratio for r in results if r is not None and r.status != "drift"), default=0.0),
                    still=sum(r is not None and r.status == "drift" for r in results))
                options = dataclasses.replace(options, precision=precision)  # fresh examples at it too
                moved = {id(o): r for o, r in zip(ran, results) if r is not None}
                shadow = [dataclasses.replace(o, result=moved[id(o)]) if id(o) in moved else o for o in outcomes]
                index_of = {id(o): i for i, o in enumerate(outcomes)}
                ran = [shadow[index_of[id(o)]] for o in ran]
                judged_at = dataclasses.replace(report, outcomes=shadow, groups=report.groups)
            else:
                hint = off_grid_hint(examples, report.groups, declared=options.precision)
                if hint:
                    report.notes.append(hint)
        position = {id(o): i for i, o in enumerate(judged_at.outcomes)}
        for group in report.groups:  # indices into the examples -> indices into the outcomes
            group.members = [position[id(ran[k])] for k in group.members]
        if len(report.groups) == 1 and report.groups[0].diagnosis.ambiguous:
            _disambiguate(report.groups[0].diagnosis, port, options, runner)
        report.diagnosis = _merged(report.groups)
        if found is not None:  # the search at the declared precision counts too
            report.diagnosis.searched += searched_first
        hostile = _hostile(report)
        if hostile:
            report.verdict, report.error = "error", hostile
        else:
            for k, group in enumerate(report.groups):
                group.condition = _condition(judged_at, group, k, port, options, runner, examples, ran)
        report.diagnosis_seconds = time.perf_counter() - started
    if port.guard.printed_lines:
        report.notes.append(f"the port printed {port.guard.printed_lines} line(s) (suppressed)")
    report.seconds = time.perf_counter() - start
    return report


def _disambiguate(diagnosis: Diagnosis, port: Port, options: CheckOptions, runner: KerasRunner) -> None:
    """Several explanations fit equally: draw fresh inputs and keep those that still fit."""
    extra = draw_cases(port, options, seed=options.seed + 1_000_003, count=max(4, options.examples // 2))
    fresh = [ex for spec in extra for _, ex in [run_example(port, spec, runner, precision=options.precision)]
             if ex is not None]
    if not fresh:
        return
    kept = [f for f in (evaluate(f.hypothesis, fresh, precise=True) for f in diagnosis.explained) if f.ratio <= 1.0]
    if kept:
        names = {f.hypothesis.conventions.describe() for f in kept}
        diagnosis.explained = [f for f in diagnosis.explained if f.hypothesis.conventions.describe() in names]
        diagnosis.ambiguous = len(diagnosis.explained) > 1


def _merged(groups: list[CauseGroup]) -> Diagnosis:
    """Every group's diagnosis as one (``flags`` of the report is the union)."""
    return Diagnosis(explained=[f for g in groups for f in g.diagnosis.explained],
                     closest=[f for g in groups if not g.diagnosis.explained for f in g.diagnosis.closest],
                     ambiguous=any(g.diagnosis.ambiguous for g in groups),
                     searched=sum(g.diagnosis.searched for g in groups))


def _hostile(report: CheckReport) -> str | None:
    """NaN/inf where Keras is finite that no catalogue cause explains: the port failed (an error)."""
    for group in report.groups:
        if group.diagnosis.explained:
            continue
        bad = [report.outcomes[i] for i in group.members if report.outcomes[i].non_finite]
        if bad:
            return (f"{bad[0].non_finite} (example {bad[0].spec.case_id()}; no catalogue cause explains it; "
                    f"{len(bad)} of {len(report.outcomes)} examples non-finite)")
    return None


#: Fresh examples per test of a condition (held, and per negated fact), over this many layer configurations.
CONDITION_EXAMPLES = 4
CONDITION_LAYERS = 2


def _condition(report: CheckReport, group: CauseGroup, index: int, port: Port, options: CheckOptions,
               runner: KerasRunner, examples: list[Example], ran: list[ExampleOutcome]) -> Condition:
    """The smallest conjunction of drawn facts that holds on the group and on no matching
    example, tested on fresh examples (see :func:`harness.check.conditions.try_condition`)."""
    member = set(group.members)
    hypothesis = group.hypothesis
    others = [g.hypothesis for g in report.groups if g is not group and g.hypothesis is not None]
    example_of = {id(o): ex for o, ex in zip(ran, examples)}

    def fits(h: Any, ex: Example) -> bool:
        return evaluate(h, [ex], precise=True).ratio <= 1.0

    def silent(o: ExampleOutcome) -> bool:
        """A matching example on which the cause cannot show (it predicts what Keras does)."""
        ex = example_of.get(id(o))
        return hypothesis is not None and ex is not None and fits(hypothesis, ex)

    group_facts = [facts(report.outcomes[i].spec) for i in group.members]
    matched = [o for o in report.outcomes if o.matched]
    silence = {id(o): silent(o) for o in matched}
    against = [facts(o.spec) for o in matched if not silence[id(o)]]  # matched where the cause would show
    quiet = [facts(o.spec) for o in matched if silence[id(o)]]
    found = separators(group_facts, against, silent=quiet)
    if found == [{}]:
        return Condition(counts=_counts(report, group, {}, silence))
    if not found:
        return Condition(isolated=False, note=(
            f"no conjunction of up to 3 drawn facts holds on these {len(member)} examples and on none of the "
            f"{len(against)} that match where this cause would show"))

    def explains(ex: Example) -> bool:
        if hypothesis is not None:
            return fits(hypothesis, ex)
        return not any(fits(h, ex) for h in others)

    def draw(fixed_when: dict[str, Any], offset: int) -> list[tuple[bool, Example | None]]:
        fixed = {**options.fixed, **fixed_when}
        if fixed.get("chunks", 1) > 1:
            fixed["stateful"] = True
        try:
            opts = dataclasses.replace(options, fixed=fixed, replay=())
            specs = draw_cases(port, opts, seed=options.seed + 7_919 * (offset + 1) + 104_729 * (index + 1),
                               count=CONDITION_EXAMPLES, layers=CONDITION_LAYERS)
        except ValueError:
            return []
        out = []
        for spec in specs:
            outcome, ex = run_example(port, spec, runner, precision=options.precision)
            if outcome.result.status != "error":
                out.append((outcome.result.status == "drift", ex))
        return out

    seen = [facts(o.spec) for o in report.outcomes]
    tried = []
    widest = shared_facts(group_facts, seen)
    for when in [*found[:MAX_TESTED], *([widest] if widest and widest not in found[:MAX_TESTED] else [])]:
        if not when:
            continue
        condition = try_condition(when, seen=seen, draw=draw, explains=explains,
                                   explained_elsewhere=lambda ex: any(fits(h, ex) for h in others),
                                   evidence=hypothesis is not None,
                                   structural=lambda name, other: _structural(hypothesis, group, report, name, other))
        if condition.isolated:
            condition.counts = _counts(report, group, condition.when, silence)
            return condition
        tried.append(condition.note)
    return Condition(isolated=False, note="; ".join(tried))


def _structural(hypothesis: Any, group: CauseGroup, report: CheckReport, name: str, other: Any) -> bool:
    """Reference only (no Keras, no port): with ``name`` set to ``other`` on the group's own
    examples (same data seeds), the cause changes nothing on any of them."""
    if hypothesis is None:
        return False
    for i in group.members:
        spec = negate_spec(report.outcomes[i].spec, name, other)
        if spec is None or not isinstance(spec.layer, CellSpec):
            return False
        try:
            probe = Example(data=spec.build(), port={}, noise=None)  # type: ignore[arg-type]
            keras, faulty = probe.expected(LayerConventions()), probe.expected(hypothesis.conventions)
        except ValueError:
            return False
        for key, value in keras.items():
            theirs = faulty.get(key)
            if theirs is None or theirs.values.shape != value.values.shape:
                return False
            scale = max(1.0, float(np.nanmax(np.abs(value.values), initial=0.0)))
            if float(np.nanmax(abs_diff(theirs.values, value.values), initial=0.0)) > 1e-9 * scale:
                return False
    return True


def _counts(report: CheckReport, group: CauseGroup, when: Mapping[str, Any], silence: Mapping[int, bool]) -> dict[str, int]:
    """Over the check's examples: where ``when`` holds, how many diverged in the group and how many
    matched because the cause cannot show there; elsewhere, how many matched."""
    member = set(group.members)
    run = [(i, o) for i, o in enumerate(report.outcomes) if o.result.status != "error"]
    holding = [(i, o) for i, o in run if all(facts(o.spec).get(k) == v for k, v in when.items())]
    others = [(i, o) for i, o in run if (i, o) not in holding]
    return {"holding": len(holding), "diverged": sum(i in member for i, _ in holding),
            "silent": sum(silence.get(id(o), False) for _, o in holding),
            "others": len(others), "others_matched": sum(o.matched for _, o in others)}


def _not_exercised(port: Port, specs: list[CaseSpec]) -> list[str]:
    missing = []
    if not port.accepts_mask:
        missing.append("masks (the port has no `mask` parameter)")
    if not port.accepts_initial_state:
        missing.append("initial_state (the port has no `initial_state` parameter)")
    if any(s.layer.stateful for s in specs) and not port.carries_state:
        missing += port.notes
    elif port.adapter in ("step", "stepper", "export"):
        missing += port.notes
    return missing


def parse_options(kind: str, pairs: list[str], config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``--set option=value`` (values are JSON, or bare strings) and ``--config FILE`` (a Keras
    layer config, SimpleRNN/LSTM/GRU only) into the options a check fixes."""
    known = option_names(kind)
    fixed: dict[str, Any] = {}
    if config:
        if kind in COMPOSITE_KINDS:
            raise ValueError(f"--config: a Keras config file fixes SimpleRNN/LSTM/GRU options; for {kind} use --set")
        parsed = CellSpec.from_keras_config(kind, {**config, "units": config.get("units", 1)}, features=1)
        fixed.update({k: v for k, v in parsed.to_dict().items() if k in config and k not in ("kind", "features")})
        if "units" in config:
            fixed["units"] = int(config["units"])
    for pair in pairs:
        key, sep, raw = (part.strip() for part in pair.partition("="))
        if not sep:
            raise ValueError(f"--set {pair!r}: expected option=value")
        if key == "filters" and kind in COMPOSITE_KINDS:
            key = "units"  # one name for the layer's width
        if key not in known:
            raise ValueError(f"--set {key}: unknown option for {kind}; expected one of {', '.join(sorted(known))}")
        try:
            value = json.loads(raw.lower() if raw.lower() in ("true", "false", "null") else raw)
        except json.JSONDecodeError:
            value = raw
        if key == "cells" and isinstance(value, str):
            value = [c.strip() for c in value.split(",") if c.strip()]
        fixed[key] = value
    return fixed
