"""Hypothesis strategies for layer specs and cases (public).

``layer_specs()`` draws a SimpleRNN/LSTM/GRU spec with every inference
option; ``case_specs()`` adds the data: shapes, masks, initial state, weight
and input scales and a seed for the arrays. Arrays themselves are generated
from that seed with NumPy (see :mod:`harness.layers.case`), so Hypothesis shrinks
the *configuration* while the data stay random, per-gate and never
symmetric.

Every argument may be fixed by the caller: ``layer_specs(kinds=["LSTM"],
return_sequences=True)`` keeps return_sequences on and draws the rest.
Arguments are validated when the strategy is created, with a message that
names the argument.

>>> from harness.layers.strategies import case_specs
>>> strategy = case_specs(kinds=["GRU"], max_timesteps=50)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from hypothesis import strategies as st

from harness.layers.case import MASK_MODES, CaseSpec
from harness.layers.composite import COMPOSITE_KINDS, composite_layers
from harness.layers.cell import CellSpec
from reference_cells import activations
from reference_cells.layer_config import CELL_KINDS

#: Activations whose outputs stay bounded, safe anywhere in a cell.
BOUNDED_ACTIVATIONS = (
    "tanh", "sigmoid", "hard_sigmoid", "hard_tanh", "softsign", "sparse_sigmoid", "softmax", "sparsemax",
)
#: Everything else Keras accepts by name (some can overflow on long sequences).
OTHER_ACTIVATIONS = tuple(n for n in activations.names() if n not in BOUNDED_ACTIVATIONS and n != activations.KERAS2_HARD_SIGMOID)
#: Gate activations: Keras 3's hard_sigmoid is drawn often because its knees
#: (|x| = 3) differ from Keras 2's (|x| = 2.5), a classic port mismatch.
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid", "hard_sigmoid", "sparse_sigmoid", "tanh", "softsign", "hard_tanh")

#: Recurrent-kernel gains: 1.0 is Keras's orthogonal initialiser; larger gains
#: make the dynamics expansive (3.0 is chaotic for SimpleRNN/GRU).
RECURRENT_GAINS = (1.0, 0.5, 1.5, 3.0)
INPUT_SCALES = (1.0, 0.3, 3.0)  # 3.0 pushes gate pre-activations past the hard_sigmoid knees
KERNEL_SCALES = (1.0, 0.5, 2.0)
BIAS_SCALES = (0.5, 0.1, 1.0)  # never zero
UNROLL_MAX_TIMESTEPS = 24

_LAYER_FIELDS = {f.name for f in dataclasses.fields(CellSpec)}
_CASE_FIELDS = {f.name for f in dataclasses.fields(CaseSpec)} - {"layer"}


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    kinds = tuple(CELL_KINDS if kinds is None else kinds)
    bad = [k for k in kinds if k not in CELL_KINDS]
    if not kinds or bad:
        raise ValueError(f"kinds={list(kinds)!r}: expected a non-empty subset of {list(CELL_KINDS)}")
    return kinds


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_applicable(kinds: tuple[str, ...], fixed: dict[str, Any]) -> None:
    """Refuse fixed options that none of ``kinds`` has: silently ignoring them would test something else."""
    if "reset_after" in fixed and "GRU" not in kinds:
        raise ValueError(f"reset_after: only GRU has this option, not {'/'.join(kinds)}; drop it or use kind GRU")
    if "recurrent_activation" in fixed and set(kinds) == {"SimpleRNN"}:
        raise ValueError("recurrent_activation: SimpleRNN has no recurrent activation; drop it or use LSTM/GRU")


def check_chunks(case_fixed: dict[str, Any], layer_fixed: dict[str, Any], max_timesteps: int) -> None:
    """``chunks`` splits a stateful layer's sequence into calls; it means nothing otherwise."""
    chunks = case_fixed.get("chunks", 1)
    if chunks == 1:
        return
    _check_positive("chunks", chunks)
    if not layer_fixed.get("stateful", False):
        raise ValueError(f"chunks={chunks} needs a stateful layer; fix stateful=true too")
    longest = case_fixed.get("timesteps", max_timesteps)
    if chunks > longest:
        raise ValueError(f"chunks={chunks} is more than timesteps={longest}; each chunk needs at least one step")


def _value(fixed: dict[str, Any], name: str, strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.just(fixed[name]) if name in fixed else strategy


def layer_specs(
    *, kinds: Iterable[str] | None = None, max_units: int = 32, max_features: int = 8, **fixed: Any
) -> st.SearchStrategy[CellSpec]:
    """Draw a :class:`CellSpec`; keyword arguments named like its fields fix them."""
    kinds = _check_kinds(kinds)
    _check_positive("max_units", max_units)
    _check_positive("max_features", max_features)
    unknown = sorted(set(fixed) - _LAYER_FIELDS)
    if unknown:
        raise ValueError(f"unknown CellSpec option(s) {unknown}; expected some of {sorted(_LAYER_FIELDS)}")
    if "kind" in fixed:
        kinds = _check_kinds([fixed.pop("kind")])
    _check_applicable(kinds, fixed)

    @st.composite
    def draw(d: st.DrawFn) -> CellSpec:
        kind = d(st.sampled_from(kinds))
        units = d(_value(fixed, "units", st.integers(1, max_units)))
        features = d(_value(fixed, "features", st.integers(1, max_features)))
        activation = d(_value(fixed, "activation", st.one_of(
            st.just("tanh"), st.sampled_from(BOUNDED_ACTIVATIONS), st.sampled_from(OTHER_ACTIVATIONS))))
        recurrent = None
        if kind != "SimpleRNN":
            recurrent = d(_value(fixed, "recurrent_activation", st.one_of(
                st.just("sigmoid"), st.sampled_from(GATE_ACTIVATIONS), st.sampled_from(OTHER_ACTIVATIONS))))
        options = {
            name: d(_value(fixed, name, st.booleans()))
            for name in ("return_sequences", "return_state", "go_backwards", "zero_output_for_mask")
        }
        options["use_bias"] = d(_value(fixed, "use_bias", st.sampled_from([True, True, False])))
        options["stateful"] = d(_value(fixed, "stateful", st.sampled_from([False, False, True])))
        options["unroll"] = d(_value(fixed, "unroll", st.sampled_from([False, False, False, True])))
        options["reset_after"] = d(_value(fixed, "reset_after", st.booleans())) if kind == "GRU" else True
        options["dropout"] = d(_value(fixed, "dropout", st.sampled_from([0.0, 0.3])))
        options["recurrent_dropout"] = d(_value(fixed, "recurrent_dropout", st.sampled_from([0.0, 0.0, 0.25])))
        return CellSpec(kind=kind, units=units, features=features, activation=activation,
                         recurrent_activation=recurrent, **options)

    return draw()


def case_specs(
    *,
    layers: st.SearchStrategy[CellSpec] | None = None,
    kinds: Iterable[str] | None = None,
    min_timesteps: int = 1,
    max_timesteps: int = 64,
    max_batch: int = 4,
    max_units: int = 32,
    recurrent_gains: Iterable[float] = RECURRENT_GAINS,
    input_scales: Iterable[float] = INPUT_SCALES,
    **fixed: Any,
) -> st.SearchStrategy[CaseSpec]:
    """Draw a :class:`CaseSpec`.

    Args:
        layers: strategy for the layer; default ``layer_specs(kinds=kinds, max_units=max_units)``.
        kinds: cell kinds to draw from (ignored when ``layers`` is given).
        min_timesteps: shortest sequence (at least 1).
        max_timesteps: longest sequence (at least ``min_timesteps``).
        max_batch: largest batch (at least 1).
        max_units: most units per layer.
        recurrent_gains: recurrent-kernel gains to draw from (the port check keeps
            to well-conditioned ones so round-off cannot drown a cause).
        input_scales: input standard deviations to draw from.
        **fixed: fix CaseSpec fields (``mask="mixed"``, ``initial_state=True``,
            ``recurrent_gain=1.0`` ...) or, for any other name, CellSpec fields.
    """
    _check_positive("min_timesteps", min_timesteps)
    _check_positive("max_timesteps", max_timesteps)
    if max_timesteps < min_timesteps:
        raise ValueError(f"max_timesteps={max_timesteps} is below min_timesteps={min_timesteps}")
    _check_positive("max_batch", max_batch)
    case_fixed = {k: v for k, v in fixed.items() if k in _CASE_FIELDS}
    layer_fixed = {k: v for k, v in fixed.items() if k not in _CASE_FIELDS}
    if layers is None:
        check_chunks(case_fixed, layer_fixed, max_timesteps)
    if "mask" in case_fixed and case_fixed["mask"] not in MASK_MODES:
        raise ValueError(f"mask={case_fixed['mask']!r}: expected one of {list(MASK_MODES)}")
    recurrent_gains, input_scales = tuple(recurrent_gains), tuple(input_scales)
    if not recurrent_gains or any(g <= 0 for g in recurrent_gains):
        raise ValueError(f"recurrent_gains={recurrent_gains!r}: expected positive numbers")
    if not input_scales or any(s <= 0 for s in input_scales):
        raise ValueError(f"input_scales={input_scales!r}: expected positive numbers")
    if layers is None:
        layers = layer_specs(kinds=kinds, max_units=max_units, **layer_fixed)
    elif layer_fixed:
        raise ValueError(f"pass layer options {sorted(layer_fixed)} to layer_specs(), not with layers=")

    return _cases(layers=layers, case_fixed=case_fixed, min_timesteps=min_timesteps, max_timesteps=max_timesteps,
                  max_batch=max_batch, recurrent_gains=recurrent_gains, input_scales=input_scales)


@st.composite
def _cases(d: st.DrawFn, *, layers: st.SearchStrategy[CellSpec], case_fixed: dict[str, Any], min_timesteps: int,
           max_timesteps: int, max_batch: int, recurrent_gains: tuple[float, ...],
           input_scales: tuple[float, ...]) -> CaseSpec:
    """:func:`case_specs`'s draw. Module level: ``st.composite`` inspects its function's source
    when it decorates it, ~2.5 ms each time, which a sweep paid once per compile group."""
    layer = d(layers)
    # unroll=True traces one graph node per step; keep those sequences short.
    longest = max(min_timesteps, min(max_timesteps, UNROLL_MAX_TIMESTEPS)) if layer.unroll else max_timesteps
    timesteps = d(_value(case_fixed, "timesteps", st.integers(min_timesteps, longest)))
    chunks = 1
    if layer.stateful:
        chunks = d(_value(case_fixed, "chunks", st.integers(1, min(4, timesteps))))
    return CaseSpec(
        layer=layer,
        batch=d(_value(case_fixed, "batch", st.integers(1, max_batch))),
        timesteps=timesteps,
        mask=d(_value(case_fixed, "mask", st.sampled_from(["mixed", "none"]))),
        initial_state=d(_value(case_fixed, "initial_state", st.booleans())),
        recurrent_gain=d(_value(case_fixed, "recurrent_gain", st.sampled_from(recurrent_gains))),
        kernel_scale=d(_value(case_fixed, "kernel_scale", st.sampled_from(KERNEL_SCALES))),
        bias_scale=d(_value(case_fixed, "bias_scale", st.sampled_from(BIAS_SCALES))),
        input_scale=d(_value(case_fixed, "input_scale", st.sampled_from(input_scales))),
        chunks=chunks,
        seed=d(_value(case_fixed, "seed", st.integers(0, 2**32 - 1))),
        weights_seed=case_fixed.get("weights_seed"),
    )


def compile_signature(case: CaseSpec) -> tuple:
    """What selects a traced Keras graph for ``case`` (see :class:`harness.target.runner.KerasRunner`):
    the layer, mask and initial-state presence, a stateful layer's batch, an unrolled
    layer's chunk lengths. Every case of a :func:`case_groups` draw has the same one."""
    layer = case.layer
    steps = None
    if layer.unroll:
        edges = [round(case.timesteps * k / case.chunks) for k in range(case.chunks + 1)]
        steps = tuple(b - a for a, b in zip(edges[:-1], edges[1:]))
    return (layer, case.mask != "none", case.initial_state, case.batch if layer.stateful else None, steps)


def case_groups(
    *,
    size: int,
    kinds: Iterable[str] | None = None,
    min_timesteps: int = 1,
    max_timesteps: int = 64,
    max_batch: int = 4,
    max_units: int = 32,
    recurrent_gains: Iterable[float] = RECURRENT_GAINS,
    input_scales: Iterable[float] = INPUT_SCALES,
) -> st.SearchStrategy[tuple[CaseSpec, ...]]:
    """Draw ``size`` cases that share one *compile signature*.

    The first case is an ordinary :func:`case_specs` draw; the others keep its
    layer and everything that selects a different traced Keras graph (mask
    presence, initial-state presence; the batch of a stateful layer; the
    timesteps and chunks of an unrolled one) and draw the rest afresh: data
    seed (so weights, inputs, mask rows, initial state), batch, timesteps,
    chunks, recurrent gain, kernel/bias/input scales. The runner traces the
    layer once and reuses the graph for the whole group (see
    :mod:`harness.target.runner`): tracing is the sweep's budget, the extra data
    draws are nearly free.
    """
    _check_positive("size", size)
    common = dict(min_timesteps=min_timesteps, max_timesteps=max_timesteps, max_batch=max_batch,
                  recurrent_gains=recurrent_gains, input_scales=input_scales)
    heads = case_specs(kinds=kinds, max_units=max_units, **common)

    @st.composite
    def draw(d: st.DrawFn) -> tuple[CaseSpec, ...]:
        head = d(heads)
        fixed: dict[str, Any] = {"mask": head.mask, "initial_state": head.initial_state}
        if head.layer.stateful:
            fixed["batch"] = head.batch
        if head.layer.unroll:
            fixed.update(timesteps=head.timesteps, chunks=head.chunks)
        rest = case_specs(layers=st.just(head.layer), **common, **fixed).filter(lambda c: c.seed != head.seed)
        # Distinct data seeds: even Hypothesis's simplest example gets distinct weights and inputs per case.
        others = d(st.lists(rest, min_size=size - 1, max_size=size - 1, unique_by=lambda c: c.seed))
        return (head, *others)

    return draw()


@st.composite
def composite_cases(draw: st.DrawFn, *, kinds: Iterable[str] = COMPOSITE_KINDS, max_timesteps: int = 16) -> CaseSpec:
    """Draw a Bidirectional / stacked-cells / ConvLSTM case for the sweep (random per-array weights,
    non-zero biases; ``kernel_scale`` scales every kernel)."""
    layer = draw(composite_layers(kinds=tuple(kinds)))
    batch = draw(st.integers(1, 3))
    timesteps = draw(st.integers(1, max_timesteps))
    mask = draw(st.sampled_from(["mixed", "none"]))
    kernel_scale = draw(st.sampled_from([1.0, 0.5, 2.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    chunks = 1
    if draw(st.sampled_from([False, False, False, True])):  # a stateful layer, fed in consecutive calls
        layer = layer.with_loop(stateful=True)
        chunks = draw(st.integers(1, min(3, timesteps)))
    return CaseSpec(layer=layer, batch=batch, timesteps=timesteps, mask=mask, kernel_scale=kernel_scale, seed=seed,
                    chunks=chunks)
