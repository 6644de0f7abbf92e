"""reference_cells.activations against the installed Keras 3 (TF backend).

The reference itself must not import Keras, but its tests compare against it:
float64 values to 1e-12, float32 to a few float32 ulps, plus hand values,
the name registry, dtype handling, warnings and the import rule.
"""

from __future__ import annotations

import ast
import math
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from keras.src.activations import ALL_OBJECTS_DICT  # noqa: E402

from reference_cells import activations as ref  # noqa: E402

SOURCE = Path(ref.__file__)
KERAS_NAMES = [n for n in ref.names() if n != ref.KERAS2_HARD_SIGMOID]
AXISWISE = {"softmax", "log_softmax", "sparsemax"}  # need at least 1-d input


def _grid() -> np.ndarray:
    """float64 points in [-8, 8] plus every knee and threshold, shaped (N, 5)."""
    knees = [-6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 3.0, 6.0, 1e-30, -1e-30, 1e-8, -1e-8]
    edges = np.array([-3.0, -1.0, -0.5, 0.5, 1.0, 3.0])
    x = np.concatenate([np.linspace(-8, 8, 2000), knees,
                        np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    return np.concatenate([x, np.zeros(-x.size % 5)]).reshape(-1, 5)


GRID = _grid()
# Rows with a spread of values, so softmax/sparsemax see more than 5 neighbours.
ROWS = np.random.default_rng(20240601).normal(0.0, 3.0, size=(64, 7))


def _keras(name: str, x: np.ndarray) -> np.ndarray:
    tensor = keras.ops.convert_to_tensor(x, dtype=x.dtype.name)
    y = keras.ops.convert_to_numpy(keras.activations.get(name)(tensor))
    assert y.dtype == x.dtype, f"Keras {name} changed {x.dtype} to {y.dtype}"
    return y


# ---------------------------------------------------------- float64 bounds
F64_ATOL = 1e-12
# TF builds two float64 constants from float32 values, so Keras itself is
# float32-accurate there. The bounds below are the exact first-order effect
# of those constants; test_tf_float64_quirks_explain_the_looser_bounds checks
# that the constants explain the whole difference.
_LEAKY_DELTA = abs(float(np.float32(0.2)) - 0.2)  # leaky_relu alpha is a float32 op attr
_GELU_DELTA = abs(float(np.float32(0.7071067811865476)) - 0.7071067811865476)  # cast(py float) goes via float32


def _f64_bound(name: str, x: np.ndarray) -> np.ndarray:
    if name == "leaky_relu":
        # Keras: x * float32(0.2) for x <= 0; the reference: x * 0.2.
        return F64_ATOL + 1.01 * _LEAKY_DELTA * np.abs(x)
    if name == "gelu":
        # d/dc [0.5 x erfc(-c x)] = x**2 exp(-c**2 x**2) / sqrt(pi), at most ~4e-9 here.
        return F64_ATOL + 1.01 * _GELU_DELTA * x * x * np.exp(-0.5 * x * x) / math.sqrt(math.pi)
    return np.full_like(x, F64_ATOL)


@pytest.mark.keras
@pytest.mark.parametrize("x", [GRID, ROWS], ids=["grid", "rows"])
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_float64_matches_keras(name: str, x: np.ndarray) -> None:
    expected = _keras(name, x)
    got = ref.get(name)(x)
    err = np.abs(got - expected)
    bound = _f64_bound(name, x)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), (
        f"{name}: max abs error {err.max():.3e}; worst at x={x[worst]!r}: "
        f"ref={got[worst]!r} keras={expected[worst]!r} bound={bound[worst]:.3e}"
    )


@pytest.mark.keras
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TF kernels only")
def test_tf_float64_quirks_explain_the_looser_bounds() -> None:
    """Keras/TF float64 leaky_relu and gelu equal the formulas with float32 constants."""
    x = GRID
    slope32 = float(np.float32(0.2))
    np.testing.assert_array_equal(_keras("leaky_relu", x), np.where(x > 0, x, x * slope32))
    c32 = float(np.float32(0.7071067811865476))
    tf_gelu = np.array([0.5 * v * math.erfc(-v * c32) for v in x.ravel()]).reshape(x.shape)
    np.testing.assert_allclose(_keras("gelu", x), tf_gelu, rtol=1e-14, atol=1e-300)
    # and the difference from the reference is real, not below the 1e-12 bound
    assert np.abs(_keras("gelu", x) - ref.gelu(x)).max() > 1e-9


# ---------------------------------------------------------- float32 bounds
F32_EPS = float(np.finfo(np.float32).eps)
F32_ULPS = 4  # observed worst case is below 2 for every activation
# TF's elu/selu kernels form exp(x) - 1, not expm1, so their rounding error
# scales with exp(x) (up to 1, times scale*alpha for selu), not with the
# result, which is tiny near 0.
_F32_INTERMEDIATE = {"elu": 1.0, "selu": 1.7580993408473768}


@pytest.mark.keras
@pytest.mark.parametrize("x", [GRID, ROWS], ids=["grid", "rows"])
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_float32_matches_keras(name: str, x: np.ndarray) -> None:
    x32 = x.astype(np.float32)
    expected = _keras(name, x32).astype(np.float64)
    got = ref.get(name)(x32)
    assert got.dtype == np.float32
    err = np.abs(got.astype(np.float64) - expected)
    # A few ulps of the largest magnitude in the computation: the result and
    # the input (x - tanh(x), x + sqrt(x*x + 4), x - max(x) cancel).
    scale = np.abs(expected) + np.abs(x32.astype(np.float64)) + _F32_INTERMEDIATE.get(name, 0.0)
    bound = F32_ULPS * F32_EPS * scale
    assert np.all(err <= bound), f"{name}: worst err/bound {np.max(err / np.maximum(bound, 1e-300)):.2f}"


# -------------------------------------------------------------- hand values
KNEES = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])


def test_hard_sigmoid_is_keras3_x_over_6() -> None:
    expected = [0.0, 1 / 12, 1 / 3, 0.5, 2 / 3, 11 / 12, 1.0]
    np.testing.assert_allclose(ref.get("hard_sigmoid")(KNEES), expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(ref.hard_sigmoid(np.array([-1e4, -3.5, 3.5, 1e4])), [0, 0, 1, 1], atol=0)


def test_hard_sigmoid_keras2_is_0_2x() -> None:
    assert ref.KERAS2_HARD_SIGMOID == "hard_sigmoid_keras2"
    expected = [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0]
    np.testing.assert_allclose(ref.get(ref.KERAS2_HARD_SIGMOID)(KNEES), expected, rtol=1e-15, atol=1e-16)


def test_shrink_thresholds_are_0_5_exclusive() -> None:
    x = np.array([-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(ref.hard_shrink(x), [-0.75, 0, 0, 0, 0, 0, 0.75])
    np.testing.assert_array_equal(ref.soft_shrink(x), [-0.25, 0, 0, 0, 0, 0, 0.25])


def test_leaky_relu_default_slope_is_0_2() -> None:
    np.testing.assert_array_equal(ref.leaky_relu(np.array([-10.0, -1.0, 0.0, 2.0])), [-2.0, -0.2, 0.0, 2.0])


def test_selu_constants() -> None:
    np.testing.assert_allclose(ref.selu(np.array([1.0])), [1.0507009873554805], rtol=1e-16)
    # limit for x -> -inf is -scale*alpha
    np.testing.assert_allclose(ref.selu(np.array([-1e4])), [-1.0507009873554805 * 1.6732632423543772], rtol=1e-15)


def test_sparsemax_follows_keras_not_the_textbook() -> None:
    # Keras: tau = (sum of the cumsums over the support - 1) / k.
    # [0.5, 0.4]: cumsums 0.5, 0.9, k = 2, tau = 0.2 -> [0.3, 0.2] (textbook: [0.55, 0.45]).
    # [0.2, 0.3]: cumsums 0.3, 0.5, k = 2, tau = -0.1 -> [0.3, 0.4] (textbook: [0.45, 0.55]).
    # With a one-element support ([1, 0]) the two definitions agree.
    x = np.array([[0.5, 0.4], [0.2, 0.3], [1.0, 0.0]])
    np.testing.assert_allclose(ref.sparsemax(x), [[0.3, 0.2], [0.3, 0.4], [1.0, 0.0]], rtol=0, atol=1e-15)


def test_softmax_family_is_over_the_last_axis() -> None:
    x = ROWS
    p = ref.softmax(x)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ref.log_softmax(x), np.log(p), rtol=1e-13, atol=1e-13)
    # rows are independent: each row of a batch equals the row on its own
    np.testing.assert_array_equal(ref.softmax(x)[3], ref.softmax(x[3]))
    np.testing.assert_array_equal(ref.sparsemax(x)[5], ref.sparsemax(x[5]))


def test_erfc_matches_math_erfc() -> None:
    x = np.concatenate([np.linspace(-27.5, 27.5, 20001), [0.46875, -0.46875, 4.0, -4.0, 0.0]])
    expected = np.array([math.erfc(v) for v in x])
    got = ref._erfc(x)
    normal = expected >= np.finfo(np.float64).tiny
    np.testing.assert_allclose(got[normal], expected[normal], rtol=1.5e-15, atol=0)
    np.testing.assert_allclose(got[~normal], expected[~normal], rtol=0, atol=1e-320)
    np.testing.assert_array_equal(ref._erfc(np.array([np.inf, -np.inf, 1e300, -1e300])), [0, 2, 0, 2])
    assert np.isnan(ref._erfc(np.array([np.nan]))[0])


# ------------------------------------------------------------- registry / get
def test_names_cover_exactly_what_keras_accepts() -> None:
    keras_names = set(ALL_OBJECTS_DICT)
    assert set(ref.UNSUPPORTED) == {"glu", "threshold"}
    assert set(KERAS_NAMES) == keras_names - set(ref.UNSUPPORTED)
    assert not set(ref.UNSUPPORTED) & set(ref.names())
    for name in KERAS_NAMES:  # and keras.activations.get resolves each of them
        assert callable(keras.activations.get(name))


def test_names_is_sorted_tuple_of_mapping_keys() -> None:
    assert isinstance(ref.names(), tuple)
    assert list(ref.names()) == sorted(ref.ACTIVATIONS)
    assert ref.KERAS2_HARD_SIGMOID in ref.names()


def test_aliases_are_the_same_functions() -> None:
    assert ref.get("swish") is ref.get("silu")
    assert ref.get("hard_swish") is ref.get("hard_silu")


def test_mappings_are_read_only() -> None:
    with pytest.raises(TypeError):
        ref.ACTIVATIONS["relu"] = ref.tanh  # type: ignore[index]
    with pytest.raises(TypeError):
        ref.UNSUPPORTED["glu"] = "ok"  # type: ignore[index]


def test_get_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="nope") as info:
        ref.get("nope")
    message = str(info.value)
    assert "\n" not in message
    assert "'nope'" in message
    assert ", ".join(ref.names()) in message


def test_get_is_case_sensitive_like_keras() -> None:
    with pytest.raises(ValueError, match="'ReLU'"):
        ref.get("ReLU")
    with pytest.raises(ValueError):
        keras.activations.get("ReLU")


@pytest.mark.parametrize("name", ["glu", "threshold"])
def test_get_unsupported_gives_reason(name: str) -> None:
    with pytest.raises(ValueError) as info:
        ref.get(name)
    assert name in str(info.value)
    assert ref.UNSUPPORTED[name] in str(info.value)


def test_get_none_is_linear() -> None:
    assert ref.get(None) is ref.get("linear")
    x = np.array([-2.0, 0.0, 3.5])
    np.testing.assert_array_equal(ref.get(None)(x), x)


def test_get_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        ref.get(ref.tanh)  # type: ignore[arg-type]


# ------------------------------------------------------------ dtype handling
@pytest.mark.parametrize("name", ref.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(name: str, dtype: type) -> None:
    x = ROWS.astype(dtype)
    y = ref.get(name)(x)
    assert isinstance(y, np.ndarray)
    assert y.dtype == dtype
    assert y.shape == x.shape


@pytest.mark.parametrize("name", ref.names())
def test_integer_input_becomes_float64(name: str) -> None:
    y = ref.get(name)(np.array([[-2, -1, 0, 1, 2]]))
    assert y.dtype == np.float64


@pytest.mark.parametrize("name", sorted(set(ref.names()) - AXISWISE))
def test_zero_dim_input_gives_zero_dim_array(name: str) -> None:
    for dtype in (np.float32, np.float64):
        y = ref.get(name)(np.asarray(0.75, dtype=dtype))
        assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == dtype


@pytest.mark.parametrize("name", ref.names())
def test_returns_new_array_and_leaves_input_alone(name: str) -> None:
    x = ROWS.copy()
    y = ref.get(name)(x)
    assert y is not x and not np.shares_memory(x, y)
    np.testing.assert_array_equal(x, ROWS)


# ------------------------------------------------------- stability / warnings
BIG = np.array([[-1e4, -1e3, -100.0, -50.0, -20.0, 20.0, 50.0, 100.0, 1e3, 1e4]])


@pytest.mark.parametrize("name", ref.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_inputs_emit_no_warnings(name: str, dtype: type) -> None:
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = ref.get(name)(BIG.astype(dtype))
    if name != "exponential":  # exp(1e4) is inf, as in Keras
        assert np.all(np.isfinite(y))


@pytest.mark.keras
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_large_inputs_match_keras(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = _keras(name, BIG)
    got = ref.get(name)(BIG)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(got[~finite], expected[~finite])  # exponential's inf
    # the float64 bounds above, plus 1e-12 relative for the large results
    bound = (_f64_bound(name, BIG) + 1e-12 * np.abs(expected))[finite]
    err = np.abs(got[finite] - expected[finite])
    assert np.all(err <= bound), f"{name}: err {err.max():.3e}"


@given(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False))
def test_stable_identities(v: float) -> None:
    x = np.array([v, -v])
    s = ref.sigmoid(x)
    assert abs(s[0] + s[1] - 1.0) <= 2 * np.finfo(float).eps
    # softplus(x) - softplus(-x) = x and log_sigmoid(x) = -softplus(-x)
    sp = ref.softplus(x)
    assert abs((sp[0] - sp[1]) - v) <= 4 * np.finfo(float).eps * max(1.0, abs(v))
    np.testing.assert_allclose(ref.log_sigmoid(x), -ref.softplus(-x), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(ref.silu(x), x * s, rtol=1e-15, atol=1e-300)
    assert ref.sigmoid(x)[0] >= 0 and ref.sigmoid(x)[0] <= 1


# ------------------------------------------------------------- import rule
BANNED = {"keras", "tensorflow", "tf_keras", "jax", "jaxlib", "torch", "scipy"}


def test_reference_imports_only_numpy_and_stdlib() -> None:
    tree = ast.parse(SOURCE.read_text(), filename=str(SOURCE))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import at line {node.lineno}"
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "__import__", "import_module",
        }:
            pytest.fail(f"dynamic import at line {node.lineno}")
    assert not imported & BANNED, f"reference imports {sorted(imported & BANNED)}"
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    assert imported <= allowed, f"non-stdlib imports: {sorted(imported - allowed)}"
