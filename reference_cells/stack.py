"""Many draws of one SimpleRNN/LSTM/GRU configuration through one time loop.

A sweep's compile group is K data draws of one layer configuration, each with
its own weights, inputs ``x_d (B_d, T_d, F)``, mask and initial state; the noise
floor adds two perturbed copies of each. :func:`run_sequence_stack` runs all of
them through *one* time loop (Keras's conventions only), stacked on a leading
draw axis ``d``::

    P[d, :, :T_d] = project_d(x_d)              # per draw, as run_sequence does;
                                                # reversed in time first with go_backwards
    for t in 0 .. max_d T_d - 1:
        out[d], s[d] = step(P[d, :, t], s[d])   # the cell's own step_projected on stacked
                                                # weights: h (D, B, U) @ R (D, U, G) is one
                                                # batched matmul, each draw its own R
        masked rows carry their states (and the previous output), as in sequence._drive

Every draw of one stack has the same batch ``B`` (see below); time is padded
to ``max_d T_d`` steps, which are computed and thrown away: steps after
``T_d`` cannot reach earlier ones. Draw ``d``'s trace is then
:func:`~reference_cells.sequence.run_sequence` on draw ``d``, to the bit:
every operation in a step is elementwise or per row except the recurrent
matmul, and NumPy's stacked matmul makes one BLAS call per draw - the same
call as the draw alone, *if* the draw keeps its own number of rows. (OpenBLAS
picks its kernel by shape: a one-row product goes to gemv, small products to
small-matrix kernels, and these round differently; padding a draw's rows
changed ~3% of float64 SimpleRNN traces in the last bit.) Draws are therefore
stacked by batch size: one time loop per distinct ``B_d``, padding only time.
``tests/reference_cells/test_stack.py`` checks the equality bit for bit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from reference_cells.conventions import KERAS
from reference_cells.layer_config import LayerOptions
from reference_cells.sequence import CELLS, SequenceTrace, _finish, _validate_inputs


@dataclass(frozen=True)
class Draw:
    """One call of the layer: ``x (B, T, F)``, weights as ``get_weights()``, optional
    ``mask (B, T)`` bool and ``initial_state`` (list of ``(B, U)``, cell state order)."""

    x: np.ndarray
    weights: Sequence[np.ndarray]
    mask: np.ndarray | None = None
    initial_state: Sequence[np.ndarray] | None = None


def run_sequence_stack(
    kind: str, config: Mapping[str, Any], draws: Sequence[Draw], *, dtype: np.dtype | type = np.float64,
) -> list[SequenceTrace]:
    """``[run_sequence(kind, d.x, d.weights, config, mask=d.mask, initial_state=d.initial_state, dtype=dtype)
    for d in draws]``, computed in at most two time loops (see the module docstring)."""
    options = LayerOptions.from_config(kind, config)
    dtype = np.dtype(dtype)
    traces: list[SequenceTrace | None] = [None] * len(draws)
    by_batch: dict[int, list[int]] = {}  # one stack per batch size: each draw's BLAS call keeps its shape
    for i, d in enumerate(draws):
        by_batch.setdefault(int(np.shape(d.x)[0]), []).append(i)
    for rows in by_batch.values():
        for i, trace in zip(rows, _run_stack(kind, options, [draws[i] for i in rows], dtype)):
            traces[i] = trace
    return traces  # type: ignore[return-value]


def _stacked_cell(cells: Sequence[Any]) -> Any:
    """One cell whose weight arrays carry a leading draw axis: ``(D, a, b)`` matrices and
    ``(D, 1, n)`` vectors (a bias broadcast over each draw's rows). Everything else (units,
    activations, flags) is the configuration's and the same in every cell."""
    stacked = copy.copy(cells[0])
    for name, value in vars(cells[0]).items():
        if isinstance(value, np.ndarray):
            arrays = np.stack([getattr(c, name) for c in cells])
            setattr(stacked, name, arrays[:, None, :] if value.ndim == 1 else arrays)
    return stacked


def _run_stack(kind: str, options: LayerOptions, draws: Sequence[Draw], dtype: np.dtype) -> list[SequenceTrace]:
    cells = [CELLS[kind](d.weights, options, KERAS, dtype) for d in draws]
    names = cells[0].state_names
    reverse = options.go_backwards
    projected, masks = [], []
    for cell, d in zip(cells, draws):
        x = np.asarray(d.x, dtype=dtype)
        if x.ndim != 3:
            raise ValueError(f"x must have shape (batch, timesteps, features), got shape {x.shape}")
        mask = None if d.mask is None else np.asarray(d.mask, dtype=bool)
        _validate_inputs(x, mask, d.initial_state, options.units, len(names))
        with np.errstate(over="ignore", invalid="ignore"):
            p = cell.project(x)  # (B_d, T_d, G)
        projected.append(p[:, ::-1] if reverse else p)
        masks.append(None if mask is None else (mask[:, ::-1] if reverse else mask))

    n, units = len(draws), options.units
    rows = max(p.shape[0] for p in projected)
    steps = max(p.shape[1] for p in projected)
    inputs = np.zeros((n, rows, steps, projected[0].shape[-1]), dtype)
    keep = np.ones((n, rows, steps), dtype=bool)  # a draw without a mask keeps every step
    states = [np.zeros((n, rows, units), dtype) for _ in names]
    for d, (p, mask, draw) in enumerate(zip(projected, masks, draws)):
        b, t = p.shape[:2]
        inputs[d, :b, :t] = p
        if mask is not None:
            keep[d, :b, :t] = mask
        for state, given in zip(states, draw.initial_state or ()):
            state[d, :b] = np.asarray(given, dtype=dtype)

    start = [s.copy() for s in states]  # the final states of a draw with no steps
    step = _stacked_cell(cells).step_projected
    use_mask = any(m is not None for m in masks)
    # Keras TF unroll path: carry rule in the loop, zeros applied afterwards per draw (_finish).
    zero_output = options.zero_output_for_mask and not options.unroll
    outputs = np.empty((n, rows, steps, units), dtype)
    trace = {name: np.empty((n, rows, steps, units), dtype) for name in names}
    prev_output = np.zeros((n, rows, units), dtype)
    for t in range(steps):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out, new_states = step(inputs[:, :, t], states)
        if use_mask:
            kept = keep[:, :, t, None]  # (D, Bmax, 1): one flag per row
            fallback = np.zeros_like(out) if zero_output else prev_output
            out = np.where(kept, out, fallback)
            new_states = [np.where(kept, new, old) for new, old in zip(new_states, states)]
        outputs[:, :, t] = out
        for name, s in zip(names, new_states):
            trace[name][:, :, t] = s
        prev_output, states = out, new_states

    results = []
    for d, (p, mask) in enumerate(zip(projected, masks)):
        b, t = p.shape[:2]
        mine = {name: trace[name][d, :b, :t].copy() for name in names}
        final = [mine[name][:, t - 1] if t else s[d, :b] for name, s in zip(names, start)]
        results.append(_finish(
            outputs[d, :b, :t].copy(), mine, final, outputs[d, :b, t - 1] if t else np.zeros((b, units), dtype),
            options, mask=mask, conventions=KERAS,
            reverse=reverse, zero_after=options.zero_output_for_mask and options.unroll and mask is not None,
        ))
    return results
