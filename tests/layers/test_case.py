"""CaseSpec: tokens, deterministic arrays in Keras layout, masks, chunks, validation."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import re
import zlib

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.layers import strategies as hs
from harness.layers.case import GATES, CaseSpec, make_mask
from harness.layers.cell import CellSpec

SMALL = dict(max_timesteps=12, max_batch=3, max_units=6)


def _spec(kind="LSTM", units=4, features=3, **case):
    layer_options = {k: case.pop(k) for k in list(case) if k in CellSpec.__dataclass_fields__}
    return CaseSpec(layer=CellSpec(kind=kind, units=units, features=features, **layer_options), **case)


def _arrays(data):
    """Every array of a CaseData, flattened into a list (None kept as None)."""
    return [*data.weights, data.x, data.mask, *(data.initial_state or [None])]


def _same(a, b):
    return all(
        (x is None and y is None) or (x is not None and y is not None and x.dtype == y.dtype and np.array_equal(x, y))
        for x, y in zip(_arrays(a), _arrays(b), strict=True)
    )


# ---------------------------------------------------------------- tokens
@given(st.data())
def test_token_round_trip(data):
    spec = data.draw(hs.case_specs(), label="case")
    token = spec.token()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token), "token must be URL-safe, unpadded, one word"
    assert CaseSpec.from_token(token) == spec


@given(st.data())
def test_dict_round_trip_through_json(data):
    spec = data.draw(hs.case_specs(), label="case")
    assert CaseSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def _corruptions():
    token = _spec(kind="GRU", units=5, batch=3, timesteps=9, mask="mixed", seed=1234).token()
    middle = len(token) // 2
    swapped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    return {
        "truncated": token[: len(token) - 6],
        "char-swapped": swapped,
        "last-char-dropped": token[:-1],
        "not-base64": "!!" + token[2:],
        "empty": "",
        "words": "not-a-token",
    }


@pytest.mark.parametrize("name, token", list(_corruptions().items()), ids=list(_corruptions()))
def test_corrupted_token_is_a_one_line_value_error(name, token):
    with pytest.raises(ValueError) as info:
        CaseSpec.from_token(token)
    message = str(info.value)
    assert "token" in message
    assert "\n" not in message


def _encode(payload) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=")


@pytest.mark.parametrize("payload", [[1, 2], {"layer": {"units": 3}}], ids=["list", "layer-without-kind"])
def test_well_encoded_non_case_payload_is_a_value_error(payload):
    with pytest.raises(ValueError):
        CaseSpec.from_token(_encode(payload))


def test_unknown_case_field_is_named():
    data = dict(_spec().to_dict(), time_major=True)
    with pytest.raises(ValueError, match="time_major"):
        CaseSpec.from_dict(data)


# ----------------------------------------------------------------- build
@settings(max_examples=10)
@given(st.data())
def test_build_is_deterministic(data):
    spec = data.draw(hs.case_specs(**SMALL), label="case")
    assert _same(spec.build(), spec.build())


@settings(max_examples=10)
@given(st.data())
def test_other_seed_other_arrays(data):
    spec = data.draw(hs.case_specs(**SMALL), label="case")
    other = CaseSpec.from_dict(dict(spec.to_dict(), seed=spec.seed ^ 0x9E3779B9))
    a, b = spec.build(), other.build()
    assert not np.array_equal(a.x, b.x)
    for k, (wa, wb) in enumerate(zip(a.weights, b.weights, strict=True)):
        assert not np.array_equal(wa, wb)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_weights_seed_shares_the_weights_and_draws_the_rest_from_seed(kind):
    """A weights seed gives exactly the weights of the case with that seed; inputs, mask rows and
    initial states still come from ``seed`` (an export's several data draws through one conversion)."""
    head = _spec(kind, batch=3, timesteps=6, mask="mixed", initial_state=True, recurrent_gain=0.5, seed=11)
    member = CaseSpec.from_token(dataclasses.replace(head, seed=12, weights_seed=11).token())
    a, b = head.build(), member.build()
    assert all(np.array_equal(wa, wb) for wa, wb in zip(a.weights, b.weights, strict=True))
    assert not np.array_equal(a.x, b.x)
    assert not all(np.array_equal(sa, sb) for sa, sb in zip(a.initial_state, b.initial_state, strict=True))
    assert member.weights_seed == 11 and "-w11-s12" in member.case_id()


def test_cases_without_weights_seed_keep_their_tokens_and_columns():
    spec = _spec("GRU", units=3, features=2, batch=2, timesteps=5, seed=9)
    assert "weights_seed" not in spec.to_dict()
    assert CaseSpec.from_token(spec.token()) == spec and spec.weights_seed is None


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_weights_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="weights_seed"):
        _spec(weights_seed=bad)


def _expected_shapes(kind, units, features, use_bias, reset_after):
    g = GATES[kind]
    shapes = [(features, g * units), (units, g * units)]
    if use_bias:
        shapes.append((2, g * units) if kind == "GRU" and reset_after else (g * units,))
    return shapes


LAYOUTS = [
    (kind, use_bias, reset_after)
    for kind, use_bias, reset_after in itertools.product(["SimpleRNN", "LSTM", "GRU"], [True, False], [True, False])
    if kind == "GRU" or reset_after
]
LAYOUT_IDS = [f"{k}-{'bias' if b else 'nobias'}{'' if k != 'GRU' else ('-rafter' if r else '-rbefore')}" for k, b, r in LAYOUTS]


@pytest.mark.parametrize("kind, use_bias, reset_after", LAYOUTS, ids=LAYOUT_IDS)
def test_weight_shapes_follow_get_weights_layout(kind, use_bias, reset_after):
    data = _spec(kind, units=5, features=3, use_bias=use_bias, reset_after=reset_after, seed=3).build()
    assert [w.shape for w in data.weights] == _expected_shapes(kind, 5, 3, use_bias, reset_after)
    assert all(w.dtype == np.float32 for w in data.weights)


def test_gru_bias_shapes_by_reset_after():
    after = _spec("GRU", units=4, reset_after=True).build().weights[2]
    before = _spec("GRU", units=4, reset_after=False).build().weights[2]
    assert after.shape == (2, 12)
    assert before.shape == (12,)


@pytest.mark.keras
@pytest.mark.parametrize("kind, use_bias, reset_after", LAYOUTS, ids=LAYOUT_IDS)
def test_weight_shapes_match_a_real_keras_layer(kind, use_bias, reset_after):
    from harness.target.keras_env import import_keras

    keras = import_keras()
    spec = _spec(kind, units=5, features=3, use_bias=use_bias, reset_after=reset_after, seed=3)
    layer = getattr(keras.layers, kind)(**spec.layer.to_keras_config())
    layer.build((None, None, 3))
    assert [w.shape for w in spec.build().weights] == [tuple(w.shape) for w in layer.get_weights()]


@settings(max_examples=20)
@given(st.data())
def test_per_gate_blocks_are_all_different(data):
    kind = data.draw(st.sampled_from(["LSTM", "GRU"]), label="kind")
    spec = data.draw(hs.case_specs(kinds=[kind], max_units=6, max_timesteps=4, use_bias=True), label="case")
    weights = spec.build().weights
    for name, weight in zip(["kernel", "recurrent_kernel", "bias"], weights):
        rows = weight if weight.ndim == 2 and name == "bias" else [weight]
        for row in rows:
            blocks = np.split(row, GATES[kind], axis=-1)
            assert len(blocks) == GATES[kind]
            for (i, a), (j, b) in itertools.combinations(enumerate(blocks), 2):
                assert not np.allclose(a, b), f"{name}: gate blocks {i} and {j} are equal"
                assert not np.allclose(a, -b), f"{name}: gate blocks {i} and {j} are negatives"
    if weights[2].ndim == 2:  # GRU reset_after: input and recurrent biases differ
        assert not np.allclose(weights[2][0], weights[2][1])


@given(st.data())
def test_biases_are_non_zero_and_arrays_not_constant(data):
    spec = data.draw(hs.case_specs(max_units=6, max_timesteps=6, use_bias=True), label="case")
    built = spec.build()
    bias = built.weights[2]
    assert np.all(bias != 0)
    for name, weight in [("kernel", built.weights[0]), ("bias", bias)]:
        assert np.unique(weight).size == weight.size, f"{name} has repeated entries"
    if built.x.size > 1:
        assert np.unique(built.x).size == built.x.size
    for state in built.initial_state or []:
        assert np.all(state != 0)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_blocks_are_orthogonal_times_gain(kind):
    """Each gate block is orthogonal times recurrent_gain times a per-gate factor in [0.8, 1.25]."""
    spec = _spec(kind, units=5, recurrent_gain=1.5, seed=11)
    recurrent = spec.build().weights[1].astype(np.float64)
    for block in np.split(recurrent, GATES[kind], axis=1):
        gram = block.T @ block
        factor = np.sqrt(gram[0, 0]) / 1.5
        assert 0.8 - 1e-6 <= factor <= 1.25 + 1e-6
        np.testing.assert_allclose(gram, (1.5 * factor) ** 2 * np.eye(5), atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_units_one_recurrent_blocks_differ(kind):
    recurrent = _spec(kind, units=1, seed=0).build().weights[1]
    assert np.unique(recurrent).size == GATES[kind]


def test_initial_state_shapes_and_count():
    lstm = _spec("LSTM", units=4, batch=3, initial_state=True).build()
    gru = _spec("GRU", units=4, batch=3, initial_state=True).build()
    assert [s.shape for s in lstm.initial_state] == [(3, 4), (3, 4)]
    assert [s.shape for s in gru.initial_state] == [(3, 4)]
    assert not np.array_equal(*lstm.initial_state)
    assert _spec("LSTM", initial_state=False).build().initial_state is None


# ------------------------------------------------------------------ masks
def _classify(row: np.ndarray) -> str:
    if row.all():
        return "valid"
    if not row.any():
        return "all-masked"
    falses = np.flatnonzero(~row)
    contiguous = falses[-1] - falses[0] + 1 == falses.size
    if contiguous and falses[0] == 0:
        return "pad-start"
    if contiguous and falses[-1] == row.size - 1:
        return "pad-end"
    if contiguous:
        return "gap-middle"
    return "holes"


@settings(max_examples=50)
@given(batch=st.integers(2, 6), timesteps=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
@example(batch=2, timesteps=3, seed=5)  # a known reproducer
def test_mask_with_batch_two_or_more_has_a_padded_row(batch, timesteps, seed):
    mask = make_mask(batch, timesteps, np.random.default_rng(seed))
    assert not mask.all(), f"no padded row in make_mask({batch}, {timesteps}, default_rng({seed}))"


@given(st.data())
def test_mask_shape_and_dtype(data):
    batch = data.draw(st.integers(1, 6), label="batch")
    timesteps = data.draw(st.integers(1, 40), label="timesteps")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    mask = make_mask(batch, timesteps, np.random.default_rng(seed))
    assert mask.shape == (batch, timesteps)
    assert mask.dtype == np.bool_


def test_masks_over_many_seeds_cover_every_pattern():
    seen = set()
    for seed in range(200):
        mask = make_mask(4, 12, np.random.default_rng(seed))
        seen |= {_classify(row) for row in mask}
    assert {"pad-start", "pad-end", "gap-middle", "all-masked", "valid"} <= seen, sorted(seen)


def test_mask_is_only_built_for_mixed_cases():
    assert _spec(mask="none").build().mask is None
    mask = _spec(mask="mixed", batch=4, timesteps=10, seed=2).build().mask
    assert mask is not None and mask.shape == (4, 10)


# ----------------------------------------------------------------- chunks
@given(st.data())
def test_chunk_bounds_cover_the_sequence_contiguously(data):
    timesteps = data.draw(st.integers(1, 64), label="timesteps")
    chunks = data.draw(st.integers(1, min(timesteps, 8)), label="chunks")
    spec = _spec("SimpleRNN", units=2, features=1, batch=1, stateful=True, timesteps=timesteps, chunks=chunks)
    bounds = spec.build().chunk_bounds()
    assert len(bounds) == chunks
    assert bounds[0][0] == 0 and bounds[-1][1] == timesteps
    for (a, b), (c, _) in zip(bounds, bounds[1:]):
        assert b == c
    assert all(a < b for a, b in bounds), f"empty chunk in {bounds}"


def test_single_chunk_is_the_whole_sequence():
    assert _spec(timesteps=7).build().chunk_bounds() == [(0, 7)]


# -------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "changes, named",
    [
        ({"batch": 0}, "batch"),
        ({"timesteps": 0}, "timesteps"),
        ({"mask": "bogus"}, "mask"),
        ({"chunks": 0}, "chunks"),
        ({"chunks": 2}, "chunks"),  # without stateful
        ({"chunks": 9, "stateful": True, "timesteps": 8}, "chunks"),
    ],
    ids=["batch=0", "timesteps=0", "mask=bogus", "chunks=0", "chunks=2-not-stateful", "chunks>timesteps"],
)
def test_validation_names_the_argument(changes, named):
    with pytest.raises(ValueError, match=named) as info:
        _spec(**changes)
    assert "\n" not in str(info.value)


def test_chunks_without_stateful_mentions_stateful():
    with pytest.raises(ValueError, match="stateful"):
        _spec(chunks=2)


# ---------------------------------------------------------------- case_id
def test_case_id_is_readable():
    spec = _spec("GRU", units=3, features=2, batch=2, timesteps=5, mask="mixed", initial_state=True, seed=9)
    assert spec.case_id() == "GRU-u3-f2-tanh/sigmoid-B2-T5-mask-h0-g1-s9"


@pytest.mark.parametrize(
    "changes",
    [{"input_scale": 3.0}, {"kernel_scale": 2.0}, {"bias_scale": 0.1}, {"dropout": 0.3}],
    ids=["input_scale", "kernel_scale", "bias_scale", "dropout"],
)
def test_case_id_distinct_for_distinct_cases(changes):
    base = _spec("LSTM", units=3, seed=0)
    assert _spec("LSTM", units=3, seed=0, **changes).case_id() != base.case_id()
