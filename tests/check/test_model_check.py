"""check-model on the seed-shaped models: the reference matches every layer, and a faulty
port for one layer is localised to that layer, its first timestep, and named."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.check.model import ModelError, check_model, load_model
from harness.ports.port import wrap_port
from reference_cells import Conventions, run_sequence

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    sys.path.insert(0, str(REPO / "cases" / "models"))
    try:
        from make_models import build
    finally:
        sys.path.pop(0)
    paths = build(tmp_path_factory.mktemp("models"))
    return {p.stem: p for p in paths}


def _port(kind: str, conventions: Conventions, *, with_mask: bool = False):
    if with_mask:
        def port(x, weights, config, mask=None):
            return run_sequence(kind, x, weights, config, mask=mask, conventions=conventions,
                                dtype=np.float32).layer_return()
    else:
        def port(x, weights, config):
            return run_sequence(kind, x, weights, config, conventions=conventions, dtype=np.float32).layer_return()
    return wrap_port(port, name=f"{kind}-{conventions.describe()}")


@pytest.mark.parametrize("name", ["seed000_two_lstm", "seed001_masking_rnn", "seed003_stateful_gru"])
def test_reference_matches_every_layer(models, name):
    report = check_model(models[name])
    assert report.verdict == "match", report.to_json()
    assert all(c.verdict == "match" for c in report.layers) and report.layers


def test_masking_model_exercises_the_mask(models):
    report = check_model(models["seed001_masking_rnn"])
    (rnn,) = report.layers
    assert rnn.records and rnn.result.status == "pass"
    # the layer's input really was masked: a mask-ignoring port disagrees
    broken = check_model(models["seed001_masking_rnn"], ports={"rnn": _port("SimpleRNN", Conventions(mask="ignore"), with_mask=True)})
    assert broken.layers[0].verdict == "mismatch"


def test_fault_in_second_lstm_is_localised_and_named(models):
    ports = {"lstm2": _port("LSTM", Conventions(recurrent_activation="sigmoid"))}
    report = check_model(models["seed000_two_lstm"], ports=ports)
    assert [c.verdict for c in report.layers] == ["match", "mismatch"]
    first = report.first_diverging
    assert first.name == "lstm2" and first.result.first_t == report.to_json()["first_diverging_layer"]["t"]
    assert first.flags == ["activation"]


def test_seed001_ones_start_is_named(models):
    ports = {"rnn": _port("SimpleRNN", Conventions(initial_state="ones"), with_mask=True)}
    report = check_model(models["seed001_masking_rnn"], ports=ports)
    assert report.layers[0].flags == ["initial-state"]


def test_stateful_gru_stack_fault_in_middle_layer(models):
    ports = {"gru_layer_1": _port("GRU", Conventions(gru_update="swapped"))}
    report = check_model(models["seed003_stateful_gru"], ports=ports, timesteps=12)
    assert [c.verdict for c in report.layers] == ["match", "mismatch", "match"]
    assert report.first_diverging.name == "gru_layer_1" and report.first_diverging.result.first_t == 0
    assert report.first_diverging.flags == ["gru-update-convention"]


def test_cli_json_and_exit_codes(models, tmp_path, capsys):
    out = tmp_path / "answer.json"
    assert main(["check-model", str(models["seed000_two_lstm"]), "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["verdict"] == "match" and [l["name"] for l in payload["layers"]] == ["lstm1", "lstm2"]
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.random.default_rng(1).standard_normal((3, 24, 9)).astype(np.float32))
    assert main(["check-model", str(models["seed000_two_lstm"]), "--inputs", str(inputs)]) == 0


def test_bad_model_files_are_one_line_errors(tmp_path, capsys):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    for argv in (["check-model", str(junk)], ["check-model", str(tmp_path / "missing.keras")],
                 ["check-model", str(tmp_path / "model.txt")]):
        if argv[1].endswith(".txt"):
            Path(argv[1]).write_text("x")
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("rnn-parity: error: MODEL"), err


def test_lambda_layers_refused_without_unsafe(tmp_path):
    from harness.target.keras_env import import_keras

    keras = import_keras()
    inp = keras.Input((5, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    model = keras.Model(inp, keras.layers.GRU(4)(x))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelError, match="Lambda"):
        load_model(path)
    assert check_model(path, unsafe=True).verdict == "match"


def test_unknown_port_layer_is_named(models):
    with pytest.raises(ModelError, match="no layer lstm9"):
        check_model(models["seed000_two_lstm"], ports={"lstm9": _port("LSTM", Conventions())})


def test_keras2_h5_with_unknown_key_names_the_key(tmp_path):
    """tf-keras wrote `time_major` into LSTM configs; Keras 3 refuses it. The error must say which key and what to do."""
    import h5py

    from harness.target.keras_env import import_keras

    keras = import_keras()
    inp = keras.Input((5, 3))
    path = tmp_path / "legacy.h5"
    keras.Model(inp, keras.layers.LSTM(4, name="l")(inp)).save(path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "LSTM":
                layer["config"]["time_major"] = False
        handle.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ModelError, match="time_major.*tf_keras and save it again"):
        load_model(path)


@pytest.fixture(scope="module")
def composite_models(tmp_path_factory) -> dict[str, Path]:
    """Bidirectional (masked) feeding an RNN over [GRUCell, LSTMCell]; a ConvLSTM2D pair."""
    from harness.target.keras_env import import_keras

    keras = import_keras()
    L = keras.layers
    rng = np.random.default_rng(0)
    out = tmp_path_factory.mktemp("composite")
    inp = keras.Input((12, 5))
    bi = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="concat", name="bi")(L.Masking(-99.0)(inp))
    stack = L.RNN([L.GRUCell(3), L.LSTMCell(4)], return_sequences=True, return_state=True, name="stack")(bi)
    model = keras.Model(inp, L.Dense(2)(stack[0]))
    model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])
    model.save(out / "bi_stack.keras")
    inp = keras.Input((5, 6, 6, 2))
    conv = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, name="conv")(inp)
    model = keras.Model(inp, L.ConvLSTM2D(2, 2, strides=2, name="conv2")(conv))
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    model.save(out / "conv.keras")
    return {"bi_stack": out / "bi_stack.keras", "conv": out / "conv.keras"}


def test_bidirectional_stacked_and_convlstm_layers_match(composite_models):
    for name, expected in (("bi_stack", ["Bidirectional(LSTM)", "RNN(GRU,LSTM)"]), ("conv", ["ConvLSTM2D", "ConvLSTM2D"])):
        report = check_model(composite_models[name])
        assert [c.kind for c in report.layers] == expected
        assert report.verdict == "match", report.to_json()


def test_misaligned_backward_half_in_the_reference_would_be_caught(composite_models, monkeypatch):
    """The comparison can fail: a reference whose backward half is not flipped back disagrees with Keras."""
    import harness.oracle.references as refs

    original = refs.run_bidirectional

    def misaligned(*args, **kwargs):
        kwargs["backward_conventions"] = Conventions(time_direction="flipped")
        return original(*args, **kwargs)

    monkeypatch.setattr(refs, "run_bidirectional", misaligned)
    report = check_model(composite_models["bi_stack"])
    assert report.layers[0].verdict == "mismatch" and report.first_diverging.name == "bi"


def _example_port(name: str):
    from harness.ports.loading import load_port

    return load_port(str(REPO / "cases" / "ports" / name))


def test_composite_ports_in_a_model_are_checked_and_named(composite_models):
    """check-model --port on a Bidirectional and a ConvLSTM layer: correct ports match, broken ones are
    localised to their layer and named."""
    correct = check_model(composite_models["bi_stack"],
                          ports={"bi": _example_port("correct_bidirectional.py:bidirectional")})
    assert correct.layers[0].against.endswith("bidirectional") and correct.layers[0].verdict == "match", correct.to_json()
    broken = check_model(composite_models["bi_stack"],
                         ports={"bi": _example_port("broken_bidirectional_backward_unflipped.py:bidirectional")})
    assert broken.first_diverging.name == "bi" and broken.first_diverging.flags == ["time-direction"], broken.to_json()
    conv = check_model(composite_models["conv"],
                       ports={"conv2": _example_port("broken_conv_lstm2d_gate_order.py:conv_lstm"),
                              "conv": _example_port("correct_conv_lstm.py:conv_lstm")})
    assert [c.verdict for c in conv.layers] == ["match", "mismatch"]
    assert conv.first_diverging.name == "conv2" and conv.first_diverging.flags == ["gate-order"]


def test_check_model_cli_composite_port(composite_models, tmp_path, capsys):
    out = tmp_path / "answer.json"
    port = REPO / "cases" / "ports" / "broken_conv_lstm2d_gate_order.py"
    code = main(["check-model", str(composite_models["conv"]), "--port", f"conv={port}:conv_lstm", "--json", str(out)])
    assert code == 1, capsys.readouterr().out
    answer = json.loads(out.read_text())
    assert answer["first_diverging_layer"]["layer"] == "conv" and answer["first_diverging_layer"]["flags"] == ["gate-order"]


def test_float16_port_in_a_model_declared_or_named(models):
    """check-model --port ... --precision: a float16 port of the second LSTM matches at float16; undeclared,
    its layer is a mismatch named precision; declared, a real bug in it is still named."""
    sys.path.insert(0, str(REPO / "cases" / "ports"))
    try:
        from low_precision import make_port
    finally:
        sys.path.pop(0)
    from reference_cells.precision import FLOAT16

    ports = {"lstm2": wrap_port(make_port("LSTM", "float16"), name="lstm_float16")}
    declared = check_model(models["seed000_two_lstm"], ports=ports, precision="float16")
    assert declared.verdict == "match", declared.to_json()
    undeclared = check_model(models["seed000_two_lstm"], ports=ports)
    assert undeclared.layers[1].flags == ["precision"], undeclared.to_json()

    def sigmoid_gates(x, weights, config):  # the second LSTM's hard_sigmoid gates computed as sigmoid, in float16
        out = run_sequence("LSTM", x, weights, config, conventions=Conventions(recurrent_activation="sigmoid"),
                           dtype=FLOAT16).layer_return()
        return np.asarray(out, np.float32)

    broken = check_model(models["seed000_two_lstm"], ports={"lstm2": wrap_port(sigmoid_gates, name="f16")},
                         precision="float16")
    assert broken.layers[1].flags == ["activation"], broken.to_json()
