"""The one export test in the default run: a tiny SimpleRNN through ONNX, if tf2onnx is installed."""

from __future__ import annotations

import pytest

from tests.exports.helpers import B, F, T, U, draw_inputs, keras_return, make_layer, max_error, need


def test_tiny_simple_rnn_exports_and_matches_keras():
    need("tf2onnx", "onnx", "onnxruntime")
    from harness.exports import export_layer

    layer = make_layer(lambda L: L.SimpleRNN(U, return_sequences=True, return_state=True))
    x, _, _ = draw_inputs()
    artifact = export_layer(layer, "onnx", batch=B, timesteps=T, features_shape=(F,))
    got = artifact.run(x)
    assert [g.shape for g in got] == [(B, T, U), (B, U)]
    assert max_error(got, keras_return(layer, x)) < 1e-5
    assert artifact.contents["loop"] == "Loop" and artifact.contents["fused"] is None
    assert artifact.versions["tf2onnx"] != "missing"
