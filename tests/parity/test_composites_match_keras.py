"""Bidirectional, RNN over stacked cells and ConvLSTM: the references reproduce real Keras.

Property tests over the composite strategies (random per-array weights, non-zero
biases, masks, every merge mode, 1-3 stacked cells, conv padding/strides),
judged by the same check of a case as the cells (:func:`harness.sweep.parity.check_case`).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.oracle.failure import failure_message
from harness.layers.case import CaseSpec
from harness.layers.composite import COMPOSITE_KINDS
from harness.layers.generate import draw_examples
from harness.layers.strategies import composite_cases
from harness.sweep.parity import check_case
from harness.target.behaviours import known_crashes
from harness.target.runner import KerasRunner
from harness.target.targets import active


@pytest.fixture(scope="module")
def runner() -> KerasRunner:
    return KerasRunner()


@pytest.mark.keras
@pytest.mark.parametrize("kind", COMPOSITE_KINDS)
@settings(max_examples=12)
@given(data=st.data())
def test_composite_reference_matches_keras(runner, kind, data):
    spec = data.draw(composite_cases(kinds=(kind,), max_timesteps=10), label="case")
    assume(not known_crashes(spec, active().name))  # Keras cannot run it (the sweep labels it unsupported)
    note(f"replay: {spec.replay_command()}")
    outcome = check_case(spec, runner)
    assert outcome.result.status in ("pass", "ill-conditioned"), failure_message(spec, outcome.result)


def test_composite_cases_are_deterministic_and_tokens_round_trip():
    a = draw_examples(composite_cases(), count=12, seed=4)
    assert a == draw_examples(composite_cases(), count=12, seed=4)
    for spec in a:
        assert CaseSpec.from_token(spec.token()) == spec
    with pytest.raises(ValueError, match="predates the one-layer-protocol format"):
        CaseSpec.from_token("Fnot-a-token")


@pytest.mark.keras
def test_replay_of_a_composite_case(capsys):
    spec = draw_examples(composite_cases(kinds=("Bidirectional",)), count=3, seed=9)[-1]
    assert main(["replay", spec.token()]) == 0
    assert spec.case_id() in capsys.readouterr().out


@pytest.mark.keras
def test_sweep_over_composite_kinds(tmp_path):
    assert main(["sweep", "--cells", "Bidirectional,ConvLSTM1D", "--examples", "3", "--seed", "1", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    import pandas as pd

    cases = pd.read_csv(tmp_path / "cases.csv")
    assert set(cases["cell"]) == {"Bidirectional", "ConvLSTM1D"} and (cases["status"] == "pass").all()
