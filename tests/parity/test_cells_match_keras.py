"""The reference reproduces real Keras 3 layers at every timestep, to float32 round-off.

Property tests: for each cell and each option group, Hypothesis draws layer
configs and data (random per-gate weights, non-zero biases, masks at the
start, middle and end, long sequences, saturating inputs) and the Keras
layer must stay within the case's calibrated tolerance at every judged step.
A failure names the tensor, timestep, index, error, tolerance, config and the
command that replays it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from harness.oracle.failure import failure_message
from harness.sweep.parity import check_case
from harness.layers.profiles import limits
from harness.layers.strategies import case_specs

CELLS = ("SimpleRNN", "LSTM", "GRU")

#: Option groups: each fixes the options it is about and draws the rest.
GROUPS = {
    "any": {},
    "sequences": dict(return_sequences=True, mask="none", stateful=False),
    "masked": dict(mask="mixed", return_sequences=True),
    "masked-zero-output": dict(mask="mixed", zero_output_for_mask=True),
    "go-backwards": dict(go_backwards=True, return_sequences=True),
    "initial-state": dict(initial_state=True, return_state=True),
    "stateful": dict(stateful=True, return_sequences=True, return_state=True),
    "hard-sigmoid-knees": dict(recurrent_activation="hard_sigmoid", input_scale=3.0, kernel_scale=2.0),
    "no-bias-unroll": dict(use_bias=False, unroll=True),
}


def _strategy(cell: str, group: str) -> st.SearchStrategy:
    options = dict(GROUPS[group])
    if cell == "SimpleRNN":
        options.pop("recurrent_activation", None)
        if group == "hard-sigmoid-knees":
            options["activation"] = "hard_sigmoid"
    lim = limits()
    return case_specs(kinds=[cell], max_timesteps=lim.max_timesteps, max_batch=lim.max_batch, max_units=lim.max_units, **options)


@pytest.mark.keras
@pytest.mark.parametrize("group", list(GROUPS))
@pytest.mark.parametrize("cell", CELLS)
@given(data=st.data())
def test_reference_matches_keras(keras_runner, cell: str, group: str, data: st.DataObject) -> None:
    spec = data.draw(_strategy(cell, group), label="case")
    note(f"replay: {spec.replay_command()}")
    outcome = check_case(spec, keras_runner)
    assert outcome.result.status in ("pass", "ill-conditioned"), failure_message(spec, outcome.result)
