"""The reference of a whole compile group at once: its float64 runs and its noise floor.

Per case, the check needs the reference four times: float64 (the values Keras
is compared with), float32 and two perturbed float64 runs (the noise floor,
:mod:`harness.oracle.tolerance`). Each is a Python loop over timesteps, so a
group of K draws paid ``4 K`` loops. :func:`group_references` runs the group's
SimpleRNN/LSTM/GRU cases through :func:`reference_cells.stack.run_sequence_stack`
instead: every float64 run (K nominal + 2 K perturbed) in one stacked loop and
every float32 run in another (one pair per distinct batch size in the group).
The perturbed inputs are the ones :func:`~harness.oracle.tolerance.perturbations`
draws for the case, and the stacked loop is bit-identical to the per-case one,
so each case's returned tensors, trace and floor are *the same numbers* as
``run_reference`` + ``noise_floor`` give it alone (``tests/oracle/test_group.py``
checks them at tolerance 0, i.e. bit for bit).

Composite layers (Bidirectional, stacked cells, ConvLSTM) and stateful cases fed
in several chunks are not stacked: their entry is None and the caller runs them
case by case, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.layers.case import CaseData
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor
from harness.oracle.reference import assemble, layer_reference
from harness.oracle.references import cell_call
from harness.oracle.tolerance import NoiseFloor, floor_from_samples, perturbations
from reference_cells.stack import Draw, run_sequence_stack


@dataclass(frozen=True)
class ReferenceRun:
    """One case's float64 reference (what the layer returns, and its trace) and noise floor."""

    returned: dict[str, NamedTensor]
    trace: dict[str, NamedTensor]
    noise: NoiseFloor


def stackable(data: CaseData) -> bool:
    """A SimpleRNN/LSTM/GRU case run in one call (the stacked loop's scope)."""
    return isinstance(data.spec.layer, CellSpec) and len(data.chunk_bounds()) == 1


def _draw(data: CaseData) -> Draw:
    return Draw(x=data.x, weights=data.weights, mask=data.mask, initial_state=data.initial_state)


def group_references(datas: Sequence[CaseData]) -> list[ReferenceRun | None]:
    """``ReferenceRun`` of every stackable case (None for the others), cases of one layer
    configuration sharing their time loops."""
    runs: list[ReferenceRun | None] = [None] * len(datas)
    by_layer: dict[object, list[int]] = {}
    for i, data in enumerate(datas):
        if stackable(data):
            by_layer.setdefault(data.spec.layer, []).append(i)
    for layer, members in by_layer.items():
        cases = [datas[i] for i in members]
        for i, run in zip(members, _stacked_runs(layer, cases)):
            runs[i] = run
    return runs


def _stacked_runs(layer: CellSpec, cases: Sequence[CaseData]) -> list[ReferenceRun]:
    kind, config = layer.kind, layer.to_keras_config()
    ref = layer_reference(cases[0])
    jittered = [perturbations(data) for data in cases]
    wide = [_draw(d) for d in cases] + [_draw(p) for ps in jittered for p in ps]
    traces64 = run_sequence_stack(kind, config, wide, dtype=np.float64)
    traces32 = run_sequence_stack(kind, config, [_draw(d) for d in cases], dtype=np.float32)

    def assembled(data: CaseData, trace) -> tuple[dict, dict]:
        return assemble(ref, data, [cell_call(trace, config)])

    n, runs = len(cases), []
    for k, data in enumerate(cases):
        returned, trace = assembled(data, traces64[k])
        samples = [assembled(data, traces32[k])[1]]
        samples += [assembled(p, traces64[n + k * len(jittered[k]) + j])[1] for j, p in enumerate(jittered[k])]
        runs.append(ReferenceRun(returned, trace, floor_from_samples(returned, trace, samples)))
    return runs
