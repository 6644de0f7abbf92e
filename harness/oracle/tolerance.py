"""Calibrated tolerance: each case's float32 noise floor, measured on the case.

Keras computes in float32; the reference in float64. Their difference is
float32 round-off, *amplified by the case's own dynamics*: ~1e-7 and flat for
a contractive net, growing without bound for a chaotic one. A fixed tolerance
is therefore either too tight (false alarms on chaotic cases) or too loose
(misses on well-conditioned ones). Instead, for every tensor and timestep:

1. ``e32(t)``: the reference run in float32 against float64 - one sample of
   how much float32 round-off, pushed through *these* weights, moves the
   result at step ``t``.
2. ``ep_k(t)``: two float64 runs with every weight, input and initial-state
   entry multiplied by ``1 + eps32*u`` (``u`` uniform in [-1, 1], seeded by
   the case) - the growth of a float32-sized perturbation. These catch
   amplification that a single float32 sample can miss by luck.
3. ``unit(t) = eps32 * scale(t)``: one float32 ulp of the result, so a step
   whose samples happen to agree exactly still has a floor. ``scale(t)`` is
   ``max|y(t)|``, but at least 1% of the tensor's largest magnitude up to
   ``t`` (round-off left by large earlier values does not vanish when the
   values decay, and an all-zero masked step must not have a zero floor; not
   over the whole sequence, or an exploding tensor's final size would swamp
   its early steps - the trust run found one whose t < 100 had a tolerance of
   6e9 on values below 1e6).

``floor(t)`` is the largest of these over the steps ``t-32 .. t+2``. Round-off
samples are spiky, and where the dynamics integrate (a GRU whose update gate
sits near 1, a slowly forgetting LSTM) the accumulated round-off is a random
walk: one realisation can pass near zero while another does not. The trailing
window keeps the floor at the level the samples reached recently; it is only
laxer than the round-off seen at ``t`` itself where round-off was larger a few
steps earlier. Then

    tolerance(t) = MULTIPLIER * floor(t)

A step is *judged* only while its *amplification* - what the samples measured
over ``t-32 .. t+2`` (without the one-ulp minimum) divided by one float32 ulp of
the values' own magnitude over the same steps (without the 1% scale floor) - is
at most ``ILL_CONDITIONED`` (1e3): the floor is then at most 0.012% of the values
(``CHAOS_FRACTION``). Calibration (the trust run in the README, T up to 1,000,
gains up to 5): at amplification <= 1e3 Keras's error never exceeded 1.8 floors;
above it, where float32 can no longer follow the trajectory, one realisation of
round-off is no guide to another and Keras was seen 57 floors away from the
reference. Both parts of the ratio are measured, never floored: measured against
a scale floored at 1% of a tensor's final (exploding) magnitude, a step whose
values were 10^5 times smaller looked well-conditioned while float32 had long lost
it. Steps where float32 overflows (a sample is inf or NaN) are not judged either.
The case's amplification is the largest over its steps; a case above
``ILL_CONDITIONED``, or with unjudged steps, is reported as ill-conditioned with
its amplification, never as a mismatch.
The constants were calibrated by ``tests/parity`` and the
calibration sweep described in the README ("The tolerance rule").

**Reduced precision** (a port declared ``--precision float16|bfloat16|fixed<W,I>``,
:mod:`reference_cells.precision`): the same three measures at that precision ``P``.
The sample is the reference run with ``P``'s arithmetic simulated against float64;
the perturbations are one ``P`` step (``eps_P`` relative for floats, the step
``2**-(W-I)`` added for fixed point); one ulp is ``P``'s (:meth:`Precision.ulp`); and
the amplification is measured in ``P``'s ulps, so "judged" keeps its meaning: the
samples still predict each other. ``MULTIPLIER`` is unchanged; its calibration at
each precision is in ``docs/tolerance.md`` ("Reduced precision").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from harness.layers.case import CaseData
from harness.layers.tensors import NamedTensor
from harness.oracle.reference import run_reference
from harness.oracle.references import LayerReference
from reference_cells.precision import FLOAT32, Precision

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7, the float32 unit round-off (x2)
#: Keras's error may exceed our own float32 sample by this factor before it is called drift.
MULTIPLIER = 32.0
#: Steps before / after ``t`` over which the samples are maximised.
WINDOW_BEFORE, WINDOW_AFTER = 32, 2
#: Minimum scale of a step, as a fraction of the tensor's largest magnitude.
SCALE_FLOOR = 1e-2
#: Amplification (floor / local ulp) above which a step is not judged and a case is called ill-conditioned.
ILL_CONDITIONED = 1e3
#: The same limit as a fraction of the values' magnitude: float32 has lost the trajectory beyond it.
CHAOS_FRACTION = ILL_CONDITIONED * EPS32
#: Number of perturbed float64 runs.
PERTURBATIONS = 2


@dataclass(frozen=True)
class NoiseFloor:
    """Per-tensor, per-timestep float32 noise floor of one case."""

    floor: dict[str, np.ndarray]  # name -> (n,); inf where float32 overflows
    scale: dict[str, np.ndarray]  # name -> (n,) magnitude of the values (see module doc)
    # What the samples measured (windowed, without the one-ulp minimum) and the values' own
    # windowed magnitude (without SCALE_FLOOR): whether float32 still follows the trajectory is
    # their ratio. None (hand-made floors): fall back to floor / scale.
    measured: dict[str, np.ndarray] | None = None
    local: dict[str, np.ndarray] | None = None
    precision: Precision = FLOAT32  # the arithmetic the floor was measured at

    def tolerance(self, name: str) -> np.ndarray:
        return MULTIPLIER * self.floor[name]

    def step_amplification(self, name: str) -> np.ndarray:
        """``(n,)`` measured round-off over one ulp (at the floor's precision) of the local values (inf on overflow)."""
        floor = self.floor[name]
        measured = floor if self.measured is None else self.measured[name]
        local = self.scale[name] if self.local is None else self.local[name]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(measured > 0, measured / self.precision.ulp(local), 0.0)
        return np.where(np.isfinite(floor) & np.isfinite(measured), ratio, np.inf)

    def judged(self, name: str) -> np.ndarray:
        return self.step_amplification(name) <= ILL_CONDITIONED

    def amplification(self) -> float:
        """Largest step amplification over all tensors and steps (inf on overflow)."""
        return max((float(np.max(self.step_amplification(n), initial=0.0)) for n in self.floor), default=0.0)

    def ill_conditioned(self) -> bool:
        return self.amplification() > ILL_CONDITIONED or not all(np.all(self.judged(n)) for n in self.floor)


def _stepwise_max_abs(a: NamedTensor, b: NamedTensor) -> np.ndarray:
    """``(n,)`` max over batch and units of ``|a - b|``; inf where either is not finite."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a.values.astype(np.float64) - b.values.astype(np.float64))
    diff[~np.isfinite(diff)] = np.inf
    return diff.max(axis=(0, 2)) if diff.size else np.zeros(a.values.shape[1])


def magnitude(values: np.ndarray) -> np.ndarray:
    """``(n,)`` scale of a ``(B, n, U)`` tensor: ``max|y(t)|``, at least ``SCALE_FLOOR`` of its max so far."""
    if not values.size:
        return np.ones(values.shape[1])
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.nan_to_num(np.abs(values.astype(np.float64)), nan=0.0, posinf=np.finfo(np.float64).max).max(axis=(0, 2))
        # Causal: round-off left by large *earlier* values persists; later growth says nothing about t.
        so_far = np.maximum.accumulate(step)
        return np.maximum(step, np.maximum(SCALE_FLOOR * so_far, np.finfo(np.float32).tiny))


def _local_magnitude(values: np.ndarray) -> np.ndarray:
    """``(n,)`` ``max|y(t)|`` over batch and units, with no floor (inf where not finite)."""
    if not values.size:
        return np.zeros(values.shape[1])
    with np.errstate(invalid="ignore", over="ignore"):
        return np.nan_to_num(np.abs(values.astype(np.float64)), nan=np.inf).max(axis=(0, 2))


def _window_max(values: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[t] = max(values[t-before : t+after+1])`` (clipped at the ends)."""
    padded = np.pad(values, (before, after), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, before + after + 1)
    return windows.max(axis=-1)


def _jitter(a: np.ndarray, rng: np.random.Generator, precision: Precision = FLOAT32) -> np.ndarray:
    """``a`` in float64, each entry multiplied by ``1 + eps*u``, ``u ~ U[-1, 1]`` (``eps`` of ``precision``,
    float32 by default); for fixed point, ``step*u`` added (its grid spacing is absolute)."""
    a64 = np.asarray(a, dtype=np.float64)
    if precision.absolute:
        return a64 + precision.eps * rng.uniform(-1.0, 1.0, a64.shape)
    return a64 * (1.0 + precision.eps * rng.uniform(-1.0, 1.0, a64.shape))


def _perturbed(data: CaseData, rng: np.random.Generator, precision: Precision = FLOAT32) -> CaseData:
    """Weights, inputs and initial state each jittered by one ulp of ``precision`` (in that order)."""
    def jitter(a: np.ndarray) -> np.ndarray:
        return _jitter(a, rng, precision)

    return CaseData(
        spec=data.spec,
        weights=[jitter(w) for w in data.weights],
        x=jitter(data.x),
        mask=data.mask,
        initial_state=None if data.initial_state is None else [jitter(s) for s in data.initial_state],
    )


def noise_floor(
    ref: LayerReference,
    data: CaseData,
    reference: Mapping[str, NamedTensor],
    trace: Mapping[str, NamedTensor],
    *,
    precision: Precision = FLOAT32,
) -> NoiseFloor:
    """The noise floor of ``data`` for each tensor in ``reference`` (``ref``'s float64 run), at the
    arithmetic ``precision`` (float32: Keras's own; lower: a port declared at that precision).

    ``trace`` is the float64 trace of the same run (:func:`~harness.oracle.reference.run_reference`).
    The samples are taken on the trace - every step of the output and of every
    state where the reference has them - windowed there, and then read at the
    steps each returned tensor covers: a last-output or final-state tensor gets
    the floor of its step *with* its neighbours, not a single noisy sample.
    Where the trace is the returned tensors themselves (composite layers), a
    last-step tensor's floor rests on its single step.
    """
    sample_dtype = np.float32 if precision == FLOAT32 else precision
    samples = [run_reference(ref, data, dtype=sample_dtype)[1]]
    samples += [run_reference(ref, p, dtype=np.float64)[1] for p in perturbations(data, precision)]
    return floor_from_samples(reference, trace, samples, precision=precision)


def perturbations(data: CaseData, precision: Precision = FLOAT32) -> list[CaseData]:
    """The ``PERTURBATIONS`` jittered copies of ``data`` the floor runs in float64 (seeded by the case)."""
    rng = np.random.default_rng([data.spec.seed, 0x5EED])
    return [_perturbed(data, rng, precision) for _ in range(PERTURBATIONS)]


def floor_from_samples(
    reference: Mapping[str, NamedTensor],
    trace: Mapping[str, NamedTensor],
    samples: list[Mapping[str, NamedTensor]],
    *,
    precision: Precision = FLOAT32,
) -> NoiseFloor:
    """The floor (:func:`noise_floor`) from its samples: the trace at ``precision``, then the perturbed ones."""
    floor, scale, measured, local = {}, {}, {}, {}
    for name, returned in reference.items():
        whole = trace[name]
        at = np.searchsorted(whole.steps, returned.steps)  # the trace positions of the returned steps
        whole_scale = magnitude(whole.values)
        raw = np.max([_stepwise_max_abs(s[name], whole) for s in samples], axis=0)
        whole_floor = _window_max(np.maximum(raw, precision.ulp(whole_scale)), WINDOW_BEFORE, WINDOW_AFTER)
        floor[name] = whole_floor[at]
        scale[name] = whole_scale[at]
        measured[name] = _window_max(raw, WINDOW_BEFORE, WINDOW_AFTER)[at]
        local[name] = _window_max(_local_magnitude(whole.values), WINDOW_BEFORE, WINDOW_AFTER)[at]
    return NoiseFloor(floor=floor, scale=scale, measured=measured, local=local, precision=precision)
