"""Naming the cause: search the catalogue for conventions that reproduce the port.

For every example the port's outputs are compared with the reference run
under a candidate's conventions, against the example's tolerance (the float32
noise floor of the Keras computation). A candidate *explains* the port when
that residual is within tolerance at every judged step of every example.

Search order (Occam): single faults first; only when none explains, pairs.
Screening runs each candidate on the first example only and confirms the
survivors on all of them. Pairs are formed from the singles that reduce the
error most, each combined with every other single.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from harness.check.catalogue import Candidate, candidates, merge
from harness.layers.case import CaseData
from harness.layers.tensors import NamedTensor
from harness.oracle.compare import abs_diff
from harness.oracle.conventions import LayerConventions
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.references import LayerReference, cell_view
from harness.oracle.tolerance import NoiseFloor, floor_from_samples, magnitude, noise_floor

#: How many of the most error-reducing singles seed the pair search.
PAIR_SEEDS = 6
#: Screening approximates a candidate's floor by the Keras floor and one ulp of the candidate's values. At a
#: reduced precision a candidate's own round-off, amplified by its dynamics (an exploding fault), can exceed
#: that approximation by far more than at float32 (measured: a float16 GRU with the swapped update, celu gates:
#: screened at 1.16 x, confirmed at 0.016 x), so there a candidate screened within this factor is confirmed
#: with its measured floor. At float32 the limit stays 1 (the float32 search is unchanged).
REDUCED_PRECISION_SCREEN = 32.0


def screen_limit(examples: Sequence["Example"]) -> float:
    """The screening ratio below which a candidate is screened again with its own round-off sample (then
    confirmed if that passes; see :data:`REDUCED_PRECISION_SCREEN`): 1 at float32 (no second screen)."""
    reduced = any(e.noise is not None and not e.noise.precision.native for e in examples)
    return REDUCED_PRECISION_SCREEN if reduced else 1.0


def passes_screen(hypothesis: "Hypothesis", ratio: float, example: "Example", limit: float) -> bool:
    """Screened ``ratio`` on ``example`` within 1, or within ``limit`` and within 1 once the candidate's own
    round-off sample is in its floor (reduced precision only)."""
    if ratio <= 1.0:
        return True
    return ratio <= limit and evaluate(hypothesis, [example], precise="sampled").ratio <= 1.0


@dataclass(frozen=True)
class Example:
    """One example the port was run on, of any layer kind.

    The search asks an example four things: :meth:`expected`, :meth:`candidate_floor`,
    :meth:`candidates` and :attr:`size`. ``layer`` is what the reference and the
    catalogue read: :func:`~harness.oracle.references.cell_view` of a cell spec, or the
    built Keras layer of a composite (see :func:`harness.oracle.reference.layer_reference`).
    """

    data: CaseData
    port: dict[str, NamedTensor]
    noise: NoiseFloor
    layer: Any = None
    keras: dict[str, NamedTensor] | None = None  # what Keras returned (to judge the example again at another precision)
    #: float64 reference runs by conventions, ``(returned, trace)``: screening, confirmation and the same example
    #: at another precision (``dataclasses.replace`` shares it) ask for the same run more than once.
    runs: dict = field(default_factory=dict, repr=False, compare=False)

    def _reference(self, conventions: LayerConventions) -> LayerReference:
        return layer_reference(self.data, self.layer, conventions=_as_layer(conventions))

    def run(self, conventions: LayerConventions) -> tuple[dict[str, NamedTensor], dict[str, NamedTensor]]:
        """``(returned, trace)`` of the float64 reference run with ``conventions`` (computed once)."""
        key = _as_layer(conventions).describe()
        if key not in self.runs:
            self.runs[key] = run_reference(self._reference(conventions), self.data)
        return self.runs[key]

    def expected(self, conventions: LayerConventions) -> dict[str, NamedTensor]:
        """The reference's return when run with ``conventions``."""
        return self.run(conventions)[0]

    def candidate_floor(self, expected: dict[str, NamedTensor], conventions: LayerConventions) -> NoiseFloor:
        """The full noise floor of the computation ``conventions`` describes, at the example's precision."""
        ref = self._reference(conventions)
        reference, trace = self.run(conventions)
        return noise_floor(ref, self.data, reference, trace, precision=self.noise.precision)

    def candidates(self, *, with_mask: bool, with_initial_state: bool) -> list[Candidate]:
        layer = self.layer if self.layer is not None else _cell_layer(self.data)
        return candidates(layer, with_mask=with_mask, with_initial_state=with_initial_state)

    @property
    def size(self) -> int:
        """How informative the example is (screening runs on the largest)."""
        return self.data.x.size * self.data.spec.layer.units


def _cell_layer(data: CaseData) -> Any:
    spec = data.spec.layer
    return cell_view(spec.kind, spec.to_keras_config())


def _as_layer(conventions: Any) -> LayerConventions:
    """Cell :class:`Conventions` (tests, meta-tests) as the whole layer's conventions."""
    return conventions if isinstance(conventions, LayerConventions) else LayerConventions(cell=conventions)


@dataclass(frozen=True)
class Hypothesis:
    """One or more catalogue faults, applied together."""

    parts: tuple[Candidate, ...]
    conventions: LayerConventions

    @property
    def flags(self) -> list[str]:
        return sorted({p.flag for p in self.parts})


@dataclass(frozen=True)
class Finding:
    hypothesis: Hypothesis
    residual: float  # max abs error port vs reference-with-this-fault, over examples
    ratio: float  # max over judged steps of residual / tolerance (<= 1 explains)


@dataclass
class Diagnosis:
    explained: list[Finding] = field(default_factory=list)  # all equally good explanations
    closest: list[Finding] = field(default_factory=list)  # when nothing explains: the nearest, labelled as such
    ambiguous: bool = False
    searched: int = 0  # hypotheses evaluated

    def flags(self) -> list[str]:
        """The named causes, or ``["unexplained"]`` when nothing in the catalogue fits."""
        if not self.explained:
            return ["unexplained"]
        return sorted({flag for finding in self.explained for flag in finding.hypothesis.flags})


def residual_ratio(example: Example, conventions: LayerConventions, *,
                   precise: bool | str = False) -> tuple[float, float]:
    """(max abs error, max error/tolerance over judged steps) of the port against the
    reference run with ``conventions``.

    The tolerance is the noise floor of the *candidate's* computation (the port
    computes that, not what Keras computes: where Keras outputs an exact 0 at a
    masked step, a mask-ignoring port outputs O(1) values with O(1e-7)
    round-off). Screening (``precise=False``) approximates it by the Keras
    floor raised to one float32 ulp of the candidate's values; confirmation
    measures it in full. ``precise="sampled"`` (a second screen at reduced precision,
    :data:`REDUCED_PRECISION_SCREEN`) adds the candidate's own round-off sample at
    the example's precision to the screening floor: two reference runs, not five.
    """
    trace = None
    try:
        if precise == "sampled":
            expected, trace = example.run(conventions)
            sample = run_reference(example._reference(conventions), example.data, dtype=example.noise.precision)[1]
        else:
            expected = example.expected(conventions)
    except ValueError:  # a candidate that does not apply to this example (e.g. LSTM gate order on a GRU cell)
        return float("inf"), float("inf")
    if set(expected) != set(example.port):  # e.g. another merge mode returns other tensors: not this port
        return float("inf"), float("inf")
    if precise is True:
        noise = example.candidate_floor(expected, conventions)
    else:
        noise = NoiseFloor(
            floor={n: np.maximum(example.noise.floor[n], example.noise.precision.ulp(magnitude(expected[n].values)))
                   for n in expected},
            scale={n: np.maximum(example.noise.scale[n], magnitude(expected[n].values)) for n in expected},
            precision=example.noise.precision,
        )
        if trace is not None:
            own = floor_from_samples(expected, trace, [sample], precision=example.noise.precision)
            noise = dataclasses.replace(own, floor={n: np.maximum(own.floor[n], noise.floor[n]) for n in expected})
    worst_abs, worst_ratio = 0.0, 0.0
    for name, ref in expected.items():
        got = example.port.get(name)
        if got is None or got.values.shape != ref.values.shape:
            return float("inf"), float("inf")
        diff = abs_diff(got.values, ref.values)
        per_step = diff.max(axis=(0, 2)) if diff.size else np.zeros(len(ref.steps))
        judged = noise.judged(name) & example.noise.judged(name)
        tol = noise.tolerance(name)
        worst_abs = max(worst_abs, float(per_step.max(initial=0.0)))
        if judged.any():
            worst_ratio = max(worst_ratio, float(np.max(per_step[judged] / tol[judged])))
    return worst_abs, worst_ratio


def evaluate(hypothesis: Hypothesis, examples: Sequence[Example], *, precise: bool | str = False,
             stop_above: float | None = None) -> Finding:
    """The hypothesis's worst residual and ratio over ``examples``; with ``stop_above``, stop at the first
    example whose ratio exceeds it (a confirmation that has failed: the rest cannot change the verdict)."""
    worst_abs, worst_ratio = 0.0, 0.0
    for example in examples:
        a, r = residual_ratio(example, hypothesis.conventions, precise=precise)
        worst_abs, worst_ratio = max(worst_abs, a), max(worst_ratio, r)
        if stop_above is not None and worst_ratio > stop_above:
            break
    return Finding(hypothesis, worst_abs, worst_ratio)


def confirm(hypothesis: Hypothesis, examples: Sequence[Example], *, first: Example | None = None) -> Finding:
    """:func:`evaluate` with the measured floors, ``first`` (the screening example) first, stopping at the
    first example it does not explain (only explaining findings are kept, so their figures are complete)."""
    ordered = list(examples) if first is None else [first, *(e for e in examples if e is not first)]
    return evaluate(hypothesis, ordered, precise=True, stop_above=1.0)


def single_hypotheses(examples: Sequence[Example], *, with_mask: bool, with_initial_state: bool) -> list[Hypothesis]:
    """Every single catalogue fault for these examples. They differ in their drawn options
    (go_backwards, reset_after, ...): a candidate that applies to any of them is taken; on the
    others it is a no-op."""
    singles, keys = [], set()
    for example in examples:
        for c in example.candidates(with_mask=with_mask, with_initial_state=with_initial_state):
            if c.key not in keys:
                keys.add(c.key)
                singles.append(Hypothesis((c,), c.conventions))
    return singles


def diagnose(
    examples: Sequence[Example], *, with_mask: bool, with_initial_state: bool, pairs: bool = True,
    closest: bool = True,
) -> Diagnosis:
    """Search single faults, then pairs, for conventions that reproduce the port (``closest``: when nothing
    does, measure the three nearest on every example for the answer)."""
    if not examples:
        return Diagnosis()
    singles = single_hypotheses(examples, with_mask=with_mask, with_initial_state=with_initial_state)
    result = Diagnosis()

    # Screen on the most informative example (Hypothesis draws minimal ones first).
    screen = [max(examples, key=lambda e: e.size)]
    screened = [evaluate(h, screen) for h in singles]
    result.searched += len(screened)
    limit = screen_limit(examples)
    explained = [f for f in screened if passes_screen(f.hypothesis, f.ratio, screen[0], limit)]
    confirmed = [confirm(f.hypothesis, examples, first=screen[0]) for f in explained]
    result.explained = [f for f in confirmed if f.ratio <= 1.0]

    if not result.explained and pairs:
        seeds = sorted(screened, key=lambda f: f.ratio)[:PAIR_SEEDS]
        pair_hypotheses = []
        seen: set[str] = set()
        for seed in seeds:
            for other in singles:
                parts = (seed.hypothesis.parts[0], other.parts[0])
                conventions = merge(parts)
                if conventions is None or conventions.describe() in seen:
                    continue
                seen.add(conventions.describe())
                pair_hypotheses.append(Hypothesis(parts, conventions))
        screened_pairs = [evaluate(h, screen) for h in pair_hypotheses]
        result.searched += len(screened_pairs)
        confirmed = [confirm(f.hypothesis, examples, first=screen[0]) for f in screened_pairs
                     if passes_screen(f.hypothesis, f.ratio, screen[0], limit)]
        result.explained = [f for f in confirmed if f.ratio <= 1.0]
        screened += screened_pairs

    if not result.explained and closest:
        ranked = sorted(screened, key=lambda f: f.ratio)[:3]
        result.closest = [evaluate(f.hypothesis, examples) for f in ranked]
    result.ambiguous = len(result.explained) > 1
    return result
