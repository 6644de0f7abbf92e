"""Naming the shape of a per-timestep error curve.

Shapes (``../shared/keras-rnn-semantics.md`` §7 explains what each points to):

* ``within tolerance``  every judged step within its tolerance
* ``onset at step k``   within tolerance (usually exactly 0) until step k, then above:
                        masking, recurrent-only faults (zero while h0 = 0), state carry
* ``constant offset``   above tolerance from t=0 and roughly flat: activation, bias, gate order
* ``growing``           above tolerance and at least 10x larger at the end than at the start
* ``decaying``          at least 10x smaller at the end: a wrong initial state forgotten
* ``single step``       the tensor has one timestep (last output, final state)
"""

from __future__ import annotations

import numpy as np

#: Ratio between the late and early error levels that makes a curve growing/decaying.
TREND_FACTOR = 10.0


def growth_pattern(errors: np.ndarray, tolerance: np.ndarray, judged: np.ndarray | None = None) -> str:
    """The shape of ``errors`` (one value per timestep) against ``tolerance``."""
    errors = np.asarray(errors, dtype=float)
    tolerance = np.asarray(tolerance, dtype=float)
    judged = np.ones_like(errors, dtype=bool) if judged is None else np.asarray(judged, dtype=bool)
    above = (errors > tolerance) & judged
    if not above.any():
        return "within tolerance"
    if errors.size == 1:
        return "single step"
    first = int(np.argmax(above))
    if first > 0:
        return f"onset at step {first}"
    finite = np.where(np.isfinite(errors), errors, np.nanmax(np.where(np.isfinite(errors), errors, 0)) * 10 + 1)
    quarter = max(1, errors.size // 4)
    early = float(np.median(finite[:quarter])) + 1e-300
    late = float(np.median(finite[-quarter:])) + 1e-300
    if late / early >= TREND_FACTOR:
        return "growing"
    if early / late >= TREND_FACTOR:
        return "decaying"
    return "constant offset"
