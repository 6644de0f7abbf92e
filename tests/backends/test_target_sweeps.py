"""A small sweep on every target: zero false alarms (every difference is a named behaviour),
and the cross-target matrix names them."""

from __future__ import annotations

import pandas as pd
import pytest

from .conftest import need, rnn_parity

pytestmark = pytest.mark.backends

CELLS = "SimpleRNN,LSTM,GRU,Bidirectional,StackedRNN,ConvLSTM1D"


@pytest.mark.parametrize("target", ["jax", "torch", "keras2"])
def test_sweep_has_no_unexplained_difference(target, tmp_path):
    need(target)
    proc = rnn_parity("sweep", "--target", target, "--cells", CELLS, "--examples", "6", "--seed", "5",
                      "--max-timesteps", "24", "--out", str(tmp_path), "--no-progress")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    cases = pd.read_csv(tmp_path / "cases.csv")
    assert not (cases.status.isin(["drift", "error"])).any()
    labelled = cases[cases.status.isin(["explained", "unsupported"])]
    assert labelled.behaviour.notna().all()


def test_matrix_over_all_targets(tmp_path):
    for target in ("jax", "torch", "keras2"):
        need(target)
    proc = rnn_parity("matrix", "--targets", "all", "--cells", "SimpleRNN,GRU", "--examples", "8", "--seed", "2",
                      "--max-timesteps", "16", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    matrix = pd.read_csv(tmp_path / "matrix.csv")
    assert set(matrix.target) == {"tensorflow", "jax", "torch", "keras2"}
    assert matrix.drift.sum() == 0 and matrix.error.sum() == 0
    tf = matrix[matrix.target == "tensorflow"]
    assert (tf.worst_ratio <= 1).all() and (tf.explained + tf.unsupported == 0).all()
    assert "matrix" in (tmp_path / "matrix.html").read_text()
