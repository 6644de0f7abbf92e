"""CellSpec: dict and Keras-config round trips, validation, readable ids."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from harness.layers import strategies as hs
from harness.layers.cell import INFERENCE_NEUTRAL_KEYS, CellSpec

#: Keras serialises these aliases under another name (swish -> silu,
#: hard_swish -> hard_silu); see test_keras_alias_activations_round_trip.
KERAS_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


# ------------------------------------------------------------ round trips
@given(st.data())
def test_dict_round_trip(data):
    spec = data.draw(hs.layer_specs(), label="spec")
    as_dict = spec.to_dict()
    assert CellSpec.from_dict(as_dict) == spec
    # The dict goes into replay tokens and CSV files: it must survive JSON.
    assert CellSpec.from_dict(json.loads(json.dumps(as_dict))) == spec


@given(st.data())
def test_keras_config_round_trip(data):
    spec = data.draw(hs.layer_specs(), label="spec")
    config = spec.to_keras_config()
    assert "features" not in config and "kind" not in config
    assert CellSpec.from_keras_config(spec.kind, config, features=spec.features) == spec


@pytest.mark.parametrize(
    "kind, present, absent",
    [
        ("SimpleRNN", [], ["recurrent_activation", "reset_after"]),
        ("LSTM", ["recurrent_activation"], ["reset_after"]),
        ("GRU", ["recurrent_activation", "reset_after"], []),
    ],
    ids=["SimpleRNN", "LSTM", "GRU"],
)
def test_keras_config_has_only_the_kinds_arguments(kind, present, absent):
    config = CellSpec(kind=kind, units=3, features=2).to_keras_config()
    for key in present:
        assert key in config, f"{kind} config lacks {key!r}"
    for key in absent:
        assert key not in config, f"{kind} config has {key!r}, which keras.layers.{kind} does not take"


def test_inference_neutral_keys_are_dropped():
    spec = CellSpec(kind="LSTM", units=5, features=3, recurrent_activation="hard_sigmoid", go_backwards=True)
    config = dict(spec.to_keras_config(), name="my_lstm", kernel_initializer="zeros", seed=7, unit_forget_bias=False)
    assert CellSpec.from_keras_config("LSTM", config, features=3) == spec


def test_serialized_activation_dict_is_parsed():
    config = dict(
        CellSpec(kind="GRU", units=4, features=2).to_keras_config(),
        activation={"class_name": "function", "config": {"name": "softsign"}},
    )
    assert CellSpec.from_keras_config("GRU", config, features=2).activation == "softsign"


# ------------------------------------------------------- against Keras
def _keras_layer(spec: CellSpec):
    from harness.target.keras_env import import_keras

    keras = import_keras()
    return getattr(keras.layers, spec.kind)(**spec.to_keras_config())


@pytest.mark.keras
@settings(max_examples=8)
@given(st.data())
def test_real_keras_get_config_parses_back(data):
    spec = data.draw(hs.layer_specs(), label="spec")
    assume(spec.activation not in KERAS_ALIASES and spec.recurrent_activation not in KERAS_ALIASES)
    layer = _keras_layer(spec)
    parsed = CellSpec.from_keras_config(spec.kind, layer.get_config(), features=spec.features)
    assert parsed == spec


@pytest.mark.keras
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_real_keras_get_config_every_option_on(kind):
    spec = CellSpec(
        kind=kind, units=3, features=2, activation="hard_tanh",
        recurrent_activation=None if kind == "SimpleRNN" else "hard_sigmoid",
        use_bias=False, reset_after=False, return_sequences=True, return_state=True, go_backwards=True,
        stateful=True, unroll=True, zero_output_for_mask=True, dropout=0.3, recurrent_dropout=0.25,
    )
    parsed = CellSpec.from_keras_config(kind, _keras_layer(spec).get_config(), features=2)
    assert parsed == spec


@pytest.mark.keras
@pytest.mark.parametrize("alias", sorted(KERAS_ALIASES))
def test_keras_alias_activations_round_trip(alias):
    spec = CellSpec(kind="GRU", units=3, features=2, activation=alias, recurrent_activation=alias)
    assert CellSpec.from_keras_config("GRU", _keras_layer(spec).get_config(), features=2) == spec


@pytest.mark.keras
def test_activation_layer_object_is_parsed_by_its_function():
    from harness.target.keras_env import import_keras

    keras = import_keras()
    layer = keras.layers.LSTM(3, activation=keras.layers.Activation("tanh", name="relu"))
    assert CellSpec.from_keras_config("LSTM", layer.get_config(), features=2).activation == "tanh"


# ------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "changes, named",
    [
        ({"units": 0}, "units"),
        ({"units": -3}, "units"),
        ({"units": True}, "units"),
        ({"features": 0}, "features"),
        ({"kind": "Foo"}, "kind"),
        ({"activation": "sigmod"}, "sigmod"),
        ({"recurrent_activation": "sigmod"}, "sigmod"),
        ({"recurrent_activation": None}, "recurrent_activation"),
        ({"dropout": 1.5}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"recurrent_dropout": 1.0}, "recurrent_dropout"),
    ],
    ids=lambda v: "-".join(f"{k}={v[k]!r}" for k in v) if isinstance(v, dict) else v,
)
def test_validation_names_the_argument(changes, named):
    arguments = dict(kind="LSTM", units=4, features=2)
    arguments.update(changes)
    with pytest.raises(ValueError, match=named) as info:
        CellSpec(**arguments)
    assert "\n" not in str(info.value)


def test_kind_error_names_the_bad_kind():
    with pytest.raises(ValueError, match="Foo") as info:
        CellSpec(kind="Foo", units=2, features=2)
    assert "kind" in str(info.value)


def test_unknown_keras_key_is_an_error_naming_it():
    config = dict(CellSpec(kind="GRU", units=4, features=2).to_keras_config(), time_major=True)
    with pytest.raises(ValueError, match="time_major"):
        CellSpec.from_keras_config("GRU", config, features=2)


def test_unknown_dict_field_is_an_error_naming_it():
    data = dict(CellSpec(kind="GRU", units=4, features=2).to_dict(), time_major=True)
    with pytest.raises(ValueError, match="time_major"):
        CellSpec.from_dict(data)


def test_neutral_keys_are_not_spec_fields():
    fields = set(CellSpec(kind="LSTM", units=1, features=1).to_dict())
    assert not fields & INFERENCE_NEUTRAL_KEYS


def test_options_meaningless_for_a_kind_are_canonical():
    assert CellSpec(kind="SimpleRNN", units=2, features=2, recurrent_activation="hard_sigmoid").recurrent_activation is None
    assert CellSpec(kind="LSTM", units=2, features=2, reset_after=False) == CellSpec(kind="LSTM", units=2, features=2)
    assert CellSpec(kind="GRU", units=2, features=2, reset_after=False).reset_after is False


# -------------------------------------------------------------- short_id
FLAG_OPTIONS = {
    "use_bias": False,
    "reset_after": False,
    "return_sequences": True,
    "return_state": True,
    "go_backwards": True,
    "stateful": True,
    "unroll": True,
    "zero_output_for_mask": True,
    "recurrent_dropout": 0.25,
}


def test_short_id_is_readable():
    spec = CellSpec(kind="LSTM", units=8, features=3, recurrent_activation="hard_sigmoid",
                     return_sequences=True, return_state=True, go_backwards=True)
    assert spec.short_id() == "LSTM-u8-f3-tanh/hard_sigmoid-seq-state-bw"
    assert CellSpec(kind="SimpleRNN", units=2, features=1, activation="relu").short_id() == "SimpleRNN-u2-f1-relu"
    assert " " not in spec.short_id()


def test_short_id_distinct_for_distinct_flag_sets():
    ids = {}
    for n in range(len(FLAG_OPTIONS) + 1):
        for names in itertools.combinations(FLAG_OPTIONS, n):
            spec = CellSpec(kind="GRU", units=4, features=2, **{k: FLAG_OPTIONS[k] for k in names})
            ids.setdefault(spec.short_id(), []).append(names)
    clashes = {k: v for k, v in ids.items() if len(v) > 1}
    assert not clashes
    assert len(ids) == 2 ** len(FLAG_OPTIONS)


@given(st.data())
def test_short_id_separates_kind_units_features_and_activations(data):
    a = data.draw(hs.layer_specs(), label="a")
    b = data.draw(hs.layer_specs(), label="b")
    key = lambda s: (s.kind, s.units, s.features, s.activation, s.recurrent_activation)  # noqa: E731
    if key(a) != key(b):
        assert a.short_id() != b.short_id()
