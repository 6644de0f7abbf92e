"""Small helpers the tests share: the reference and its noise floor of a built case in one call."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.layers.case import CaseData
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.tolerance import NoiseFloor, noise_floor
from reference_cells.precision import FLOAT32


def _layer_conventions(conventions: Any) -> LayerConventions:
    return conventions if isinstance(conventions, LayerConventions) else LayerConventions(cell=conventions)


def reference_outputs(data: CaseData, *, conventions: Any = KERAS_LAYER, dtype: Any = np.float64, layer: Any = None):
    """What the reference returns for ``data`` (a SimpleRNN/LSTM/GRU case, or a composite given its Keras ``layer``)."""
    ref = layer_reference(data, layer, conventions=_layer_conventions(conventions))
    return run_reference(ref, data, dtype=dtype)[0]


def case_floor(data: CaseData, *, conventions: Any = KERAS_LAYER, layer: Any = None,
               precision: Any = FLOAT32) -> NoiseFloor:
    """The noise floor of ``data`` under ``conventions``, at ``precision`` (float32: Keras's own)."""
    ref = layer_reference(data, layer, conventions=_layer_conventions(conventions))
    reference, trace = run_reference(ref, data)
    return noise_floor(ref, data, reference, trace, precision=precision)
