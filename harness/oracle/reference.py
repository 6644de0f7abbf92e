"""Running one case through the reference: the one entry every kind goes through.

:func:`run_reference` returns ``{name: NamedTensor}`` for exactly what the
Keras layer returns (chunk by chunk for a stateful case fed in several calls,
so it lines up with :meth:`harness.target.runner.KerasRunner.run`) and the
*trace*: every step of the output and of each state where the reference has
them (SimpleRNN/LSTM/GRU), else the returned tensors themselves. The noise
floor (:func:`harness.oracle.tolerance.noise_floor`) is measured on the trace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.layers.case import CaseData
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor, concat_chunks
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from harness.oracle.references import LayerReference, cell_view, reference_for
from reference_cells.precision import Precision


def layer_reference(data: CaseData, layer: Any = None, *, conventions: LayerConventions = KERAS_LAYER,
                    renames: dict | None = None) -> LayerReference:
    """The reference of ``data``'s layer: a cell from its spec, a composite from its built Keras
    ``layer`` (:meth:`KerasRunner.layer`). ValueError when there is none."""
    spec = data.spec.layer
    source = cell_view(spec.kind, spec.to_keras_config()) if isinstance(spec, CellSpec) else layer
    if source is None:
        raise ValueError(f"{spec.kind}: the reference needs the built Keras layer")
    ref = reference_for(source, renames=renames, conventions=conventions)
    if ref is None:
        raise ValueError(f"no reference for {spec.kind} with these options")
    return ref


def run_reference(
    ref: LayerReference, data: CaseData, *, dtype: Any = np.float64,
) -> tuple[dict[str, NamedTensor], dict[str, NamedTensor]]:
    """``(returned, trace)`` of ``ref`` on ``data``, chunk by chunk for stateful cases. ``dtype``: a NumPy
    float dtype, or a :class:`~reference_cells.precision.Precision` to simulate (reduced precision)."""
    session = ref.start(data.weights, dtype if isinstance(dtype, Precision) else np.dtype(dtype))
    calls = [session(data.x[:, a:b], None if data.mask is None else data.mask[:, a:b],
                     data.initial_state if k == 0 else None)
             for k, (a, b) in enumerate(data.chunk_bounds())]
    return assemble(ref, data, calls)


def assemble(
    ref: LayerReference, data: CaseData, calls: list[tuple[list, dict | None]],
) -> tuple[dict[str, NamedTensor], dict[str, NamedTensor]]:
    """``(returned, trace)`` from a session's calls, one per chunk of ``data`` (:func:`run_reference`)."""
    returned, parts = [], {}
    for (a, b), (values, trace) in zip(data.chunk_bounds(), calls):
        returned.append(ref.named(values, start=a, stop=b).values())
        for name, steps in (trace or {}).items():
            parts.setdefault(name, []).append(steps)
    joined = concat_chunks(returned)
    if not parts:
        return joined, joined
    steps = np.arange(data.spec.timesteps)
    return joined, {name: NamedTensor(name, np.concatenate(chunks, axis=1), steps) for name, chunks in parts.items()}
