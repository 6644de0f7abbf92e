"""The tolerance rule on the cases that motivated it (issue: parity core).

Measured with Keras 3.15 / TF 2.21 on CPU, 64 units, T=64, weights ~ N(0, std):
with std 0.1 every cell agrees to ~1e-7, flat; with std 0.5 the dynamics turn
chaotic (SimpleRNN reaches O(1) differences by t=32, GRU ~1e-4) while LSTM
stays ~1e-6. A correct implementation must never be reported as drifting in
either regime - the chaotic ones are ill-conditioned, with their measured
amplification - and a real bug of the size seen in seed 000 (sigmoid where the
layer uses hard_sigmoid, ~6e-3 at t=0) must still be caught at t=0.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.layers.case import GATES, CaseData, CaseSpec
from harness.sweep.parity import check_data
from tests.helpers import case_floor, reference_outputs
from harness.layers.cell import CellSpec
from harness.oracle.tolerance import ILL_CONDITIONED
from reference_cells import Conventions

UNITS, FEATURES, BATCH, STEPS = 64, 16, 4, 64


def _normal_case(kind: str, std: float, *, seed: int = 0, **layer_options) -> CaseData:
    """Every weight ~ N(0, std) (the setting the measurements above used), inputs ~ N(0, 1)."""
    layer = CellSpec(kind=kind, units=UNITS, features=FEATURES, return_sequences=True, **layer_options)
    spec = CaseSpec(layer=layer, batch=BATCH, timesteps=STEPS, seed=seed)
    rng = np.random.default_rng(seed)
    g = GATES[kind]
    bias_shape = (2, g * UNITS) if kind == "GRU" else (g * UNITS,)
    weights = [rng.normal(0, std, shape).astype(np.float32) for shape in ((FEATURES, g * UNITS), (UNITS, g * UNITS), bias_shape)]
    x = rng.normal(0, 1, (BATCH, STEPS, FEATURES)).astype(np.float32)
    return CaseData(spec=spec, weights=weights, x=x, mask=None, initial_state=None)


@pytest.mark.keras
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_small_weights_agree_to_float32_roundoff_and_pass(keras_runner, kind):
    outcome = check_data(_normal_case(kind, 0.1), keras_runner)
    assert outcome.result.status == "pass"
    errors = np.array([r.max_abs_err for r in outcome.records])
    assert errors.max() < 1e-6  # ~1e-7, flat
    assert errors[-8:].max() < 10 * max(errors[:8].max(), 1e-7)  # no growth over 64 steps


@pytest.mark.keras
@pytest.mark.parametrize("kind", ["SimpleRNN", "GRU", "LSTM"])
def test_large_weights_are_never_a_false_alarm(keras_runner, kind):
    outcome = check_data(_normal_case(kind, 0.5), keras_runner)
    assert outcome.result.status in ("pass", "ill-conditioned"), outcome.result
    if kind == "SimpleRNN":  # chaotic: O(1) late differences, recognised as such
        assert outcome.result.status == "ill-conditioned"
        assert outcome.result.amplification > ILL_CONDITIONED
        assert outcome.result.worst_abs_err > 1e-2


@pytest.mark.keras
def test_sigmoid_for_hard_sigmoid_is_caught_at_t0(keras_runner):
    case = _normal_case("LSTM", 0.5, recurrent_activation="hard_sigmoid")
    wrong = Conventions(recurrent_activation="sigmoid")
    gap_t0 = np.abs(reference_outputs(case, conventions=wrong)["output"].values[:, 0] - reference_outputs(case)["output"].values[:, 0]).max()
    assert 1e-3 < gap_t0 < 1e-1  # the size the issue measured (~6e-3)
    outcome = check_data(case, keras_runner, conventions=wrong)
    assert outcome.result.status == "drift"
    assert (outcome.result.first_tensor, outcome.result.first_t) == ("output", 0)
