"""Keras 2 -> 3 migration drift: check-model on a committed Keras 2 (tf_keras) .h5 with hard_sigmoid
gates says the outputs change silently, and by how much per timestep. Runs without tf_keras: the
fixture was written by cases/models/make_keras2_model.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.target.migration import is_keras2_file, saved_keras_version
from harness.check.model import check_model, render_model_report

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "keras2_hard_sigmoid.h5"
pytestmark = pytest.mark.keras


def test_fixture_is_a_keras2_file():
    assert saved_keras_version(FIXTURE).startswith("2.")
    assert is_keras2_file(FIXTURE)


def test_check_model_reports_migration_drift_per_timestep():
    report = check_model(FIXTURE, timesteps=12)
    assert report.verdict == "match"  # Keras 3 computes what the reference says Keras 3 computes...
    drifts = {c.name: np.array(c.migration_drift) for c in report.layers}
    assert set(drifts) == {"lstm", "gru"}
    for name, drift in drifts.items():
        assert drift.shape == (12,)
        assert drift[0] > 1e-3, name  # ...but not what the Keras 2 model computed, from the first step on
        assert (drift > 1e-4).all(), name  # and at every step: no decay to hide it
    text = render_model_report(report)
    assert "KERAS 2 -> 3 MIGRATION DRIFT" in text and "keras2-hard-sigmoid" in text and "lstm: max" in text
    assert any("saved by Keras 2" in note for note in report.notes)


def test_migration_drift_in_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["check-model", str(FIXTURE), "--json", str(out)]) == 0
    layers = json.loads(out.read_text())["layers"]
    assert all(max(layer["keras2_to_keras3_drift"]) > 1e-3 for layer in layers)
    assert "MIGRATION DRIFT" in capsys.readouterr().out


def test_keras3_model_with_hard_sigmoid_has_no_migration_note(tmp_path):
    from harness.target.keras_env import import_keras

    keras = import_keras()
    inp = keras.Input((6, 2))
    model = keras.Model(inp, keras.layers.GRU(3, recurrent_activation="hard_sigmoid")(inp))
    model.save(tmp_path / "k3.keras")
    report = check_model(tmp_path / "k3.keras")
    assert all(c.migration_drift is None for c in report.layers)
    assert "MIGRATION" not in render_model_report(report)
