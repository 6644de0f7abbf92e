"""The port check for Bidirectional, RNN over cells (``StackedRNN``) and ConvLSTM ports.

The port protocol is the cell ports' (see :mod:`harness.port`), with the
family layer's own arrays:

``function``  ``port(x, weights, config[, mask=])`` returns what the Keras layer
              returns (``output``, or ``[output, *states]`` with return_state;
              ``merge_mode=None``: ``[y_fwd, y_bwd, *states]``; nested state
              lists of ``RNN([cells])`` may be nested or flat).
``class``     ``cls(weights, config)``, called as ``instance(x[, mask=])``.

* ``x``: float32 ``(B, T, F)`` (Bidirectional, StackedRNN) or
  ``(B, T, *spatial, C)`` (ConvLSTM, channels_last);
* ``weights``: ``layer.get_weights()`` - Bidirectional: forward ``[K, R(, b)]``
  then backward ``[K, R(, b)]``; StackedRNN: cell after cell; ConvLSTM
  ``[K (*k, C, 4F), R (*k, F, 4F)(, b (4F,))]``;
* ``config``: ``layer.get_config()`` - Bidirectional: ``{"layer": {...},
  "backward_layer": {...}, "merge_mode": ...}``; ``RNN``: ``{"cell": ...,
  "return_sequences": ...}``; ConvLSTM: filters, kernel_size, strides, padding ...;
* ``mask``: bool ``(B, T)`` if the port declares it (True = use the step).

Examples are drawn by :func:`family_check_specs` (fixed options stay fixed,
well-conditioned weights, at most :data:`harness.check.CHECK_LAYERS` layer
configurations per check, since each costs a Keras build and trace), Keras
runs through :class:`harness.family.FamilyRunner`, and a mismatch is diagnosed
with :func:`harness.diagnosis.diagnose` over
:func:`harness.family_catalogue.layer_candidates`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from hypothesis import strategies as st

from harness.catalogue import Candidate
from harness.check import CHECK_LAYERS, CheckReport, ExampleOutcome
from harness.compare import compare, error_result, summarize
from harness.diagnosis import diagnose, evaluate
from harness.family import FAMILY_KINDS, MERGE_MODES, FamilyRunner, FamilySpec
from harness.family_catalogue import layer_candidates
from harness.generate import draw_examples
from harness.layer_conventions import LayerConventions
from harness.layer_references import BASIC, CONV, LayerReference, flatten, reference_for
from harness.port import Port, PortCallError, describe_return
from harness.port_guard import HUNG, checked_array, first_difference, first_non_finite
from harness.tensors import NamedTensor
from harness.tolerance import NoiseFloor, measure_floor_of
from reference_cells import activations

#: Layers the family port check covers.
CHECK_FAMILY_KINDS = FAMILY_KINDS
_RANK = CONV  # ConvLSTM kind -> rank
_ACTIVATIONS = ("tanh", "tanh", "sigmoid", "softsign")
_GATES = ("sigmoid", "hard_sigmoid")
#: Well-conditioned weights for diagnosis (weights ~ N(0, scale^2 / fan_in)).
CHECK_WEIGHT_SCALES = (1.0, 0.5)

#: Options ``--set`` may fix, per kind (besides the data options below).
_COMMON = ("return_sequences", "return_state", "activation", "recurrent_activation", "use_bias", "units", "features")
OPTIONS = {
    "Bidirectional": (*_COMMON, "inner", "merge_mode", "reset_after"),
    "StackedRNN": (*_COMMON, "cells", "go_backwards", "reset_after"),
    **{kind: (*_COMMON, "filters", "kernel_size", "padding", "strides", "side", "go_backwards") for kind in _RANK},
}
DATA_OPTIONS = ("batch", "timesteps", "mask", "weight_scale")


@dataclass(frozen=True)
class FamilyCheckOptions:
    kind: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    examples: int = 10
    seed: int = 0
    max_timesteps: int = 24
    max_batch: int = 3
    max_units: int = 6
    replay: tuple[str, ...] = ()  # FamilySpec tokens: run exactly these examples

    def __post_init__(self) -> None:
        if self.kind not in OPTIONS:
            raise ValueError(f"--layer {self.kind!r} is not one of {', '.join(OPTIONS)}")
        if self.examples < 1:
            raise ValueError(f"--examples must be >= 1, got {self.examples}")
        known = (*OPTIONS[self.kind], *DATA_OPTIONS)
        unknown = sorted(set(self.fixed) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s) for {self.kind}: {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(known))}")
        fixed = self.fixed
        if "inner" in fixed and fixed["inner"] not in BASIC:
            raise ValueError(f"inner={fixed['inner']!r} is not one of {', '.join(BASIC)}")
        if "cells" in fixed and (not fixed["cells"] or any(c not in BASIC for c in fixed["cells"])):
            raise ValueError(f"cells={fixed['cells']!r}: expected a non-empty list of {', '.join(BASIC)}")
        if "merge_mode" in fixed and fixed["merge_mode"] not in MERGE_MODES:
            raise ValueError(f"merge_mode={fixed['merge_mode']!r} is not one of {MERGE_MODES}")
        if fixed.get("mask", "none") not in ("none", "mixed"):
            raise ValueError(f"mask={fixed['mask']!r} is not one of none, mixed")
        for name in ("units", "features", "kernel_size", "strides", "side", "batch", "timesteps"):
            value = fixed.get(name, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("return_sequences", "return_state", "use_bias", "reset_after", "go_backwards"):
            if not isinstance(fixed.get(name, False), bool):
                raise ValueError(f"{name} must be true or false, got {fixed[name]!r}")
        if fixed.get("padding", "valid") not in ("valid", "same"):
            raise ValueError(f"padding={fixed['padding']!r} is not one of valid, same")
        if fixed.get("side", 99) < fixed.get("kernel_size", 1) and fixed.get("padding") == "valid":
            raise ValueError(f"side={fixed['side']} is smaller than kernel_size={fixed['kernel_size']} with padding='valid'")
        for name in ("activation", "recurrent_activation"):
            if name in fixed:
                activations.get(fixed[name])  # a ValueError naming the activation
        scale = fixed.get("weight_scale", 1.0)
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
            raise ValueError(f"weight_scale must be a positive number, got {scale!r}")


def parse_family_options(kind: str, pairs: list[str]) -> dict[str, Any]:
    """``--set option=value`` for a family layer (values are JSON, or bare strings)."""
    fixed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = (part.strip() for part in pair.partition("="))
        if not sep:
            raise ValueError(f"--set {pair!r}: expected option=value")
        known = (*OPTIONS.get(kind, ()), *DATA_OPTIONS)
        if key not in known:
            raise ValueError(f"--set {key}: unknown option for {kind}; expected one of {', '.join(sorted(known))}")
        try:
            value = json.loads(raw.lower() if raw.lower() in ("true", "false", "null") else raw)
        except json.JSONDecodeError:
            value = raw
        if key == "cells" and isinstance(value, str):
            value = [c.strip() for c in value.split(",") if c.strip()]
        if key == "filters":
            key = "units"  # one name for the layer's width
        fixed[key] = value
    return fixed


# ------------------------------------------------------------ drawing
@st.composite
def _layer_recipe(draw: st.DrawFn, kind: str, fixed: Mapping[str, Any], max_units: int) -> tuple[str, tuple[int, ...]]:
    """A layer recipe (as :func:`harness.family.build_layer` reads) and the per-step input shape."""

    def pick(name: str, strategy: st.SearchStrategy) -> Any:
        return fixed[name] if name in fixed else draw(strategy)

    seq, state = pick("return_sequences", st.booleans()), pick("return_state", st.booleans())
    units = pick("units", st.integers(1, max_units if kind in ("Bidirectional", "StackedRNN") else min(max_units, 4)))
    activation = pick("activation", st.sampled_from(_ACTIVATIONS))
    gate = pick("recurrent_activation", st.sampled_from(_GATES))
    use_bias = pick("use_bias", st.sampled_from([True, True, False]))

    def cell(cell_kind: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"units": units, "activation": activation, "use_bias": use_bias}
        if cell_kind != "SimpleRNN":
            kwargs["recurrent_activation"] = gate
        if cell_kind == "GRU":
            kwargs["reset_after"] = pick("reset_after", st.booleans())
        return kwargs

    recipe: dict[str, Any] = {"family": kind}
    if kind == "Bidirectional":
        inner = pick("inner", st.sampled_from(BASIC))
        recipe.update(inner=inner, inner_kwargs={**cell(inner), "return_sequences": seq, "return_state": state},
                      merge_mode=pick("merge_mode", st.sampled_from(MERGE_MODES)))
        shape: tuple[int, ...] = (pick("features", st.integers(1, 5)),)
    elif kind == "StackedRNN":
        cells = list(pick("cells", st.lists(st.sampled_from(BASIC), min_size=2, max_size=3)))
        recipe.update(cells=cells, cell_kwargs=[cell(k) for k in cells],
                      rnn_kwargs={"return_sequences": seq, "return_state": state,
                                  "go_backwards": pick("go_backwards", st.booleans())})
        shape = (pick("features", st.integers(1, 5)),)
    else:
        rank = _RANK[kind]
        padding = pick("padding", st.sampled_from(["valid", "same"]))
        kernel = pick("kernel_size", st.integers(1, 3))
        strides = pick("strides", st.integers(1, 2) if padding == "valid" else st.just(1))
        recipe["kwargs"] = {"filters": units, "kernel_size": kernel, "padding": padding, "strides": strides,
                            "activation": activation, "recurrent_activation": gate, "use_bias": use_bias,
                            "return_sequences": seq, "return_state": state,
                            "go_backwards": pick("go_backwards", st.booleans())}
        low = max(3, kernel)
        side = pick("side", st.integers(low, max(low, 5 if rank < 3 else 4)))
        shape = (*(side,) * rank, pick("features", st.integers(1, 3)))
    return json.dumps(recipe, sort_keys=True), shape


def family_check_specs(
    kind: str, fixed: Mapping[str, Any], *, layers: list[tuple[str, tuple[int, ...]]], max_timesteps: int,
    max_batch: int,
) -> st.SearchStrategy[FamilySpec]:
    """Examples over the given layer recipes, with the data options drawn (or fixed)."""

    def value(name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
        return st.just(fixed[name]) if name in fixed else strategy

    return st.builds(
        lambda layer, batch, timesteps, mask, scale, seed: FamilySpec(
            kind=kind, layer=layer[0], input_shape=layer[1], batch=batch, timesteps=timesteps, mask=mask,
            weight_scale=scale, seed=seed),
        st.sampled_from(layers),
        value("batch", st.integers(1, max_batch)),
        value("timesteps", st.integers(min(4, max_timesteps), max_timesteps)),
        value("mask", st.sampled_from(["mixed", "none"])),
        value("weight_scale", st.sampled_from(CHECK_WEIGHT_SCALES)),
        st.integers(0, 2**32 - 1),
    )


def draw_family_examples(options: FamilyCheckOptions, *, accepts_mask: bool, seed: int, count: int) -> list[FamilySpec]:
    fixed = dict(options.fixed)
    if not accepts_mask:
        fixed["mask"] = "none"
    layers = draw_examples(_layer_recipe(options.kind, fixed, options.max_units), count=min(count, CHECK_LAYERS),
                           seed=seed)
    strategy = family_check_specs(options.kind, fixed, layers=layers, max_timesteps=options.max_timesteps,
                                  max_batch=options.max_batch)
    return draw_examples(strategy, count=count, seed=seed)


# ------------------------------------------------------------ one example
@dataclass(frozen=True)
class FamilyExample:
    """One example a family port was run on, searchable by :func:`harness.diagnosis.diagnose`."""

    reference: Callable[[LayerConventions], LayerReference]  # the layer's reference under a hypothesis
    candidate_list: tuple[Candidate, ...]
    weights: tuple[np.ndarray, ...]
    x: np.ndarray
    mask: np.ndarray | None
    units: int
    seed: int
    port: dict[str, NamedTensor]
    noise: NoiseFloor

    def _run(self, conventions: LayerConventions) -> Callable[[Any, np.ndarray, np.dtype], dict[str, NamedTensor]]:
        ref = self.reference(conventions)
        steps = self.x.shape[1]
        return lambda w, xx, d: ref.named(ref.run(w, xx, self.mask, d), timesteps=steps)

    def expected(self, conventions: LayerConventions) -> dict[str, NamedTensor]:
        return self._run(conventions)(list(self.weights), self.x, np.dtype(np.float64))

    def candidate_floor(self, expected: dict[str, NamedTensor], conventions: LayerConventions) -> NoiseFloor:
        return measure_floor_of(self._run(conventions), weights=list(self.weights), x=self.x, seed=self.seed)[1]

    def candidates(self, *, with_mask: bool, with_initial_state: bool) -> list[Candidate]:
        return [c for c in self.candidate_list
                if (with_mask or c.flag != "masking")
                and (with_initial_state or c.conventions.cell.initial_state != "zeros")]

    @property
    def size(self) -> int:
        return self.x.size * self.units


def _layer_units(layer: Any) -> int:
    config = layer.get_config()
    if "filters" in config:
        return int(config["filters"])
    if "layer" in config:
        return int(layer.forward_layer.units)
    cells = getattr(layer.cell, "cells", [layer.cell])
    return max(int(c.units) for c in cells)


def name_port_return(value: Any, keras_arrays: list[np.ndarray], ref: LayerReference, *, timesteps: int) -> dict[str, NamedTensor]:
    """Check a family port's return against the Keras layer's and name its tensors."""
    arrays = flatten(value) if isinstance(value, (list, tuple)) else [value]
    names = ", ".join(ref.names)
    if len(arrays) != len(keras_arrays):
        raise PortCallError(f"expected {len(keras_arrays)} returned array(s) [{names}], got {describe_return(value)}")
    checked = []
    for name, got, want in zip(ref.names, arrays, keras_arrays):
        got = checked_array(got, name)
        if got.shape != want.shape:
            raise PortCallError(f"the port returned {name} of shape {got.shape}, expected {want.shape} (as Keras returns it)")
        checked.append(got)
    return ref.named(checked, timesteps=timesteps)


def family_caller(port: Port) -> Callable[[np.ndarray, list[np.ndarray], dict, np.ndarray | None], Any]:
    """How to call a Python function or class port with a family layer's arrays (through its guard)."""
    if port.adapter not in ("function", "class") or port.target is None:
        raise PortCallError(f"a {port.adapter} port cannot implement a family layer; use a function "
                            "port(x, weights, config[, mask]) or a class (--adapter function|class)")
    guard = port.guard

    def call(x: np.ndarray, weights: list[np.ndarray], config: dict, mask: np.ndarray | None) -> Any:
        kwargs = {"mask": None if mask is None else mask.copy()} if port.accepts_mask else {}
        if port.adapter == "function":
            return guard.call(port.target, x.copy(), [w.copy() for w in weights], dict(config),
                              arg_names=("x", "weights", "config"), **kwargs)
        instance = guard.call(port.target, [w.copy() for w in weights], dict(config), arg_names=("weights", "config"))
        return guard.call(instance, x.copy(), arg_names=("x",), **kwargs)

    return call


def run_family_example(
    call: Callable, spec: FamilySpec, runner: FamilyRunner, *, determinism: bool = False,
) -> tuple[ExampleOutcome, FamilyExample | None]:
    """Keras, the reference's noise floor and the port on one example."""
    case_id, kind = spec.case_id(), spec.kind
    layer, _ = runner.layer(spec)
    ref = reference_for(layer)
    if ref is None:
        return ExampleOutcome(spec, error_result(case_id, kind, f"no reference for {kind} with these cells"), []), None
    weights, x, mask = spec.arrays([(tuple(v.shape), v.path) for v in layer.weights])
    layer.set_weights(weights)
    keras_raw = flatten(runner.call(spec, x, mask))
    keras_out = ref.named(keras_raw, timesteps=spec.timesteps)
    config = layer.get_config()
    try:
        port_out = name_port_return(call(x, weights, config, mask), keras_raw, ref, timesteps=spec.timesteps)
        if determinism:
            again = name_port_return(call(x, weights, config, mask), keras_raw, ref, timesteps=spec.timesteps)
            difference = first_difference(port_out, again)
            if difference:
                raise PortCallError(f"the port is nondeterministic: two runs on the same input differ {difference}")
    except PortCallError as exc:
        return ExampleOutcome(spec, error_result(case_id, kind, str(exc)), []), None
    except Exception as exc:  # noqa: BLE001 - a return the harness could not use, reported per example
        return ExampleOutcome(spec, error_result(case_id, kind, f"the port's return could not be used: "
                                                                 f"{type(exc).__name__}: {exc}"), []), None
    _, noise = measure_floor_of(lambda w, xx, d: ref.named(ref.run(w, xx, mask, d), timesteps=spec.timesteps),
                                weights=weights, x=x, seed=spec.seed)
    non_finite = first_non_finite(port_out, keras_out)
    if non_finite:
        return ExampleOutcome(spec, error_result(case_id, kind, non_finite), []), None
    records = compare(case_id, kind, port_out, keras_out, noise)
    example = FamilyExample(
        reference=lambda conventions: reference_for(layer, conventions=conventions),
        candidate_list=tuple(layer_candidates(layer, with_mask=mask is not None)),
        weights=tuple(weights), x=x, mask=mask, units=_layer_units(layer), seed=spec.seed, port=port_out, noise=noise)
    return ExampleOutcome(spec, summarize(case_id, kind, records, noise), records), example


# ------------------------------------------------------------ the check
def run_family_check(port: Port, options: FamilyCheckOptions, *, runner: FamilyRunner | None = None) -> CheckReport:
    """Run a family port on drawn examples and diagnose a mismatch (the same report as ``run_check``)."""
    start = time.perf_counter()
    runner = runner or FamilyRunner()
    call = family_caller(port)
    if options.replay:
        specs = [FamilySpec.from_token(token) for token in options.replay]
    else:
        specs = draw_family_examples(options, accepts_mask=port.accepts_mask, seed=options.seed, count=options.examples)
    outcomes, examples = [], []
    for k, spec in enumerate(specs):
        outcome, example = run_family_example(call, spec, runner, determinism=k == 0 and port.check_determinism)
        outcomes.append(outcome)
        if example is not None:
            examples.append(example)
    not_exercised = [] if port.accepts_mask else ["masks (the port has no `mask` parameter)"]
    if port.accepts_initial_state:
        not_exercised.append(f"initial_state (not yet exercised for {options.kind} ports)")
    report = CheckReport(port=port.name, verdict="match", outcomes=outcomes, not_exercised=not_exercised)
    errors = [o for o in outcomes if o.result.status == "error"]
    report.base_error = max((o.result.worst_abs_err for o in outcomes if o.result.status != "error"), default=0.0)
    if errors:
        report.verdict = "error"
        not_run = sum(o.result.error == HUNG for o in errors)
        report.error = (f"{errors[0].result.error} (example {errors[0].spec.case_id()}; {len(errors) - not_run} of "
                        f"{len(outcomes)} examples failed" + (f", {not_run} not run after the port hung" if not_run else "")
                        + ")")
    elif any(o.result.status == "drift" for o in outcomes):
        report.verdict = "mismatch"
        started = time.perf_counter()
        report.diagnosis = diagnose(examples, with_mask=port.accepts_mask, with_initial_state=False)
        if report.diagnosis.ambiguous:
            extra = draw_family_examples(options, accepts_mask=port.accepts_mask, seed=options.seed + 1_000_003,
                                         count=max(4, options.examples // 2))
            fresh = [ex for spec in extra for _, ex in [run_family_example(call, spec, runner)] if ex is not None]
            kept = [f for f in (evaluate(f.hypothesis, fresh, precise=True) for f in report.diagnosis.explained)
                    if f.ratio <= 1.0] if fresh else []
            if kept:
                names = {f.hypothesis.conventions.describe() for f in kept}
                report.diagnosis.explained = [f for f in report.diagnosis.explained
                                              if f.hypothesis.conventions.describe() in names]
                report.diagnosis.ambiguous = len(report.diagnosis.explained) > 1
        report.diagnosis_seconds = time.perf_counter() - started
    if port.guard.printed_lines:
        report.notes.append(f"the port printed {port.guard.printed_lines} line(s) (suppressed)")
    report.seconds = time.perf_counter() - start
    return report


def diagnose_family_layer(layer: Any, port_out: dict[str, NamedTensor], *, weights: list[np.ndarray], x: np.ndarray,
                          mask: np.ndarray | None, noise: NoiseFloor, with_mask: bool):
    """The diagnosis for one family layer of a saved model (``check-model --port``)."""
    example = FamilyExample(
        reference=lambda conventions: reference_for(layer, conventions=conventions),
        candidate_list=tuple(layer_candidates(layer, with_mask=with_mask)),
        weights=tuple(weights), x=x, mask=mask, units=_layer_units(layer), seed=0, port=port_out, noise=noise)
    return diagnose([example], with_mask=with_mask, with_initial_state=False)

