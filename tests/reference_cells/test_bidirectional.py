"""reference_cells.bidirectional against real ``keras.layers.Bidirectional`` (Keras 3, TF backend).

Each example builds a Bidirectional layer on small inputs, sets random
per-gate weights with non-zero biases, calls it eagerly (with mask and
initial_state when drawn) and compares the whole return value, structure
included, with the float64 reference to 1e-5. The last tests show that the
port bugs the reference can simulate (backward half left in processing
order, states unpacked interleaved, initial_state halves swapped) move the
result by more than 1e-2, so a comparison with these tests can fail.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.target.keras_env import import_keras
from reference_cells import Conventions
from reference_cells.bidirectional import run_bidirectional, split_bidirectional_config

pytestmark = pytest.mark.keras

TOL = 1e-5  # float32 Keras vs float64 reference
BUG = 1e-2  # a simulated port bug must move the result by more than this
KINDS = ("SimpleRNN", "LSTM", "GRU")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)
SETTINGS = settings(max_examples=10, deadline=None)


def _normalise(value: Any) -> Any:
    """Keras returns tuples, the reference lists: compare nesting, not container type."""
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return np.asarray(value, dtype=np.float64)


def _max_err(keras_value: Any, ref_value: Any) -> float:
    """Max abs difference; the nesting and every shape must agree."""
    k, r = _normalise(keras_value), _normalise(ref_value)
    if isinstance(k, list) or isinstance(r, list):
        assert isinstance(k, list) and isinstance(r, list), "one is nested, the other is not"
        assert len(k) == len(r), f"{len(k)} vs {len(r)} elements"
        return max((_max_err(a, b) for a, b in zip(k, r)), default=0.0)
    assert k.shape == r.shape, f"shape {k.shape} vs {r.shape}"
    return float(np.abs(k - r).max()) if k.size else 0.0


def _draw_mask(data: st.DataObject, batch: int, steps: int, style: str | None = None) -> np.ndarray | None:
    """None, right/left padding (lengths 0..T, so fully masked rows occur) or a random mask."""
    style = style or data.draw(st.sampled_from(["none", "right", "left", "random"]), label="mask style")
    if style == "none":
        return None
    if style == "random":
        rows = data.draw(st.lists(st.lists(st.booleans(), min_size=steps, max_size=steps), min_size=batch, max_size=batch), label="mask")
        mask = np.array(rows, dtype=bool)
    else:
        lengths = data.draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch), label="valid lengths")
        mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
        if style == "left":
            mask = mask[:, ::-1]
    if data.draw(st.booleans(), label="one fully masked row"):
        mask[0] = False
    return np.ascontiguousarray(mask)


def _build(kind: str, units: int, options: dict[str, Any], merge_mode: str | None, x_shape: tuple, rng: np.random.Generator):
    """A built Bidirectional layer with random weights; returns (wrapped layer, bidirectional, weights)."""
    keras = import_keras()
    layer = getattr(keras.layers, kind)(units, **options)
    bi = keras.layers.Bidirectional(layer, merge_mode=merge_mode)
    bi.build(x_shape)
    # Every weight entry independent: gate blocks differ, biases non-zero.
    weights = [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in bi.get_weights()]
    bi.set_weights(weights)
    return layer, bi, weights


def _initial_state(kind: str, batch: int, units: int, rng: np.random.Generator) -> list[np.ndarray]:
    n = 4 if kind == "LSTM" else 2  # forward states then backward states
    return [rng.normal(0.0, 1.0, (batch, units)).astype(np.float32) for _ in range(n)]


def _call(bi, x: np.ndarray, mask: np.ndarray | None, initial_state: list[np.ndarray] | None) -> Any:
    kwargs: dict[str, Any] = {}
    if mask is not None:
        kwargs["mask"] = mask
    if initial_state is not None:
        kwargs["initial_state"] = initial_state
    return bi(x, **kwargs)


@given(data=st.data())
@SETTINGS
@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
def test_matches_keras(merge_mode: str | None, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(1, 8), label="timesteps")
    features = data.draw(st.integers(1, 4), label="features")
    units = data.draw(st.integers(1, 5), label="units")
    options = dict(
        return_sequences=data.draw(st.booleans(), label="return_sequences"),
        return_state=data.draw(st.booleans(), label="return_state"),
        unroll=data.draw(st.booleans(), label="unroll"),
    )
    if kind == "GRU":
        options["reset_after"] = data.draw(st.booleans(), label="reset_after")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, features)).astype(np.float32)
    mask = _draw_mask(data, batch, steps)
    init = _initial_state(kind, batch, units, rng) if data.draw(st.booleans(), label="initial_state") else None

    layer, bi, weights = _build(kind, units, options, merge_mode, x.shape, rng)
    expected = _call(bi, x, mask, init)
    trace = run_bidirectional(kind, x, weights, layer.get_config(), merge_mode=merge_mode, mask=mask, initial_state=init)
    got = trace.layer_return()
    assert _max_err(expected, got) < TOL

    if options["return_sequences"] and mask is not None:
        # zero_output_for_mask is forced on, so masked steps are 0 in both halves after the flip.
        # Keras quirk (TF unroll=True): the backward RNN zeroes its processing-order outputs with
        # the time-order mask, so after the flip its zeros sit at the mirrored positions instead.
        backward_zeros = ~mask[:, ::-1] if options["unroll"] else ~mask
        assert np.all(trace.forward_output[~mask] == 0)
        assert np.all(trace.backward_output[backward_zeros] == 0)
        if merge_mode is None:  # and Keras's own halves, to show the behaviour is Keras's
            y, y_rev = _normalise(expected)[:2]
            assert np.all(y[~mask] == 0) and np.all(y_rev[backward_zeros] == 0)


@given(data=st.data())
@SETTINGS
def test_lstm_state_order_and_initial_state_halves(data: st.DataObject) -> None:
    """LSTM returns (out, h_f, c_f, h_b, c_b); initial_state is [h_f, c_f, h_b, c_b]."""
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(1, 8), label="timesteps")
    units = data.draw(st.integers(1, 5), label="units")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, 3)).astype(np.float32)
    init = _initial_state("LSTM", batch, units, rng)
    layer, bi, weights = _build("LSTM", units, dict(return_sequences=True, return_state=True), "concat", x.shape, rng)

    expected = _call(bi, x, None, init)
    trace = run_bidirectional("LSTM", x, weights, layer.get_config(), initial_state=init)
    out, h_f, c_f, h_b, c_b = trace.layer_return()
    assert _max_err(expected, [out, h_f, c_f, h_b, c_b]) < TOL
    # Without a mask: h_f is the forward output at the last step; h_b is the
    # backward output after reading x[T-1..0], which the flip puts at t = 0.
    np.testing.assert_array_equal(h_f, out[:, -1, :units])
    np.testing.assert_array_equal(h_b, out[:, 0, units:])
    # Each half started from its own half of initial_state (Keras l.229-231).
    lone_forward = run_bidirectional("LSTM", x, weights, layer.get_config(), initial_state=[*init[:2], *init[:2]])
    np.testing.assert_array_equal(lone_forward.forward.outputs, trace.forward.outputs)


@given(data=st.data())
@SETTINGS
def test_masked_return_state(data: st.DataObject) -> None:
    """Masked LSTM/GRU with return_state: final states are those after each half's last valid step."""
    kind = data.draw(st.sampled_from(["LSTM", "GRU"]), label="kind")
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(2, 8), label="timesteps")
    units = data.draw(st.integers(1, 5), label="units")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, 2)).astype(np.float32)
    mask = _draw_mask(data, batch, steps, data.draw(st.sampled_from(["right", "left"]), label="padding"))
    init = _initial_state(kind, batch, units, rng)
    layer, bi, weights = _build(kind, units, dict(return_sequences=False, return_state=True), None, x.shape, rng)

    expected = _call(bi, x, mask, init)
    trace = run_bidirectional(kind, x, weights, layer.get_config(), merge_mode=None, mask=mask, initial_state=init)
    assert _max_err(expected, trace.layer_return()) < TOL
    # A fully masked row keeps its initial states in both directions.
    empty = ~mask.any(axis=1)
    for got, start in zip(trace.final_states, init):
        np.testing.assert_allclose(got[empty], start[empty], rtol=0, atol=1e-7)


def test_inner_go_backwards_is_rejected_like_keras() -> None:
    """Keras copies the layer as the forward half unchanged, so both halves go backwards: ValueError."""
    keras = import_keras()
    with pytest.raises(ValueError, match="go_backwards"):
        keras.layers.Bidirectional(keras.layers.LSTM(2, go_backwards=True))
    x = np.zeros((1, 3, 2), np.float32)
    weights = [np.zeros((2, 8)), np.zeros((2, 8)), np.zeros(8)] * 2
    with pytest.raises(ValueError, match="go_backwards"):
        run_bidirectional("LSTM", x, weights, {"units": 2, "go_backwards": True})


@given(data=st.data())
@SETTINGS
def test_explicit_backward_layer_from_config(data: st.DataObject) -> None:
    """backward_layer with its own options (even a forward layer with go_backwards=True), read from get_config()."""
    keras = import_keras()
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(1, 8), label="timesteps")
    units = data.draw(st.integers(1, 5), label="units")
    forward_backwards = data.draw(st.booleans(), label="forward go_backwards")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, 3)).astype(np.float32)
    mask = _draw_mask(data, batch, steps)
    common = dict(return_sequences=True, return_state=True)
    forward = keras.layers.LSTM(units, go_backwards=forward_backwards, **common)
    backward = keras.layers.GRU(units, activation="relu", go_backwards=not forward_backwards, **common)
    bi = keras.layers.Bidirectional(forward, backward_layer=backward, merge_mode="ave")
    bi.build(x.shape)
    weights = [rng.normal(0.0, 0.5, w.shape).astype(np.float32) for w in bi.get_weights()]
    bi.set_weights(weights)

    kind, config, merge_mode, (back_kind, back_config) = split_bidirectional_config(bi.get_config())
    assert (kind, back_kind, merge_mode) == ("LSTM", "GRU", "ave")
    trace = run_bidirectional(
        kind, x, weights, config, merge_mode=merge_mode, mask=mask, backward_config=back_config, backward_kind=back_kind
    )
    assert _max_err(_call(bi, x, mask, None), trace.layer_return()) < TOL


# --- the simulated port bugs are large enough to be caught --------------------


def _bug_case(data: st.DataObject, kind: str, **options: Any):
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(3, 8), label="timesteps")
    units = data.draw(st.integers(2, 5), label="units")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, 3)).astype(np.float32)
    layer, bi, weights = _build(kind, units, options, "concat", x.shape, rng)
    return x, layer.get_config(), bi, weights, rng, units


@given(data=st.data())
@SETTINGS
def test_backward_half_left_in_processing_order_is_caught(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    x, config, bi, weights, _, units = _bug_case(data, kind, return_sequences=True)
    expected = np.asarray(bi(x))
    right = run_bidirectional(kind, x, weights, config).layer_return()
    # A backward RNN that returns time order, flipped again by the wrapper.
    wrong = run_bidirectional(kind, x, weights, config, backward_conventions=Conventions(time_direction="flipped")).layer_return()
    assert _max_err(expected, right) < TOL
    assert _max_err(expected[..., units:], wrong[..., units:]) > BUG  # backward half O(1) off
    assert _max_err(expected[..., :units], wrong[..., :units]) < TOL  # forward half untouched


@given(data=st.data())
@SETTINGS
def test_interleaved_state_unpacking_is_caught(data: st.DataObject) -> None:
    x, config, bi, weights, _, _ = _bug_case(data, "LSTM", return_state=True)
    expected = bi(x)
    right = run_bidirectional("LSTM", x, weights, config).layer_return()
    wrong = run_bidirectional("LSTM", x, weights, config, state_order="interleaved").layer_return()
    assert _max_err(expected, right) < TOL
    assert _max_err(expected, wrong) > BUG
    np.testing.assert_array_equal(wrong[1], right[1])  # h_f is still first
    np.testing.assert_array_equal(wrong[2], right[3])  # then h_b where Keras has c_f


@given(data=st.data())
@SETTINGS
def test_swapped_initial_state_halves_are_caught(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    x, config, bi, weights, rng, units = _bug_case(data, kind, return_sequences=True, return_state=True)
    init = _initial_state(kind, x.shape[0], units, rng)
    expected = bi(x, initial_state=init)
    right = run_bidirectional(kind, x, weights, config, initial_state=init).layer_return()
    wrong = run_bidirectional(kind, x, weights, config, initial_state=init, initial_state_split="swapped").layer_return()
    assert _max_err(expected, right) < TOL
    assert _max_err(expected, wrong) > BUG
