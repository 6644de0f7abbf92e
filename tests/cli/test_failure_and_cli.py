"""failure_message's content, and the rnn-parity CLI run in-process."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from harness import cli
from harness.layers.case import CaseSpec
from harness.oracle.compare import compare, error_result, summarize
from harness.oracle.failure import failure_message
from tests.helpers import case_floor, reference_outputs
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor

SPEC = CaseSpec(
    CellSpec("LSTM", 4, 3, recurrent_activation="hard_sigmoid", return_sequences=True, return_state=True),
    batch=3, timesteps=8, mask="mixed", initial_state=True, seed=21,
)
SMALL_VALID = CaseSpec(CellSpec("GRU", 3, 2, return_sequences=True), batch=2, timesteps=5, seed=4)


def _drift_result(spec: CaseSpec, *, tensor: str, b: int, k: int, u: int, delta: float):
    data = spec.build()
    reference = reference_outputs(data)
    noise = case_floor(data)
    actual = {n: NamedTensor(n, t.values.copy(), t.steps) for n, t in reference.items()}
    actual[tensor].values[b, k, u] += delta
    records = compare(spec.case_id(), spec.layer.kind, actual, reference, noise)
    return summarize(spec.case_id(), spec.layer.kind, records, noise)


def _replay_token(message: str) -> str:
    (match,) = re.findall(r"rnn-parity replay (\S+)", message)
    return match


# --------------------------------------------------------------- failures
def test_drift_message_names_everything_needed_to_act():
    result = _drift_result(SPEC, tensor="output", b=2, k=5, u=1, delta=3e-3)
    assert result.status == "drift"
    message = failure_message(SPEC, result)
    assert SPEC.case_id() in message
    assert "tensor 'output'" in message
    assert "t=5" in message
    assert "batch=2, unit=1" in message
    assert f"{result.first_err:.3g}" in message and result.first_err == pytest.approx(3e-3, rel=1e-6)
    assert f"tolerance {result.first_tolerance:.3g}" in message
    assert "LSTM(" in message
    assert json.dumps(SPEC.layer.to_keras_config(), sort_keys=True) in message
    assert "seed=21" in message and "mask=mixed" in message
    assert CaseSpec.from_token(_replay_token(message)) == SPEC


def test_drift_message_in_a_state_tensor():
    result = _drift_result(SPEC, tensor="c", b=0, k=0, u=3, delta=1e-2)
    message = failure_message(SPEC, result, against="port")
    assert "tensor 'c'" in message and f"t={SPEC.timesteps - 1}" in message
    assert "batch=0, unit=3" in message
    assert "|keras - port|" in message


def test_error_message_has_the_reason_and_a_replay_command():
    result = error_result(SPEC.case_id(), "LSTM", "ValueError: something broke")
    message = failure_message(SPEC, result)
    assert "something broke" in message.splitlines()[0]
    assert CaseSpec.from_token(_replay_token(message)) == SPEC


def test_replay_token_in_message_is_one_copyable_word():
    result = _drift_result(SMALL_VALID, tensor="output", b=1, k=2, u=0, delta=1e-2)
    line = [ln for ln in failure_message(SMALL_VALID, result).splitlines() if "replay:" in ln]
    assert len(line) == 1 and line[0].strip() == f"replay: {SMALL_VALID.replay_command()}"


# -------------------------------------------------------------------- CLI
def _one_line_error(capsys, argv) -> str:
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == cli.EXIT_ERROR
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("rnn-parity: error:")
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_sweep_unknown_cell_is_a_one_line_error(capsys):
    line = _one_line_error(capsys, ["sweep", "--cells", "Foo", "--examples", "1", "--no-progress"])
    assert "Foo" in line


def test_sweep_negative_examples_is_a_one_line_error(capsys):
    line = _one_line_error(capsys, ["sweep", "--cells", "LSTM", "--examples", "-1", "--no-progress"])
    assert "--examples" in line


def test_replay_bad_token_is_a_one_line_error(capsys):
    line = _one_line_error(capsys, ["replay", "not-a-token"])
    assert "token" in line


SWEEP_FILES = ("records.csv", "cases.csv", "summary.csv", "provenance.json")


def _sweep(out, capsys) -> int:
    code = cli.main(["sweep", "--cells", "LSTM", "--examples", "3", "--seed", "1", "--no-progress", "--out", str(out)])
    capsys.readouterr()
    return code


@pytest.mark.keras
def test_sweep_writes_its_files_and_is_reproducible(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert _sweep(first, capsys) == cli.EXIT_OK
    for name in SWEEP_FILES:
        assert (first / name).is_file(), name
    assert _sweep(second, capsys) == cli.EXIT_OK
    assert (first / "records.csv").read_bytes() == (second / "records.csv").read_bytes()
    assert (first / "cases.csv").read_bytes() == (second / "cases.csv").read_bytes()

    cases = pd.read_csv(first / "cases.csv")
    assert len(cases) == 3 and set(cases.cell) == {"LSTM"} and set(cases.status) == {"pass"}
    records = pd.read_csv(first / "records.csv")
    assert set(records.case_id) == set(cases.case_id)
    summary = pd.read_csv(first / "summary.csv")
    assert summary.loc[0, "cell"] == "LSTM" and summary.loc[0, "cases"] == 3
    provenance = json.loads((first / "provenance.json").read_text())
    assert provenance["seed"] == 1 and provenance["options"]["cells"] == ["LSTM"]
    for replay in cases.replay:
        assert CaseSpec.from_token(replay.split()[-1]).layer.kind == "LSTM"


@pytest.mark.keras
def test_sweep_prints_its_case_count(capsys):
    code = cli.main(["sweep", "--cells", "SimpleRNN", "--examples", "2", "--seed", "3", "--no-progress"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK
    assert "2 cases in" in captured.out and "seed 3" in captured.out
    assert "Traceback" not in captured.err


@pytest.mark.keras
def test_sweep_summary_table_goes_to_the_current_stdout(capsys):
    code = cli.main(["sweep", "--cells", "SimpleRNN", "--examples", "1", "--seed", "3", "--no-progress"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK
    assert "max amplification" in captured.out


@pytest.mark.keras
def test_replay_of_a_small_valid_case_passes(capsys):
    code = cli.main(["replay", SMALL_VALID.token(), "--steps", "4"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK
    assert SMALL_VALID.case_id() in captured.out
    assert ": pass" in captured.out
    assert "Traceback" not in captured.err


def test_sample_arrays_are_not_constant():
    """The fixtures above inject errors into genuinely random data."""
    data = SPEC.build()
    assert np.unique(data.x).size == data.x.size
    assert data.mask is not None and not data.mask.all()
