"""The comparator: per-timestep error records and a per-case summary.

It returns data and asserts nothing; tests and the CLI decide what to do
with it. Records have fixed named fields so a list of them is a pandas
DataFrame in one call (``records_frame``).

Errors at step ``t`` of a tensor ``(B, n, U)``:

* ``max_abs_err``: ``max_{b,u} |actual - reference|``, at ``index = (b, u)``;
* ``max_rel_err``: ``max_abs_err / max_{b,u} |reference|`` (norm-wise, so a
  reference value that happens to be near zero does not explode it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from harness.layers.tensors import NamedTensor
from harness.oracle.tolerance import NoiseFloor

#: explained: differs from the reference exactly as a named Keras behaviour of the target predicts;
#: unsupported: the target cannot run the case, for a named reason (harness/known_behaviours.py).
STATUSES = ("pass", "drift", "ill-conditioned", "error", "explained", "unsupported")


@dataclass(frozen=True)
class StepRecord:
    """One tensor at one timestep of one case."""

    case_id: str
    cell: str
    tensor: str
    t: int
    max_abs_err: float
    max_rel_err: float
    index: str  # "b,u" of the largest error
    floor: float
    tolerance: float
    judged: bool  # False where float32 cannot follow the trajectory (amplification > tolerance.ILL_CONDITIONED)
    within: bool


@dataclass(frozen=True)
class CaseResult:
    """The verdict data for one case (no decision has been made on it yet)."""

    case_id: str
    cell: str
    status: str  # one of STATUSES
    worst_abs_err: float
    worst_rel_err: float
    worst_ratio: float  # max over judged steps of err / tolerance
    amplification: float
    first_tensor: str | None = None  # first judged step outside tolerance
    first_t: int | None = None
    first_index: str | None = None
    first_err: float | None = None
    first_tolerance: float | None = None
    error: str | None = None  # why the case could not be run
    behaviour: str | None = None  # the named Keras behaviour behind an explained/unsupported status


def abs_diff(actual: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|actual - reference|`` in float64. A value non-finite on one side only is an infinite
    error; the same non-finite value on both sides (NaN and NaN, inf and inf of one sign) is no
    error: both computations overflowed there, alike (see :func:`shared_non_finite`)."""
    a, r = actual.astype(np.float64), reference.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - r)
    diff[~np.isfinite(diff)] = np.inf
    diff[shared_non_finite(a, r)] = 0.0
    return diff


def shared_non_finite(actual: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Where both sides hold the same non-finite value (NaN on both, or the same infinity)."""
    both_nan = np.isnan(actual) & np.isnan(reference)
    same_inf = np.isinf(actual) & np.isinf(reference) & (np.sign(actual) == np.sign(reference))
    return both_nan | same_inf


def compare(
    case_id: str,
    cell: str,
    actual: Mapping[str, NamedTensor],
    reference: Mapping[str, NamedTensor],
    noise: NoiseFloor,
) -> list[StepRecord]:
    """Per-timestep records of ``actual`` against ``reference``.

    Raises ValueError if the two do not return the same tensors and shapes.
    """
    if set(actual) != set(reference):
        raise ValueError(f"returned tensors {sorted(actual)} but the reference returns {sorted(reference)}")
    records: list[StepRecord] = []
    for name, ref in reference.items():
        got = actual[name]
        if got.values.shape != ref.values.shape:
            raise ValueError(f"{name}: shape {got.values.shape}, expected {ref.values.shape}")
        diff = abs_diff(got.values, ref.values)  # (B, n, U)
        scale = np.abs(ref.values).max(axis=(0, 2)) if ref.values.size else np.zeros(len(ref.steps))
        tol = noise.tolerance(name)
        judged = noise.judged(name)
        for k, t in enumerate(ref.steps):
            step = diff[:, k, :]
            flat = int(np.argmax(step)) if step.size else 0
            b, u = divmod(flat, step.shape[1]) if step.size else (0, 0)
            err = float(step.max()) if step.size else 0.0
            records.append(
                StepRecord(
                    case_id=case_id,
                    cell=cell,
                    tensor=name,
                    t=int(t),
                    max_abs_err=err,
                    max_rel_err=err / float(scale[k]) if scale[k] > 0 else (0.0 if err == 0 else float("inf")),
                    index=f"{b},{u}",
                    floor=float(noise.floor[name][k]),
                    tolerance=float(tol[k]),
                    judged=bool(judged[k]),
                    within=bool(err <= tol[k]) or not bool(judged[k]),
                )
            )
    return records


def summarize(case_id: str, cell: str, records: Iterable[StepRecord], noise: NoiseFloor) -> CaseResult:
    """Reduce a case's records to its status and first divergence."""
    records = list(records)
    judged = [r for r in records if r.judged]
    failing = [r for r in judged if r.max_abs_err > r.tolerance]
    worst = max((r.max_abs_err for r in records), default=0.0)
    worst_rel = max((r.max_rel_err for r in records), default=0.0)
    worst_ratio = max((r.max_abs_err / r.tolerance for r in judged if r.tolerance > 0), default=0.0)
    amplification = noise.amplification()
    if failing:
        first = min(failing, key=lambda r: (r.t, r.tensor != "output"))
        return CaseResult(
            case_id=case_id,
            cell=cell,
            status="drift",
            worst_abs_err=worst,
            worst_rel_err=worst_rel,
            worst_ratio=worst_ratio,
            amplification=amplification,
            first_tensor=first.tensor,
            first_t=first.t,
            first_index=first.index,
            first_err=first.max_abs_err,
            first_tolerance=first.tolerance,
        )
    status = "ill-conditioned" if noise.ill_conditioned() else "pass"
    return CaseResult(case_id, cell, status, worst, worst_rel, worst_ratio, amplification)


def error_result(case_id: str, cell: str, message: str) -> CaseResult:
    nan = float("nan")
    return CaseResult(case_id, cell, "error", nan, nan, nan, nan, error=message)


def records_frame(records: Iterable[StepRecord]):
    """A pandas DataFrame with one row per record and the StepRecord columns."""
    import pandas as pd

    columns = [f.name for f in dataclasses.fields(StepRecord)]
    return pd.DataFrame([dataclasses.astuple(r) for r in records], columns=columns)


def results_frame(results: Iterable[CaseResult]):
    import pandas as pd

    columns = [f.name for f in dataclasses.fields(CaseResult)]
    return pd.DataFrame([dataclasses.astuple(r) for r in results], columns=columns)
