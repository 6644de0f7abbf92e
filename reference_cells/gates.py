"""Splitting Keras's fused gate matrices into per-gate blocks, by convention.

Keras stores all gates of a cell side by side along the last axis:
``kernel (F, G*U)``, ``recurrent_kernel (U, G*U)``, ``bias (G*U,)`` or
``(2, G*U)``. Block ``k`` is columns ``[k*U, (k+1)*U)``. Which gate block ``k``
*is* depends on the implementation's gate order (see
:func:`reference_cells.conventions.gate_blocks`).
"""

from __future__ import annotations

import numpy as np

from reference_cells.conventions import Conventions, gate_blocks


def split_gates(
    fused: np.ndarray, *, units: int, keras_order: str, conventions: Conventions
) -> dict[str, np.ndarray]:
    """``{gate: block}`` for a fused array, reading blocks in ``conventions.gate_order``.

    Shapes: ``fused (..., G*U)`` -> each block ``(..., U)``.
    """
    n_gates = len(keras_order)
    if fused.shape[-1] != n_gates * units:
        raise ValueError(
            f"fused weight has last dimension {fused.shape[-1]}, expected {n_gates}*units={n_gates * units}"
        )
    blocks = gate_blocks(conventions.gate_order, keras_order)
    return {g: fused[..., k * units : (k + 1) * units] for g, k in blocks.items()}


def recurrent_blocks(
    recurrent_kernel: np.ndarray, *, units: int, keras_order: str, conventions: Conventions
) -> dict[str, np.ndarray]:
    """Per-gate recurrent matrices ``(U, U)``, transposed per gate when the
    implementation uses the ``recurrent-transposed`` layout."""
    blocks = split_gates(recurrent_kernel, units=units, keras_order=keras_order, conventions=conventions)
    if conventions.kernel_layout == "recurrent-transposed":
        blocks = {g: r.T for g, r in blocks.items()}
    return blocks


def bias_scale(conventions: Conventions) -> float:
    """How many times the stored bias is counted: 1 (keras), 0 (none), 2 (double)."""
    return {"keras": 1.0, "none": 0.0, "double": 2.0}[conventions.bias]
