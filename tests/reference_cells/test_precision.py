"""Reduced-precision arithmetic (reference_cells/precision.py): the grids, the rounding modes, and
the reference run with them simulated."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from reference_cells import run_sequence
from reference_cells.precision import BFLOAT16, FLOAT16, FLOAT32, FLOAT64, arithmetic, fixed, parse_precision


def test_float16_rounds_to_nearest_even_like_numpy():
    values = np.array([1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 0.1, -70000.0, 1e-8])
    got = FLOAT16.round(values)
    assert np.array_equal(got[:2], [1.0, 1.0 + 2 * 2.0**-10])  # ties to even
    assert got[2] == float(np.float16(0.1)) and got[3] == -np.inf and got.dtype == np.float64
    assert FLOAT16.eps == 2.0**-10


def test_bfloat16_keeps_eight_significant_bits():
    values = np.array([1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 3.14159, 1e30])
    got = BFLOAT16.round(values)
    assert np.array_equal(got[:2], [1.0, 1.0 + 2 * 2.0**-7])
    assert got[2] == float(np.float32(ml_dtypes.bfloat16(3.14159))) and np.isfinite(got[3])
    assert BFLOAT16.eps == 2.0**-7


def test_fixed_truncates_toward_minus_infinity_and_wraps():
    q = fixed(8, 3)  # step 2**-5, range [-4, 4 - 2**-5]
    assert q.eps == 2.0**-5
    step = 2.0**-5
    assert q.round(np.array([0.04]))[0] == step  # 0.04 = 1.28 steps -> 1 step
    assert q.round(np.array([-0.04]))[0] == -2 * step  # AP_TRN: toward minus infinity, not zero
    assert q.round(np.array([4.0]))[0] == -4.0  # AP_WRAP: 4.0 is one past the top, wraps to the bottom
    assert q.round(np.array([-4.0 - step]))[0] == 4.0 - step
    grid = np.arange(-128, 128) * step
    assert np.array_equal(q.round(grid), grid)  # grid values are left alone
    assert np.isnan(q.round(np.array([np.nan]))[0])


@pytest.mark.parametrize("text, name", [("float16", "float16"), ("bfloat16", "bfloat16"), ("float32", "float32"),
                                        ("fixed<16,6>", "fixed<16,6>"), ("ap_fixed<18, 8>", "fixed<18,8>")])
def test_names_parse(text, name):
    assert parse_precision(text).name == name


@pytest.mark.parametrize("text, message", [("float8", "'float8' is not one of float32, float16, bfloat16, fixed<W,I>"),
                                           ("fixed<3,9>", "not a valid fixed<W,I>"),
                                           ("fixed<16,0>", "1 <= I <= W"), ("fixed<64,8>", "W <= 52")])
def test_bad_names_name_the_valid_values(text, message):
    with pytest.raises(ValueError, match=message.replace("<", ".").replace(">", ".")):
        parse_precision(text)


def test_native_dtypes_are_not_rounded():
    assert arithmetic(np.float64) is FLOAT64 and arithmetic(np.float32) is FLOAT32 and arithmetic(FLOAT16) is FLOAT16
    a = np.array([0.1])
    assert FLOAT32.round(a) is a


def _layer(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    units, features = 5, 3
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
    weights = [rng.normal(0, 0.5, (features, gates * units)), rng.normal(0, 0.3, (units, gates * units))]
    weights.append(rng.normal(0, 0.2, (2, gates * units) if kind == "GRU" else (gates * units,)))
    config = {"units": units, "return_sequences": True, "activation": "tanh"}
    if kind != "SimpleRNN":
        config["recurrent_activation"] = "sigmoid"
    return rng.normal(0, 1, (2, 12, features)), weights, config


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("precision", [FLOAT16, BFLOAT16, fixed(16, 6)], ids=str)
def test_reference_at_a_precision_stays_on_its_grid_and_near_float64(kind, precision):
    x, weights, config = _layer(kind)
    exact = run_sequence(kind, x, weights, config).outputs
    trace = run_sequence(kind, x, weights, config, dtype=precision)
    assert np.array_equal(precision.round(trace.outputs), trace.outputs)  # every output is a value of the grid
    for state in trace.states.values():
        assert np.array_equal(precision.round(state), state)
    error = np.max(np.abs(trace.outputs - exact))
    assert 0 < error < 64 * precision.eps  # round-off: present, and a few dozen steps at most over 12 steps


def test_float16_reference_matches_numpy_float16_arithmetic():
    """One SimpleRNN step by hand in NumPy float16 (its matmul rounds once) equals the simulation bit for bit."""
    x, weights, config = _layer("SimpleRNN", seed=3)
    k, r, b = (np.asarray(w, np.float16) for w in weights)
    x16 = np.asarray(x[:, 0], np.float16)
    h = np.tanh((x16 @ k + b) + np.zeros((2, 5), np.float16) @ r)
    trace = run_sequence("SimpleRNN", x[:, :1], weights, config, dtype=FLOAT16)
    assert np.array_equal(trace.outputs[:, 0], h.astype(np.float64))
