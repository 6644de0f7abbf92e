"""Real conversions of small layers (the `exports` group; `make test-exports` installs the converters).

Plain configurations must match Keras to float32 round-off; the artifact's
contents must be detected; what a converter or runtime cannot do must raise
ExportUnsupported with one line; the cache must reuse one conversion.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.exports.helpers import B, F, T, U, draw_inputs, keras_return, make_layer, max_error, need, need_exporter

pytestmark = pytest.mark.exports

EXPORTERS = ("onnx", "litert")
TINY = 1e-5  # float32 round-off over T=5 steps is ~1e-7; this is far below any real discrepancy


def _export(layer, exporter, **kwargs):
    from harness.exports import export_layer

    need_exporter(exporter)
    kwargs.setdefault("features_shape", (F,))
    return export_layer(layer, exporter, batch=B, timesteps=T, **kwargs)


LAYERS = {
    "lstm-sigmoid-seq-state": (lambda L: L.LSTM(U, return_sequences=True, return_state=True), 2),
    "gru-reset_before-bw": (lambda L: L.GRU(U, reset_after=False, go_backwards=True, return_state=True), 1),
    "simple_rnn-seq": (lambda L: L.SimpleRNN(U, return_sequences=True), 1),
}


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", list(LAYERS))
def test_plain_configs_match_keras(exporter, name):
    factory, _ = LAYERS[name]
    layer = make_layer(factory)
    x, _, _ = draw_inputs()
    artifact = _export(layer, exporter)
    got = artifact.run(x)
    want = keras_return(layer, x)
    assert [g.shape for g in got] == [w.shape for w in want]  # Keras's return order, by name for LiteRT
    assert max_error(got, want) < TINY


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_mask_and_initial_state_are_inputs(exporter):
    layer = make_layer(lambda L: L.LSTM(U, return_sequences=True, return_state=True))
    x, mask, states = draw_inputs(mask=True, n_states=2)
    artifact = _export(layer, exporter, with_mask=True, initial_state_shapes=[(B, U), (B, U)])
    got = artifact.run(x, mask=mask, initial_state=states)
    assert max_error(got, keras_return(layer, x, mask, states)) < TINY
    # the mask really is used: without it the answer differs
    assert max_error(got, keras_return(layer, x, None, states)) > 1e-3


def test_onnx_contents_fused_lstm_and_loop():
    fused = _export(make_layer(lambda L: L.LSTM(U)), "onnx")
    assert fused.contents["fused"] == "LSTM" and fused.contents["loop"] is None
    assert fused.contents["fused_activations"][0]["activations"] == ["Sigmoid", "Tanh", "Tanh"]
    looped = _export(make_layer(lambda L: L.GRU(U)), "onnx")
    assert looped.contents["fused"] is None and looped.contents["loop"] == "Loop"
    assert looped.contents["ops"]["Loop"] == 1 and sum(looped.contents["ops"].values()) > 5  # body ops counted
    assert looped.versions["opset"].isdigit() and looped.versions["onnxruntime"] != "missing"


def test_litert_contents_while_without_flex():
    art = _export(make_layer(lambda L: L.LSTM(U)), "litert")
    assert art.contents["loop"] == "WHILE" and art.contents["fused"] is None
    assert art.contents["flex_ops"] == [] and art.contents["subgraphs"] >= 3  # main, cond, body
    assert art.versions["ai-edge-litert"] != "missing"


def test_onnx_hard_sigmoid_slope_is_lost_when_tf2onnx_fuses():
    """Measured tf2onnx discrepancy: clip(x/6+0.5) is fused as HardSigmoid with ONNX's default slope 0.2."""
    from harness.exports.measure import hard_sigmoid_clip6

    layer = make_layer(lambda L: L.LSTM(U, recurrent_activation=hard_sigmoid_clip6))
    x, _, _ = draw_inputs()
    art = _export(layer, "onnx")
    fused = art.contents["fused_activations"][0]
    assert fused["activations"][0] == "HardSigmoid" and fused["activation_alpha"] == []
    assert max_error(art.run(x), keras_return(layer, x)) > 1e-2


def test_onnx_mask_blend_turns_a_discarded_overflow_into_nan():
    """Measured tf2onnx discrepancy: where(mask, new, old) becomes m*new + (1-m)*old, and 0*inf is NaN."""
    layer = make_layer(lambda L: L.SimpleRNN(U, activation="exponential", return_sequences=True))
    x, mask, _ = draw_inputs(mask=True)
    x *= 0.15  # keep Keras finite everywhere ...
    x[1, 3] = 400.0  # ... but at step 3 of row 1, which is masked: Keras discards the overflowing candidate
    want = keras_return(layer, x, mask)[0]
    got = _export(layer, "onnx", with_mask=True).run(x, mask=mask)[0]
    assert np.isfinite(want).all() and np.isnan(got[1, 3]).any()


def test_litert_keeps_the_discarded_overflow_out():
    layer = make_layer(lambda L: L.SimpleRNN(U, activation="exponential", return_sequences=True))
    x, mask, _ = draw_inputs(mask=True)
    x *= 0.15
    x[1, 3] = 400.0
    want = keras_return(layer, x, mask)[0]
    got = _export(layer, "litert", with_mask=True).run(x, mask=mask)[0]
    assert np.isfinite(want).all() and np.isfinite(got).all() and max_error([got], [want]) < 1e-4


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_unsupported_op_raises_export_unsupported_in_one_line(exporter):
    from harness.exports import ExportUnsupported
    from harness.target.keras_env import import_keras

    ops = import_keras().ops
    layer = make_layer(lambda L: L.SimpleRNN(U, activation=lambda v: ops.erfinv(ops.tanh(v) * 0.5)))
    with pytest.raises(ExportUnsupported) as info:
        _export(layer, exporter)
    assert "\n" not in str(info.value) and "Erfinv" in str(info.value)
    assert info.value.log  # the converter's own output is kept, not printed


def test_stateful_layer_is_unsupported():
    from harness.exports import ExportUnsupported, export_layer

    layer = make_layer(lambda L: L.SimpleRNN(U, stateful=True), batch=B)
    with pytest.raises(ExportUnsupported, match="stateful"):
        export_layer(layer, "onnx", batch=B, timesteps=T, features_shape=(F,))


def test_cache_reuses_one_conversion_per_config_weights_and_shapes():
    from harness.exports import ExportCache, export_layer

    need_exporter("onnx")
    cache = ExportCache(size=4)
    layer = make_layer(lambda L: L.GRU(U, return_sequences=True))
    kwargs = dict(batch=B, timesteps=T, features_shape=(F,), cache=cache)
    first = export_layer(layer, "onnx", **kwargs)
    outs = [first.run(draw_inputs(seed=s)[0]) for s in range(3)]  # several draws, one artifact
    assert export_layer(layer, "onnx", **kwargs) is first
    twin = make_layer(lambda L: L.GRU(U, return_sequences=True))  # same config and weights, another object
    assert export_layer(twin, "onnx", **kwargs) is first
    assert cache.stats() == {"conversions": 1, "hits": 2, "entries": 1}
    assert not np.allclose(outs[0][0], outs[1][0])
    layer.set_weights([w + 0.1 for w in layer.get_weights()])  # new weights: a new conversion
    assert export_layer(layer, "onnx", **kwargs) is not first
    export_layer(layer, "onnx", **{**kwargs, "timesteps": T + 1})  # new static shape: another one
    assert cache.conversions == 3


def test_cache_keeps_failures():
    from harness.exports import ExportCache, ExportUnsupported, export_layer
    from harness.target.keras_env import import_keras

    need_exporter("onnx")
    ops = import_keras().ops
    cache = ExportCache(size=2)
    layer = make_layer(lambda L: L.SimpleRNN(U, activation=lambda v: ops.erfinv(ops.tanh(v) * 0.5)))
    for _ in range(2):
        with pytest.raises(ExportUnsupported):
            export_layer(layer, "onnx", batch=B, timesteps=T, features_shape=(F,), cache=cache)
    assert cache.stats()["conversions"] == 1 and cache.stats()["hits"] == 1


def test_nothing_is_printed_and_the_log_is_kept(capfd):
    art = _export(make_layer(lambda L: L.LSTM(U)), "litert")
    art.run(draw_inputs()[0])
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert isinstance(art.log, str)


def test_run_checks_shapes_against_the_static_signature():
    art = _export(make_layer(lambda L: L.SimpleRNN(U)), "onnx", with_mask=True)
    x, mask, _ = draw_inputs(mask=True)
    with pytest.raises(ValueError, match="exported for"):
        art.run(x[:, :-1], mask=mask)
    with pytest.raises(ValueError, match="mask"):
        art.run(x)
    with pytest.raises(ValueError, match="initial state"):
        art.run(x, mask=mask, initial_state=[np.zeros((B, U), np.float32)])


def test_unknown_exporter_and_bad_shapes_are_value_errors():
    from harness.exports import export_layer

    layer = make_layer(lambda L: L.SimpleRNN(U))
    with pytest.raises(ValueError, match="not one of"):
        export_layer(layer, "keras2c", batch=B, timesteps=T, features_shape=(F,))
    with pytest.raises(ValueError, match="static"):
        export_layer(layer, "onnx", batch=0, timesteps=T, features_shape=(F,))


def test_one_line_picks_the_converter_error_line():
    from harness.exports.errors import one_line

    msg = "Traceback (most recent call last):\n  File \"x\", line 1\n<unknown>:0: error: 'tf.Foo' op is neither a custom op\n"
    assert one_line(msg) == "'tf.Foo' op is neither a custom op"
    assert one_line("first\nsecond") == "first"


def test_capture_collects_python_and_native_output(capfd):
    import logging
    import os
    import warnings

    from harness.exports.errors import capture

    with capture() as log:
        print("py-stdout")
        os.write(2, b"native-stderr\n")
        logging.getLogger("tf2onnx").error("a logged line")
        warnings.warn("a warning")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    for text in ("py-stdout", "native-stderr", "a logged line", "a warning"):
        assert text in log.text
