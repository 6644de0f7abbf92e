"""Undeclared reduced precision as a cause: the flag ``precision``.

A port that computes in float16, bfloat16 or fixed point differs from Keras by its
own round-off: ~1e-3 for float16, far above the float32 tolerance, so without
``--precision`` every such port is a mismatch, and a real bug in it is hidden behind
the same round-off. When nothing in the catalogue names a port at the precision it
was checked at, :func:`undeclared_precision` tries the :data:`LADDER` of lower
precisions (those whose grid holds the port's values, below): every example is judged again against the noise floor
measured at that precision (:func:`at_precision`), and the examples that still
diverge are diagnosed there (:func:`harness.check.conditions.partition`, the whole
catalogue at that precision). A precision at which everything is accounted for -
every example matches, or each diverging group has a named cause - is the port's:
the answer is ``precision`` (plus those causes), never ``unexplained``.

Round-off has a fingerprint that a bug of the same size lacks: the values a port
computing in ``P`` returns are ``P`` values (a float16 port's outputs are exactly
representable in float16; a fixed<16,6> port's are multiples of 2**-10). Only the
precisions whose grid holds every value the port returned are tried (:func:`on_grid`),
the coarsest first (a bfloat16 value is a float16 value too, not the reverse): a
float32 port whose outputs are off by a constant 1e-3 - float16-sized, but a bug - stays
``unexplained``. A port whose error fits a lower precision's floor while its outputs
are not on that grid (weights stored in float16, arithmetic in float32: a LiteRT
float16 export) gets a note suggesting ``--precision`` instead of the flag.

Cost control: a precision is tried in full only if, on each unexplained group's most
informative example, Keras itself or one of the group's closest candidates passes that
precision's screening (:func:`harness.check.diagnosis.screen_limit`); a float32 port
with a real unexplained bug is rejected there (or by the grid) without a second diagnosis.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from harness.check.conditions import CauseGroup, partition
from harness.check.diagnosis import Example, Hypothesis, evaluate, passes_screen, screen_limit
from harness.oracle.compare import CaseResult, compare, summarize
from harness.oracle.conventions import KERAS_LAYER
from harness.oracle.reference import layer_reference
from harness.oracle.tolerance import noise_floor
from harness.ports.guard import first_non_finite
from reference_cells.precision import BFLOAT16, FLOAT16, Precision, fixed

#: The precisions tried for an undeclared port, finest first (float16 before hls4ml's default
#: fixed<16,6>: the same step at magnitude 1, finer below it); tried in reverse, coarsest grid first,
#: among those whose grid holds every value the port returned. Other fixed formats: declare them.
LADDER: tuple[Precision, ...] = (FLOAT16, fixed(16, 6), BFLOAT16)


def at_precision(example: Example, precision: Precision) -> tuple[Example, CaseResult]:
    """``example`` with its noise floor measured at ``precision``, and its verdict there."""
    spec = example.data.spec
    ref = layer_reference(example.data, example.layer)
    reference, trace = example.run(KERAS_LAYER)
    noise = noise_floor(ref, example.data, reference, trace, precision=precision)
    moved = dataclasses.replace(example, noise=noise)
    records = compare(spec.case_id(), spec.kind, example.port, example.keras or {}, noise)
    result = summarize(spec.case_id(), spec.kind, records, noise)
    if result.status != "drift" and first_non_finite(example.port, example.keras or {}):
        result = dataclasses.replace(result, status="drift")  # NaN/inf where Keras is finite: never round-off
    return moved, result


def on_grid(example: Example, precision: Precision) -> bool:
    """Whether every finite value the port returned is exactly a ``precision`` value."""
    for tensor in example.port.values():
        values = np.asarray(tensor.values, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size and not np.array_equal(precision.round(values), values):
            return False
    return True


def gridded(examples: Sequence[Example], diverging: Sequence[int], *, declared: Precision) -> list[Precision]:
    """The :data:`LADDER` precisions below ``declared`` whose grid holds every value the diverging examples'
    port returned (finest first)."""
    if not diverging:
        return []
    return [p for p in LADDER if p.coarser_than(declared) and all(on_grid(examples[k], p) for k in diverging)]


def _plausible(groups: Sequence[CauseGroup], examples: Sequence[Example], precision: Precision) -> bool:
    """Screening: on each unexplained group's largest example, Keras or a closest candidate fits ``precision``."""
    for group in groups:
        if group.diagnosis.explained:
            continue
        members = [examples[i] for i in group.members]
        largest = max(members, key=lambda e: e.size)
        moved, _ = at_precision(largest, precision)
        hypotheses = [Hypothesis((), KERAS_LAYER), *(f.hypothesis for f in group.diagnosis.closest)]
        limit = screen_limit([moved])
        if not any(passes_screen(h, evaluate(h, [moved]).ratio, moved, limit) for h in hypotheses):
            return False
    return True


def undeclared_precision(
    examples: Sequence[Example], diverging: Sequence[int], *, declared: Precision, groups: Sequence[CauseGroup],
    with_mask: bool, with_initial_state: bool, screen: bool = True,
) -> tuple[Precision, list[Example], list[CaseResult], list[CauseGroup]] | None:
    """The finest :data:`LADDER` precision below ``declared`` that accounts for every diverging example
    (``diverging``: indices into ``examples``; ``groups``: their partition at ``declared``), with the
    examples moved to it, their verdicts there and the partition of those still diverging there
    (member indices into ``examples``). None when no precision does. ``screen=False`` skips the
    plausibility screen (the caller searched single causes only, without their closest candidates).

    Its symptom (``docs/flags.md``) is :data:`harness.check.catalogue.PRECISION_SYMPTOM`."""
    tried = gridded(examples, diverging, declared=declared)
    for precision in reversed(tried):  # coarsest first: a bfloat16 port's values are float16 values too
        if screen and not _plausible(groups, [*examples], precision):
            continue
        moved = [at_precision(ex, precision) if k in diverging else (ex, None) for k, ex in enumerate(examples)]
        at = [m for m, _ in moved]
        still = [k for k, (_, r) in enumerate(moved) if r is not None and r.status == "drift"]
        found = partition(at, still, with_mask=with_mask, with_initial_state=with_initial_state) if still else []
        if all(g.diagnosis.explained for g in found):
            # The examples that matched at the declared precision match at a coarser one too: move them as well
            # (the condition search compares against them).
            at = [m if k in diverging else at_precision(m, precision)[0] for k, m in enumerate(at)]
            results = [r for _, r in moved]
            return precision, at, results, found
    return None


def off_grid_hint(examples: Sequence[Example], groups: Sequence[CauseGroup], *, declared: Precision) -> str | None:
    """A note when the port's error fits a lower precision's floor but its values are not on that grid (so the
    flag is not given): e.g. weights stored in float16 and float32 arithmetic."""
    for precision in LADDER:
        if precision.coarser_than(declared) and _plausible(groups, [*examples], precision):
            return (f"the port's error is within {precision} round-off, but its outputs are not {precision} values; "
                    f"if it stores its weights or inputs in {precision}, check it with --precision {precision}")
    return None
