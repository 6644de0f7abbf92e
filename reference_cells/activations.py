"""Pure-NumPy activations, by the names ``keras.activations.get`` accepts.

This is part of the oracle: it imports only NumPy and the standard library,
never Keras, TensorFlow, JAX, torch or SciPy. Each docstring gives the formula
as Keras 3.15 computes it, with the source it was read from. Paths are
relative to ``keras/src`` in the installed package:

* ``activations/activations.py``: the public function and its defaults,
* ``ops/nn.py``: the op, which passes eager tensors straight to the backend,
* ``backend/tensorflow/nn.py``: the TF backend, which the harness runs.

Where the TF kernel computes something less exact than the documented formula
(a float32 constant in a float64 graph, ``exp(x) - 1`` instead of
``expm1``), this module follows the documented formula and the docstring gives
the size of the difference. Two of these are visible in float64:
``leaky_relu`` (up to 1.5e-8 relative on the negative side) and ``gelu`` (up to ~5e-9
absolute). Everything else agrees with Keras to ~1e-14 in float64. sparsemax
is the opposite case: Keras's formula is not the published one, and this
module copies Keras (see :func:`sparsemax`).

Conventions:

* dtype preserving: floating input keeps its dtype and the arithmetic runs in
  that dtype. Non-floating input (ints, bools, lists of ints) is converted to
  float64, the harness's default. The one exception is gelu's erfc, evaluated
  in float64 and rounded to the input dtype.
* softmax, log_softmax and sparsemax work over the last axis, the only axis
  an RNN cell uses (Keras default ``axis=-1``).
* no RuntimeWarnings: the exponentials only see arguments that cannot
  overflow, except ``exponential`` itself, which returns ``inf`` silently like
  Keras does.
* every function returns a new array, never its input.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "KERAS2_HARD_SIGMOID",
    "UNSUPPORTED",
    "get",
    "names",
]

Activation = Callable[[np.ndarray], np.ndarray]

#: Name of the Keras 2.x / tf-keras hard sigmoid, ``clip(0.2*x + 0.5, 0, 1)``.
#: Keras 3's ``"hard_sigmoid"`` is a different function (x/6), and nothing in
#: Keras 3 maps the old one to it, so it gets its own explicit name.
KERAS2_HARD_SIGMOID: str = "hard_sigmoid_keras2"

# SELU constants as literals in the TF kernel (tensorflow/core/kernels/
# relu_op_functor.h, struct Selu). scale_alpha is its own literal there, not
# the float64 product scale * alpha, which can differ by one ulp.
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_SCALE_ALPHA = 1.7580993408473768599402175208123

_INV_SQRT2 = 0.7071067811865476  # 1/sqrt(2), correctly rounded float64


def _as_float(x: np.ndarray) -> np.ndarray:
    """Returns ``x`` as a floating array, its dtype kept, anything else as float64."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def _result(y: np.ndarray | np.floating, like: np.ndarray) -> np.ndarray:
    # NumPy returns scalars for 0-d inputs; give callers an array of the input dtype.
    return np.asarray(y, dtype=like.dtype)


# --------------------------------------------------------------------- erfc
# W. J. Cody's rational Chebyshev approximations (CALERF, netlib specfun,
# "Rational Chebyshev approximations for the error function", Math. Comp. 1969),
# max relative error a few float64 ulps. NumPy has no erf/erfc, SciPy is
# off limits, and np.vectorize(math.erfc) runs a Python call per element.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
# Cody stops at XBIG = 26.543, where erfc leaves the normal range; going on to
# 27.3 (erfc < 2**-1074) keeps the subnormal results, and 1/(y*y) never overflows.
_ERFC_ZERO_ABOVE = 27.3
_SQRPI = 5.6418958354775628695e-1  # 1/sqrt(pi)


def _exp_neg_square(y: np.ndarray) -> np.ndarray:
    """exp(-y*y) without the rounding error of forming y*y (Cody's split)."""
    # y = h + r with h a multiple of 1/16, so h*h is exact; y*y - h*h = (y-h)(y+h).
    h = np.trunc(y * 16.0) / 16.0
    return np.exp(-h * h) * np.exp(-(y - h) * (y + h))


def _erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function of a float64 array, vectorised (Cody's CALERF)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(x)
    out = np.full_like(y, np.nan)  # NaN in -> NaN out (no branch below takes it)

    small = y <= 0.46875  # erf by a rational function of x*x, erfc = 1 - erf
    if small.any():
        xs = x[small]
        z = xs * xs
        num, den = _ERF_A[4] * z, z
        for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
            num, den = (num + a) * z, (den + b) * z
        out[small] = 1.0 - xs * (num + _ERF_A[3]) / (den + _ERF_B[3])

    mid = (y > 0.46875) & (y <= 4.0)
    if mid.any():
        ym = y[mid]
        num, den = _ERFC_C[8] * ym, ym
        for c, d in zip(_ERFC_C[:7], _ERFC_D[:7]):
            num, den = (num + c) * ym, (den + d) * ym
        out[mid] = _exp_neg_square(ym) * (num + _ERFC_C[7]) / (den + _ERFC_D[7])

    tail = (y > 4.0) & (y < _ERFC_ZERO_ABOVE)
    if tail.any():
        yt = y[tail]
        z = 1.0 / (yt * yt)
        num, den = _ERFC_P[5] * z, z
        for p, q in zip(_ERFC_P[:4], _ERFC_Q[:4]):
            num, den = (num + p) * z, (den + q) * z
        r = z * (num + _ERFC_P[4]) / (den + _ERFC_Q[4])
        with np.errstate(under="ignore"):  # erfc is subnormal past 26.543
            out[tail] = _exp_neg_square(yt) * (_SQRPI - r) / yt

    out[y >= _ERFC_ZERO_ABOVE] = 0.0  # includes +-inf

    # Reflection erfc(-y) = 2 - erfc(y); the small branch already used the signed x.
    neg = (x < 0) & ~small
    out[neg] = 2.0 - out[neg]
    return out


# -------------------------------------------------------------- activations
def linear(x: np.ndarray) -> np.ndarray:
    """Identity, ``f(x) = x``.

    Keras: ``activations.py`` ``linear`` returns its input unchanged; it is also
    what ``activation=None`` means. Here a copy, so callers cannot alias it.
    """
    x = _as_float(x)
    return x.copy()


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``.

    Keras: ``activations.py`` ``relu`` with defaults (negative_slope=0,
    max_value=None, threshold=0) -> ``ReLU.static_call`` -> ``backend.nn.relu``
    = ``tf.nn.relu``.
    """
    x = _as_float(x)
    return _result(np.maximum(x, 0), x)


def relu6(x: np.ndarray) -> np.ndarray:
    """``min(max(x, 0), 6)``.

    Keras: ``ops/nn.py`` ``relu6`` -> ``backend/tensorflow/nn.py`` ``tf.nn.relu6``.
    """
    x = _as_float(x)
    return _result(np.clip(x, 0, 6), x)


def leaky_relu(x: np.ndarray) -> np.ndarray:
    """``x if x > 0 else 0.2 * x``; Keras 3's default slope is 0.2 (Keras 2's
    layer default was 0.3).

    Keras: ``activations.py`` ``leaky_relu(x, negative_slope=0.2)`` ->
    ``tf.nn.leaky_relu(x, alpha=0.2)``. TF passes ``alpha`` as a float32 op
    attribute (kernel ``relu_op_functor.h`` ``LeakyRelu``: ``x > 0 ? x : x *
    alpha``), so in float64 TF multiplies by float32(0.2) = 0.20000000298...,
    a relative error of 1.5e-8 on the negative side. This reference uses the exact 0.2
    (as Keras's JAX and NumPy backends do). In float32 the two agree.
    """
    x = _as_float(x)
    return _result(np.where(x > 0, x, x * 0.2), x)


def elu(x: np.ndarray) -> np.ndarray:
    """``x if x > 0 else exp(x) - 1`` (alpha = 1).

    Keras: ``activations.py`` ``elu(x, alpha=1.0)`` -> ``backend/tensorflow/nn.py``
    ``tf.nn.elu``. The TF kernel (``relu_op_functor.h`` ``Elu``) computes
    ``x < 0 ? exp(x) - 1 : x``. Here ``expm1``, which is exact near 0. The two
    differ by at most an ulp of 1.
    """
    x = _as_float(x)
    # expm1 of min(x, 0): the positive branch must not overflow where discarded.
    return _result(np.where(x < 0, np.expm1(np.minimum(x, 0)), x), x)


def selu(x: np.ndarray) -> np.ndarray:
    """``scale * x if x > 0 else scale * alpha * (exp(x) - 1)``.

    scale = 1.0507009873554804934193349852946,
    alpha = 1.6732632423543772848170429916717 and
    scale * alpha = 1.7580993408473768599402175208123, as literals in the TF
    kernel. Keras: ``ops/nn.py`` ``selu`` -> ``tf.nn.selu``, kernel
    ``relu_op_functor.h`` ``Selu`` (``x < 0 ? scale_alpha * (exp(x) - 1) :
    scale * x``). Here ``expm1``, as in :func:`elu`.
    """
    x = _as_float(x)
    neg = _SELU_SCALE_ALPHA * np.expm1(np.minimum(x, 0))
    return _result(np.where(x < 0, neg, _SELU_SCALE * x), x)


def celu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)`` with alpha = 1.

    Keras: ``activations.py`` ``celu(x, alpha=1.0)`` -> ``backend/tensorflow/nn.py``
    ``celu``, the same expression. With alpha = 1 it equals :func:`elu`.
    """
    x = _as_float(x)
    return _result(np.maximum(x, 0) + np.expm1(np.minimum(x, 0)), x)


def exponential(x: np.ndarray) -> np.ndarray:
    """``exp(x)``; overflows to ``inf``, like Keras, without a warning.

    Keras: ``activations.py`` ``exponential`` -> ``ops.exp`` -> ``tf.exp``.
    """
    x = _as_float(x)
    with np.errstate(over="ignore"):
        return _result(np.exp(x), x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``.

    Keras: ``ops/nn.py`` ``sigmoid`` -> ``tf.nn.sigmoid``. Computed from
    ``z = exp(-|x|)``, which cannot overflow, as ``1/(1+z)`` for x >= 0 and
    ``z/(1+z)`` for x < 0. The negative side keeps full relative precision.
    """
    x = _as_float(x)
    z = np.exp(-np.abs(x))
    return _result(np.where(x >= 0, 1 / (1 + z), z / (1 + z)), x)


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """Keras 3: ``relu6(x + 3) / 6``, i.e. ``clip(x/6 + 0.5, 0, 1)``.

    Keras: ``activations.py`` ``hard_sigmoid`` -> ``backend/tensorflow/nn.py``
    ``hard_sigmoid``: ``relu6(x + 3.0) / 6.0`` with both constants in the input
    dtype. Computed in that order so float32 results match bit for bit. This is
    not Keras 2's 0.2x + 0.5; that one is :data:`KERAS2_HARD_SIGMOID`.
    """
    x = _as_float(x)
    return _result(np.clip(x + 3, 0, 6) / 6, x)


def hard_sigmoid_keras2(x: np.ndarray) -> np.ndarray:
    """Keras 2.x / tf-keras: ``clip(0.2 * x + 0.5, 0, 1)``.

    Not a Keras 3 activation; registered as :data:`KERAS2_HARD_SIGMOID`. Keras 3
    keeps it only as ``keras/src/legacy/backend.py`` ``hard_sigmoid``
    (``multiply(x, 0.2)``, ``add(.., 0.5)``, ``clip_by_value(.., 0, 1)``, with
    the constants in the input dtype), used by no layer. Same order here.
    """
    x = _as_float(x)
    return _result(np.clip(x * 0.2 + 0.5, 0, 1), x)


def hard_silu(x: np.ndarray) -> np.ndarray:
    """``x * hard_sigmoid(x)`` = ``x * relu6(x + 3) / 6``; alias ``hard_swish``.

    Keras: ``backend/tensorflow/nn.py`` ``hard_silu``: ``x * hard_sigmoid(x)``.
    """
    x = _as_float(x)
    return _result(x * hard_sigmoid(x), x)


def hard_tanh(x: np.ndarray) -> np.ndarray:
    """``clip(x, -1, 1)``.

    Keras: ``backend/tensorflow/nn.py`` ``hard_tanh``: ``tf.clip_by_value(x, -1, 1)``.
    """
    x = _as_float(x)
    return _result(np.clip(x, -1, 1), x)


def hard_shrink(x: np.ndarray) -> np.ndarray:
    """``x if |x| > 0.5 else 0``; exactly +-0.5 map to 0.

    Keras: ``activations.py`` ``hard_shrink(x, threshold=0.5)`` ->
    ``backend/tensorflow/nn.py``: ``where(abs(x) > threshold, x, 0)``.
    """
    x = _as_float(x)
    return _result(np.where(np.abs(x) > 0.5, x, 0), x)


def soft_shrink(x: np.ndarray) -> np.ndarray:
    """``x - 0.5 if x > 0.5; x + 0.5 if x < -0.5; else 0``.

    Keras: ``activations.py`` ``soft_shrink(x, threshold=0.5)`` ->
    ``backend/tensorflow/nn.py`` ``soft_shrink`` (nested ``tf.where``).
    """
    x = _as_float(x)
    return _result(np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)), x)


def tanh(x: np.ndarray) -> np.ndarray:
    """``tanh(x)``. Keras: ``backend/tensorflow/nn.py`` ``tf.nn.tanh``."""
    x = _as_float(x)
    return _result(np.tanh(x), x)


def tanh_shrink(x: np.ndarray) -> np.ndarray:
    """``x - tanh(x)``.

    Keras: ``backend/tensorflow/nn.py`` ``tanh_shrink``: ``x - tf.math.tanh(x)``.
    Loses relative precision near 0 by cancellation, in Keras and here.
    """
    x = _as_float(x)
    return _result(x - np.tanh(x), x)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``.

    Keras: ``ops/nn.py`` ``softplus`` -> ``tf.math.softplus`` (kernel
    ``softplus_op.h``: ``x`` above ``-log(eps) - 2``, ``exp(x)`` below
    ``log(eps) + 2``, else ``log1p(exp(x))``; those cut-offs are within an ulp of
    the exact value). Here ``max(x, 0) + log1p(exp(-|x|))``, which is accurate
    everywhere and cannot overflow.
    """
    x = _as_float(x)
    return _result(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))), x)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x))`` = ``-softplus(-x)``.

    Keras: ``ops/nn.py`` ``log_sigmoid`` -> ``tf.math.log_sigmoid`` (TF:
    ``-softplus(-x)``). Here ``min(x, 0) - log1p(exp(-|x|))``.
    """
    x = _as_float(x)
    return _result(np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), x)


def silu(x: np.ndarray) -> np.ndarray:
    """``x * sigmoid(x)``; alias ``swish``.

    Keras: ``ops/nn.py`` ``silu`` -> ``tf.nn.silu`` (``x * sigmoid(x)``, beta = 1).
    """
    x = _as_float(x)
    return _result(x * sigmoid(x), x)


def mish(x: np.ndarray) -> np.ndarray:
    """``x * tanh(softplus(x))``.

    Keras: ``activations.py`` ``Mish.static_call``:
    ``x * backend.nn.tanh(backend.nn.softplus(x))``.
    """
    x = _as_float(x)
    return _result(x * np.tanh(softplus(x)), x)


def softsign(x: np.ndarray) -> np.ndarray:
    """``x / (|x| + 1)``. Keras: ``ops/nn.py`` ``softsign`` -> ``tf.nn.softsign``."""
    x = _as_float(x)
    return _result(x / (np.abs(x) + 1), x)


def squareplus(x: np.ndarray) -> np.ndarray:
    """``(x + sqrt(x**2 + b)) / 2`` with b = 4.

    Keras: ``activations.py`` ``squareplus(x, b=4)`` -> ``backend/tensorflow/nn.py``
    ``squareplus``: ``y = x + sqrt(square(x) + b); y / 2`` with b in the input
    dtype. Same expression here, cancellation for large negative x included,
    so the two round alike.
    """
    x = _as_float(x)
    return _result((x + np.sqrt(x * x + 4)) / 2, x)


def sparse_plus(x: np.ndarray) -> np.ndarray:
    """``0 if x <= -1; (x + 1)**2 / 4 if -1 < x < 1; x if x >= 1``.

    Keras: ``backend/tensorflow/nn.py`` ``sparse_plus``: nested ``tf.where`` with
    ``(1 / 4) * tf.pow(x + 1, 2)`` for the middle piece.
    """
    x = _as_float(x)
    middle = 0.25 * np.square(x + 1)
    return _result(np.where(x <= -1, 0, np.where(x < 1, middle, x)), x)


def sparse_sigmoid(x: np.ndarray) -> np.ndarray:
    """``0 if x <= -1; (x + 1) / 2 if -1 < x < 1; 1 if x >= 1``.

    Keras: ``backend/tensorflow/nn.py`` ``sparse_sigmoid``: nested ``tf.where``
    with ``0.5 * (x + 1)``. Equals :func:`hard_tanh` rescaled to [0, 1].
    """
    x = _as_float(x)
    return _result(np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1))), x)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU: ``0.5 * x * (1 + erf(x / sqrt(2)))``.

    Keras: ``activations.py`` ``gelu(x, approximate=False)``. The activation
    defaults to the exact form; ``ops.gelu`` defaults to the tanh form, so
    ``"gelu"`` as an RNN activation is the erf one. ``backend/tensorflow/nn.py``
    -> ``tf.nn.gelu(x, approximate=False)``, which computes
    ``0.5 * x * erfc(-x * cast(0.7071067811865476, dtype))``.
    That cast starts from a float32 constant, so in float64 TF multiplies by
    float32(1/sqrt 2) = 0.70710677..., an absolute error of up to ~5e-9 near
    |x| = 1.4. The reference uses the float64 1/sqrt(2).

    Same erfc form here; it keeps relative precision for large negative x,
    where ``1 + erf`` would cancel. erfc is Cody's rational approximation in
    float64, rounded to the input dtype; the rest is in the input dtype.
    """
    x = _as_float(x)
    z = -x * x.dtype.type(_INV_SQRT2)
    e = _erfc(z.astype(np.float64)).astype(x.dtype)
    return _result(0.5 * x * e, x)


# Axis-wise activations: Keras's default axis=-1, the units axis of a cell.
def softmax(x: np.ndarray) -> np.ndarray:
    """``exp(x - max(x)) / sum(exp(x - max(x)))`` over the last axis.

    Keras: ``activations.py`` ``softmax(x, axis=-1)`` -> ``ops/nn.py`` ``softmax``
    (which warns when the axis has size 1: the output is then all ones) ->
    ``tf.nn.softmax(x, axis=-1)``.
    """
    x = _as_float(x)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return _result(e / np.sum(e, axis=-1, keepdims=True), x)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """``(x - max) - log(sum(exp(x - max)))`` over the last axis.

    Keras: ``activations.py`` ``log_softmax(x, axis=-1)`` -> ``ops/nn.py`` ->
    ``tf.nn.log_softmax(x, axis=-1)``.
    """
    x = _as_float(x)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return _result(shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True)), x)


def sparsemax(x: np.ndarray) -> np.ndarray:
    """Keras 3.15's sparsemax over the last axis, which is not the textbook one.

    Keras: ``activations.py`` ``sparsemax(x, axis=-1)`` ->
    ``backend/tensorflow/nn.py`` ``sparsemax`` (the JAX and NumPy backends are
    the same). With ``s`` = x sorted descending, ``c = cumsum(s)``,
    ``r = 1..n``::

        support = s - (c - 1) / r > 0
        k       = count(support)
        tau     = (sum(c[support]) - 1) / k
        out     = max(x - tau, 0)

    Martins & Astudillo (2016) have ``tau = (c[k-1] - 1) / k``, the cumsum at
    k. Keras sums the cumsums over the whole support instead. The two agree
    only when k = 1. Otherwise Keras's output does not sum to 1:
    ``[0.5, 0.4]`` gives ``[0.3, 0.2]`` where the textbook gives
    ``[0.55, 0.45]``. The oracle follows Keras.
    """
    x = _as_float(x)
    s = -np.sort(-x, axis=-1)
    c = np.cumsum(s, axis=-1)
    r = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    support = s - (c - 1) / r > 0
    k = np.sum(support, axis=-1, keepdims=True).astype(x.dtype)
    tau = (np.sum(np.where(support, c, 0), axis=-1, keepdims=True) - 1) / k
    return _result(np.maximum(x - tau, 0), x)


# ---------------------------------------------------------------- registry
ACTIVATIONS: Mapping[str, Activation] = types.MappingProxyType({
    "celu": celu,
    "elu": elu,
    "exponential": exponential,
    "gelu": gelu,
    "hard_shrink": hard_shrink,
    "hard_sigmoid": hard_sigmoid,
    KERAS2_HARD_SIGMOID: hard_sigmoid_keras2,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,  # Keras alias (activations/__init__.py)
    "hard_tanh": hard_tanh,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "log_sigmoid": log_sigmoid,
    "log_softmax": log_softmax,
    "mish": mish,
    "relu": relu,
    "relu6": relu6,
    "selu": selu,
    "sigmoid": sigmoid,
    "silu": silu,
    "soft_shrink": soft_shrink,
    "softmax": softmax,
    "softplus": softplus,
    "softsign": softsign,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "swish": silu,  # Keras alias (activations/__init__.py)
    "tanh": tanh,
    "tanh_shrink": tanh_shrink,
})

#: Names ``keras.activations.get`` accepts that cannot be an RNN activation.
UNSUPPORTED: Mapping[str, str] = types.MappingProxyType({
    "glu": "glu splits the last axis in two and returns half of it, "
           "so its output cannot have the cell's units",
    "threshold": "threshold has required arguments (threshold, default_value) "
                 "that an activation name cannot carry",
})

_NAMES: tuple[str, ...] = tuple(sorted(ACTIVATIONS))


def names() -> tuple[str, ...]:
    """The accepted activation names, sorted (aliases and ``hard_sigmoid_keras2`` included)."""
    return _NAMES


def get(name: str | None) -> Activation:
    """Returns the reference activation called ``name``.

    ``None`` gives :func:`linear`, as in ``keras.activations.get(None)``. Names
    are case sensitive, as in Keras. Raises ValueError for a name in
    :data:`UNSUPPORTED` (with its reason) or an unknown name (listing the valid
    ones), and TypeError for anything that is neither a string nor None.
    """
    if name is None:
        return linear
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str or None, got {type(name).__name__} {name!r}")
    fn = ACTIVATIONS.get(name)
    if fn is not None:
        return fn
    if name in UNSUPPORTED:
        raise ValueError(f"activation {name!r} is not supported as an RNN activation: {UNSUPPORTED[name]}")
    raise ValueError(f"unknown activation {name!r}; expected one of: {', '.join(_NAMES)}")
