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
    spec = data.spec.layer
    layer = StatefulSequence(spec.kind, data.weights, spec.to_keras_config(), conventions=conventions, dtype=dtype)
    chunks = []
    for k, (a, b) in enumerate(data.chunk_bounds()):
        trace = layer(
            data.x[:, a:b],
            mask=None if data.mask is None else data.mask[:, a:b],
            initial_state=data.initial_state if k == 0 else None,
        )
        chunks.append(name_return(trace.layer_return(), spec, start=a, stop=b))
    return concat_chunks(chunks)
