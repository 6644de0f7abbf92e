"""Strategies: argument validation, fixed options, size limits, reproducible draws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.layers import strategies as hs
from harness.layers.case import CaseSpec
from harness.layers.generate import draw_examples
from harness.layers.cell import CellSpec


# ------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "make, named",
    [
        (lambda: hs.layer_specs(kinds=["Foo"]), "kinds"),
        (lambda: hs.layer_specs(kinds=[]), "kinds"),
        (lambda: hs.case_specs(kinds=["LSTM", "Foo"]), "kinds"),
        (lambda: hs.layer_specs(kind="Foo"), "kinds"),
        (lambda: hs.layer_specs(max_units=0), "max_units"),
        (lambda: hs.layer_specs(max_features=0), "max_features"),
        (lambda: hs.case_specs(max_timesteps=0), "max_timesteps"),
        (lambda: hs.case_specs(max_timesteps=2.5), "max_timesteps"),
        (lambda: hs.case_specs(max_batch=0), "max_batch"),
        (lambda: hs.case_specs(max_units=0), "max_units"),
        (lambda: hs.layer_specs(return_sequence=True), "return_sequence"),
        (lambda: hs.case_specs(return_sequence=True), "return_sequence"),
        (lambda: hs.case_specs(mask="bogus"), "mask"),
        (lambda: hs.case_specs(layers=hs.layer_specs(), units=3), "units"),
    ],
    ids=[
        "layer-kinds=Foo", "layer-kinds=empty", "case-kinds=LSTM,Foo", "layer-kind=Foo", "max_units=0",
        "max_features=0", "max_timesteps=0", "max_timesteps=2.5", "max_batch=0", "case-max_units=0",
        "layer-return_sequence", "case-return_sequence", "mask=bogus", "layers+units",
    ],
)
def test_validation_names_the_argument_when_the_strategy_is_made(make, named):
    with pytest.raises(ValueError, match=named) as info:
        make()  # raises at creation, not lazily at the first draw
    assert "\n" not in str(info.value)


def test_unknown_option_error_lists_the_valid_ones():
    with pytest.raises(ValueError, match="return_sequences"):
        hs.layer_specs(return_sequence=True)


# ---------------------------------------------------------- fixed options
FIXED_LAYER_OPTIONS = [
    ({"kinds": ["GRU"], "return_sequences": True}, {"kind": "GRU", "return_sequences": True}),
    ({"kinds": ["LSTM"], "go_backwards": True, "return_state": True}, {"kind": "LSTM", "go_backwards": True, "return_state": True}),
    ({"kind": "SimpleRNN", "units": 5}, {"kind": "SimpleRNN", "units": 5, "recurrent_activation": None}),
    ({"kinds": ["GRU"], "reset_after": False, "use_bias": True}, {"kind": "GRU", "reset_after": False, "use_bias": True}),
    ({"activation": "hard_sigmoid", "recurrent_activation": "softsign", "kinds": ["LSTM", "GRU"]},
     {"activation": "hard_sigmoid", "recurrent_activation": "softsign"}),
    ({"stateful": True, "unroll": True, "features": 7}, {"stateful": True, "unroll": True, "features": 7}),
    ({"dropout": 0.0, "recurrent_dropout": 0.25}, {"dropout": 0.0, "recurrent_dropout": 0.25}),
]


@pytest.mark.parametrize(
    "options, expected", FIXED_LAYER_OPTIONS, ids=["-".join(map(str, o)) for o, _ in FIXED_LAYER_OPTIONS]
)
@given(data=st.data())
def test_fixed_layer_options_are_respected(options, expected, data):
    spec = data.draw(hs.layer_specs(**options), label="spec")
    assert isinstance(spec, CellSpec)
    for name, value in expected.items():
        assert getattr(spec, name) == value, name


@given(st.data())
def test_kinds_restrict_the_kind(data):
    kinds = data.draw(st.lists(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]), min_size=1, unique=True), label="kinds")
    spec = data.draw(hs.layer_specs(kinds=kinds), label="spec")
    assert spec.kind in kinds


@given(st.data())
def test_max_units_and_features_are_respected(data):
    max_units = data.draw(st.integers(1, 8), label="max_units")
    max_features = data.draw(st.integers(1, 4), label="max_features")
    spec = data.draw(hs.layer_specs(max_units=max_units, max_features=max_features), label="spec")
    assert 1 <= spec.units <= max_units
    assert 1 <= spec.features <= max_features


FIXED_CASE_OPTIONS = [
    {"mask": "mixed", "batch": 3},
    {"initial_state": True, "timesteps": 7},
    {"recurrent_gain": 3.0, "input_scale": 0.3, "seed": 42},
    {"kernel_scale": 2.0, "bias_scale": 0.1, "mask": "none"},
    {"stateful": True, "timesteps": 9, "chunks": 3},
]


@pytest.mark.parametrize("options", FIXED_CASE_OPTIONS, ids=["-".join(map(str, o)) for o in FIXED_CASE_OPTIONS])
@given(data=st.data())
def test_fixed_case_options_are_respected(options, data):
    case = data.draw(hs.case_specs(kinds=["LSTM"], **options), label="case")
    assert isinstance(case, CaseSpec) and case.layer.kind == "LSTM"
    for name, value in options.items():
        holder = case.layer if name in CellSpec.__dataclass_fields__ else case
        assert getattr(holder, name) == value, name


@given(st.data())
def test_layers_argument_is_used(data):
    case = data.draw(hs.case_specs(layers=hs.layer_specs(kinds=["GRU"], units=3)), label="case")
    assert case.layer.kind == "GRU" and case.layer.units == 3


# ------------------------------------------------------------ size limits
@given(st.data())
def test_case_specs_respect_max_timesteps_and_max_batch(data):
    max_timesteps = data.draw(st.integers(1, 30), label="max_timesteps")
    max_batch = data.draw(st.integers(1, 5), label="max_batch")
    max_units = data.draw(st.integers(1, 6), label="max_units")
    case = data.draw(
        hs.case_specs(max_timesteps=max_timesteps, max_batch=max_batch, max_units=max_units), label="case"
    )
    assert 1 <= case.timesteps <= max_timesteps
    assert 1 <= case.batch <= max_batch
    assert 1 <= case.layer.units <= max_units


@given(st.data())
def test_unroll_cases_are_short(data):
    case = data.draw(hs.case_specs(unroll=True, max_timesteps=500), label="case")
    assert case.layer.unroll
    assert case.timesteps <= hs.UNROLL_MAX_TIMESTEPS


@given(st.data())
def test_chunks_only_for_stateful_and_within_timesteps(data):
    case = data.draw(hs.case_specs(max_timesteps=16), label="case")
    assert 1 <= case.chunks <= case.timesteps
    if not case.layer.stateful:
        assert case.chunks == 1


def test_data_options_are_drawn_from_the_documented_values():
    cases = draw_examples(hs.case_specs(max_timesteps=8, max_units=4), count=40, seed=3)
    for case in cases:
        assert case.recurrent_gain in hs.RECURRENT_GAINS
        assert case.input_scale in hs.INPUT_SCALES
        assert case.kernel_scale in hs.KERNEL_SCALES
        assert case.bias_scale in hs.BIAS_SCALES and case.bias_scale > 0
    # the draws actually vary, not one default repeated
    assert len({c.recurrent_gain for c in cases}) > 1
    assert len({c.layer.kind for c in cases}) == 3


# ---------------------------------------------------------- draw_examples
STRATEGY = hs.case_specs(kinds=["LSTM"], max_timesteps=16, max_units=8)


def test_draw_examples_same_seed_same_list():
    assert draw_examples(STRATEGY, count=6, seed=7) == draw_examples(STRATEGY, count=6, seed=7)


def test_draw_examples_other_seed_other_list():
    assert draw_examples(STRATEGY, count=6, seed=7) != draw_examples(STRATEGY, count=6, seed=8)


@pytest.mark.parametrize("count", [0, 1, 5, 12])
def test_draw_examples_gives_the_requested_count_of_distinct_examples(count):
    drawn = draw_examples(STRATEGY, count=count, seed=11)
    assert len(drawn) == count
    assert len(set(drawn)) == count
    assert all(isinstance(c, CaseSpec) for c in drawn)


def test_draw_examples_negative_count_is_named():
    with pytest.raises(ValueError, match="count"):
        draw_examples(STRATEGY, count=-1, seed=0)
