"""A check that cannot fail is a defect: the comparator must catch wrong references.

Each test runs real Keras against the reference *deliberately run with a
port's bug* (a non-Keras :class:`~reference_cells.Conventions`) and requires
the harness to report drift. Where a drawn case happens to hide the bug (the
bug does not move the float64 reference by more than the case's tolerance,
e.g. a recurrent fault on a 1-step sequence), the case is not counted: the
harness is only required to see what is visible above the noise floor.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from harness.oracle.failure import failure_message
from harness.sweep.parity import check_data
from harness.layers.profiles import limits
from tests.helpers import case_floor, reference_outputs
from harness.layers.strategies import case_specs
from reference_cells import Conventions

#: (id, cell, conventions of the wrong reference, options that make the bug reachable)
FAULTS = [
    ("lstm-gate-order-ifoc", "LSTM", Conventions(gate_order="ifoc"), {}),
    ("lstm-gate-order-fico", "LSTM", Conventions(gate_order="fico"), {}),
    ("lstm-sigmoid-for-hard-sigmoid", "LSTM", Conventions(recurrent_activation="sigmoid"),
     dict(recurrent_activation="hard_sigmoid")),
    ("lstm-keras2-hard-sigmoid", "LSTM", Conventions(recurrent_activation="hard_sigmoid_keras2"),
     dict(recurrent_activation="hard_sigmoid", input_scale=3.0)),
    ("lstm-forget-bias-twice", "LSTM", Conventions(forget_bias=1.0), dict(min_timesteps=2)),
    ("gru-update-swapped", "GRU", Conventions(gru_update="swapped"), {}),
    ("gru-gate-order-rzh", "GRU", Conventions(gate_order="rzh"), {}),
    ("gru-recurrent-bias-dropped", "GRU", Conventions(gru_bias="drop-recurrent"), dict(reset_after=True, use_bias=True)),
    ("gru-reset-before", "GRU", Conventions(gru_reset="before"), dict(reset_after=True, min_timesteps=2)),
    ("simplernn-initial-state-ones", "SimpleRNN", Conventions(initial_state="ones"), dict(initial_state=False)),
    ("simplernn-bias-dropped", "SimpleRNN", Conventions(bias="none"), dict(use_bias=True)),
    ("simplernn-recurrent-transposed", "SimpleRNN", Conventions(kernel_layout="recurrent-transposed"), dict(min_timesteps=2)),
    ("go-backwards-flipped", "GRU", Conventions(time_direction="flipped"),
     dict(go_backwards=True, return_sequences=True, min_timesteps=2)),
    ("mask-ignored", "LSTM", Conventions(mask="ignore"), dict(mask="mixed", return_sequences=True)),
    ("stateful-not-carried", "SimpleRNN", Conventions(state_carry="reset"), dict(stateful=True, chunks=2, min_timesteps=2)),
]


@pytest.mark.keras
@pytest.mark.parametrize("fault_id, cell, conventions, options", FAULTS, ids=[f[0] for f in FAULTS])
@given(data=st.data())
def test_wrong_reference_is_caught(keras_runner, fault_id, cell, conventions, options, data) -> None:
    lim = limits()
    spec = data.draw(
        case_specs(kinds=[cell], max_timesteps=lim.max_timesteps, max_batch=lim.max_batch, max_units=lim.max_units,
                   recurrent_gain=1.0, **options),
        label="case",
    )
    case = spec.build()
    right = reference_outputs(case)
    wrong = reference_outputs(case, conventions=conventions)
    noise = case_floor(case)
    def visible(name: str) -> bool:
        with np.errstate(invalid="ignore", over="ignore"):
            gap = np.abs(wrong[name].values - right[name].values).max(axis=(0, 2))
        judged = noise.judged(name)
        return bool(np.any(gap[judged] > 100 * noise.tolerance(name)[judged]))

    # Count the case only where the bug moves the outputs well above the noise floor at a judged step.
    assume(any(visible(name) for name in right))
    note(f"replay: {spec.replay_command()}")
    outcome = check_data(case, keras_runner, conventions=conventions)
    assert outcome.result.status == "drift", (
        f"{fault_id} was not caught ({outcome.result.status}):\n{failure_message(spec, outcome.result)}"
    )
