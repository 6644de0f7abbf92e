"""Keras 2 -> 3 migration drift, end to end with real tf_keras: a model built and run by tf_keras,
then loaded by Keras 3 (check-model), gives different outputs - and check-model says by how much."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import REPO, need, run_json

pytestmark = pytest.mark.backends


def test_keras3_outputs_differ_from_keras2_and_check_model_says_so(tmp_path):
    need("keras2")
    h5, x_file, y_file = tmp_path / "k2.h5", tmp_path / "x.npy", tmp_path / "y2.npy"
    code = (f"import sys, json, numpy as np; sys.path.insert(0, {str(REPO / 'cases' / 'models')!r}); "
            "from make_keras2_model import build; from harness.target.keras_env import import_keras; "
            f"build(__import__('pathlib').Path({str(h5)!r})); k = import_keras(); "
            f"m = k.models.load_model({str(h5)!r}, compile=False); "
            "x = np.random.default_rng(0).standard_normal((2, 12, 3)).astype('float32'); "
            f"np.save({str(x_file)!r}, x); np.save({str(y_file)!r}, m.predict(x, verbose=0)); "
            "print(json.dumps({'ok': True}))")
    assert run_json("-c", code)["ok"]

    from harness.check.model import check_model, load_model
    from harness.target.migration import load_keras2_h5
    from harness.target.keras_env import import_keras

    x = np.load(x_file)
    model3 = load_keras2_h5(import_keras(), h5)
    y3 = np.asarray(model3([x]))
    y2 = np.load(y_file)
    end_to_end = np.abs(y3 - y2).max(axis=(0, 2))
    assert (end_to_end > 1e-4).all()  # the model's outputs really changed, at every step

    report = check_model(h5, inputs=x)
    assert report.verdict == "match"
    per_layer = {c.name: np.array(c.migration_drift) for c in report.layers}
    assert per_layer["lstm"][0] > 1e-3 and per_layer["gru"].max() > 1e-3
    assert json.dumps(report.to_json())  # serialisable
    try:
        load_model(h5)
    except Exception as exc:  # plain Keras 3 loading refuses the Keras 2 file: migration is needed
        assert "time_major" in str(exc)
