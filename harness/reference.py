"""Running one case through the NumPy reference (``reference_cells``).

Returns ``{name: NamedTensor}`` for exactly what the Keras layer returns,
chunk by chunk for stateful cases, so it lines up with
:meth:`harness.runner.KerasRunner.run`.
"""

from __future__ import annotations

import numpy as np

from harness.case import CaseData
from harness.tensors import NamedTensor, concat_chunks, name_return
from reference_cells import KERAS, Conventions, StatefulSequence


def run_reference(
    data: CaseData, *, conventions: Conventions = KERAS, dtype: type = np.float64
) -> dict[str, NamedTensor]:
    """The reference's return for ``data``, chunk by chunk for stateful cases."""
    return run_reference_and_trace(data, conventions=conventions, dtype=dtype)[0]


def run_reference_trace(
    data: CaseData, *, conventions: Conventions = KERAS, dtype: type = np.float64
) -> dict[str, NamedTensor]:
    """Every step of the reference: ``output`` and each state (``h``, ``c``), ``(B, T, U)``.

    Unlike :func:`run_reference` this does not depend on return_sequences or
    return_state; the noise floor is measured on it so that a tensor returned
    only at the last step still gets a floor estimated from its neighbours.
    """
    return run_reference_and_trace(data, conventions=conventions, dtype=dtype)[1]


def run_reference_and_trace(
    data: CaseData, *, conventions: Conventions = KERAS, dtype: type = np.float64
) -> tuple[dict[str, NamedTensor], dict[str, NamedTensor]]:
    """:func:`run_reference` and :func:`run_reference_trace` from one pass over the sequence
    (the sweep needs both at float64; running the reference once saves a fifth of its time)."""
    spec = data.spec.layer
    layer = StatefulSequence(spec.kind, data.weights, spec.to_keras_config(), conventions=conventions, dtype=dtype)
    returned, parts = [], {}
    for k, (a, b) in enumerate(data.chunk_bounds()):
        trace = layer(
            data.x[:, a:b],
            mask=None if data.mask is None else data.mask[:, a:b],
            initial_state=data.initial_state if k == 0 else None,
        )
        returned.append(name_return(trace.layer_return(), spec, start=a, stop=b))
        outputs = trace.outputs.copy()
        if not spec.return_sequences:
            outputs[:, -1] = trace.last_output  # the value a last-output tensor is compared at
        parts.setdefault("output", []).append(outputs)
        for name, values in trace.states.items():
            parts.setdefault(name, []).append(values)
    steps = np.arange(data.spec.timesteps)
    whole = {name: NamedTensor(name, np.concatenate(chunks, axis=1), steps) for name, chunks in parts.items()}
    return concat_chunks(returned), whole
