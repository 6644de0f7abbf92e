"""``rnn-parity check --export``: an exported layer checked like a port (marked ``exports``: needs the extras)."""

from __future__ import annotations

import json

import pytest

from harness.check.check import CheckOptions, run_check
from harness.check.output import render

pytestmark = pytest.mark.exports


@pytest.fixture(scope="module")
def onnx_port():
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    from harness.exports.port import export_port

    return export_port("onnx")


def test_exported_simple_rnn_matches_and_names_its_artifact(onnx_port, keras_runner):
    options = CheckOptions(kind="SimpleRNN", fixed={"units": 3, "features": 2, "unroll": False, "activation": "tanh"},
                           examples=3, max_timesteps=8)
    report = run_check(onnx_port, options, runner=keras_runner)
    assert report.verdict == "match", render(report)
    assert all(o.details.get("artifact") == "onnx Loop loop" for o in report.outcomes), render(report)
    assert "artifacts: onnx Loop loop (3 examples)" in render(report)
    assert not any(o.spec.layer.stateful for o in report.outcomes)  # pinned: an artifact keeps no state


def test_one_conversion_serves_several_data_draws(keras_runner):
    """Examples come in builds (configuration, weights, static shapes): one conversion each."""
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    from harness.exports import ExportCache
    from harness.exports.port import export_port

    cache = ExportCache()
    options = CheckOptions(kind="SimpleRNN", fixed={"units": 2, "features": 2, "unroll": False, "activation": "tanh"},
                           examples=6, max_timesteps=6)
    report = run_check(export_port("onnx", cache=cache), options, runner=keras_runner)
    assert report.verdict == "match", render(report)
    builds = {(o.spec.layer, o.spec.batch, o.spec.timesteps, o.spec.mask, o.spec.initial_state,
               o.spec.seed if o.spec.weights_seed is None else o.spec.weights_seed) for o in report.outcomes}
    assert len(builds) == 4 and cache.conversions == 4 and cache.hits == 2
    assert sum(o.details["converted"] for o in report.outcomes) == 4
    assert "; 4 conversions for 6 examples" in render(report)


def test_what_the_converter_refuses_is_unsupported_with_its_reason(onnx_port, keras_runner):
    options = CheckOptions(kind="SimpleRNN", fixed={"units": 2, "features": 2, "activation": "celu"}, examples=2,
                           max_timesteps=6)
    report = run_check(onnx_port, options, runner=keras_runner)
    assert report.verdict == "unsupported", render(report)
    assert "Unsupported ops" in report.error and "\n" not in report.error
    assert report.to_json()["unsupported"][0]["reason"].startswith("onnx cannot export it")


def test_cli_check_export_json(tmp_path, capsys):
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    from harness.cli import main

    out = tmp_path / "answer.json"
    code = main(["check", "--export", "onnx", "--layer", "GRU", "--units", "2", "--features", "2", "--examples", "2",
                 "--max-timesteps", "6", "--set", "recurrent_activation=sigmoid", "--set", "activation=tanh",
                 "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    answer = json.loads(out.read_text())
    assert answer["port"] == "export:onnx" and len(answer["artifacts"]) == 2
    assert "rnn-parity check --export onnx --layer GRU" in answer.get("command", printed) or "export:onnx" in printed


def test_check_model_export_localises_per_layer(tmp_path):
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    import numpy as np

    from harness.check.model import check_model
    from harness.target.keras_env import import_keras

    keras = import_keras()
    inp = keras.Input((8, 3))
    hidden = keras.layers.LSTM(4, return_sequences=True, name="lstm")(keras.layers.Masking(0.0)(inp))
    model = keras.Model(inp, keras.layers.GRU(3, name="gru")(hidden))
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    path = tmp_path / "model.keras"
    model.save(path)
    report = check_model(path, export="onnx")
    assert [c.against for c in report.layers] == ["export:onnx", "export:onnx"]
    assert report.verdict == "match", report.to_json()
    assert report.export == "onnx" and max(report.export_drift) < 1e-5


def test_report_with_exports_writes_the_matrix(tmp_path, capsys):
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    import pandas as pd

    from harness.cli import main

    code = main(["report", "--examples", "2", "--seed", "3", "--cells", "GRU", "--no-cases", "--exports", "onnx",
                 "--export-examples", "2", "--no-progress", "--out", str(tmp_path)])
    capsys.readouterr()
    assert code == 0
    run = (tmp_path / "latest").resolve()
    matrix = pd.read_csv(run / "exports" / "matrix.csv")
    assert set(matrix["exporter"]) == {"onnx"} and set(matrix["kind"]) == {"GRU"}
    assert (matrix[["pass", "ill-conditioned", "unsupported"]].sum(axis=1) == matrix["cases"]).all()
    assert "id='exports'" in (run / "index.html").read_text()


def test_a_clip_written_hard_sigmoid_is_fused_with_onnx_default_slope(keras_runner):
    """tf2onnx's discrepancy 1 through a real check: hard_sigmoid written clip(x/6 + 0.5, 0, 1) in the export."""
    pytest.importorskip("tf2onnx", reason="the onnx extra is not installed (make test-exports)")
    from harness.exports.port import export_port

    # tf2onnx fuses only without a mask, unroll or recurrent dropout and with a batch above one.
    fixed = {"units": 3, "features": 2, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "mask": "none",
             "unroll": False, "recurrent_dropout": 0.0, "batch": 2}
    report = run_check(export_port("onnx", forms={"hard_sigmoid": "clip"}),
                       CheckOptions(kind="LSTM", fixed=fixed, examples=2, max_timesteps=6), runner=keras_runner)
    assert report.verdict == "mismatch" and report.flags == ["activation"], render(report)
    assert "HardSigmoid with default alpha/beta" in render(report)
    assert report.port == "export:onnx[hard_sigmoid=clip]"
    same = run_check(export_port("onnx", forms={"hard_sigmoid": "clip-constant-first"}),
                     CheckOptions(kind="LSTM", fixed=fixed, examples=2, max_timesteps=6), runner=keras_runner)
    assert same.verdict == "match", render(same)  # constant first: not fused, exact
