"""Bidirectional, RNN over stacked cells and ConvLSTM: the references reproduce real Keras.

Property tests over the family strategies (random per-array weights, non-zero
biases, masks, every merge mode, 1-3 stacked cells, conv padding/strides),
judged with the same calibrated tolerance as the basic cells.
"""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.failure import failure_message
from harness.family import FAMILY_KINDS, FamilyRunner, FamilySpec, check_family, family_specs
from harness.generate import draw_examples


@pytest.fixture(scope="module")
def family_runner() -> FamilyRunner:
    return FamilyRunner()


@pytest.mark.keras
@pytest.mark.parametrize("kind", FAMILY_KINDS)
@settings(max_examples=12)
@given(data=st.data())
def test_family_reference_matches_keras(family_runner, kind, data):
    spec = data.draw(family_specs(kinds=(kind,), max_timesteps=10), label="case")
    note(f"replay: {spec.replay_command()}")
    outcome = check_family(spec, family_runner)
    assert outcome.result.status in ("pass", "ill-conditioned"), failure_message(spec, outcome.result)


def test_family_specs_are_deterministic_and_tokens_round_trip():
    a = draw_examples(family_specs(), count=12, seed=4)
    assert a == draw_examples(family_specs(), count=12, seed=4)
    for spec in a:
        assert FamilySpec.from_token(spec.token()) == spec
    with pytest.raises(ValueError, match="not a valid case token"):
        FamilySpec.from_token("Fnot-a-token")


@pytest.mark.keras
def test_replay_of_a_family_case(capsys):
    spec = draw_examples(family_specs(kinds=("Bidirectional",)), count=3, seed=9)[-1]
    assert main(["replay", spec.token()]) == 0
    assert spec.case_id() in capsys.readouterr().out


@pytest.mark.keras
def test_sweep_over_family_kinds(tmp_path):
    assert main(["sweep", "--cells", "Bidirectional,ConvLSTM1D", "--examples", "3", "--seed", "1", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    import pandas as pd

    cases = pd.read_csv(tmp_path / "cases.csv")
    assert set(cases["cell"]) == {"Bidirectional", "ConvLSTM1D"} and (cases["status"] == "pass").all()
