"""Reduced-precision arithmetic: what a port computing in float16, bfloat16 or fixed point gets.

A :class:`Precision` names the arithmetic a port computes in. The reference cells
take one wherever they take a ``dtype`` and simulate it on float64 arrays: every
stored value (weights, inputs, states, every intermediate) lies on the
precision's grid, and the exact float64 result of every operation is rounded back
onto it (:meth:`Precision.round`). Per operation:

* **elementwise** ``+ - *`` and each activation: the exact result, rounded once
  (an activation is evaluated in float64 on its rounded input and rounded once,
  as a correctly rounded library function would give it);
* **matmul** ``a @ b``: products and sums exact, then one rounding. This is what
  NumPy's own float16 matmul does (measured: bit-identical to one rounding of the
  exact product), what GPU/NPU half-precision kernels with a float32 accumulator
  do up to float32 round-off, and what hls4ml's wide accumulator does before the
  result is cast to the layer's type. A port that accumulates in the narrow type
  itself differs by ~sqrt(n) ulps: inside the tolerance's margin
  (``docs/tolerance.md``, "Reduced precision", measures both).

The precisions:

* ``float64`` / ``float32``: native NumPy arithmetic in that dtype (no rounding
  step; the float32 noise-floor sample has always been this).
* ``float16``: IEEE 754 binary16 (11-bit significand, max 65504), round to
  nearest even (NumPy's float64 -> float16 cast).
* ``bfloat16``: 8-bit exponent, 8-bit significand, round to nearest even
  (``ml_dtypes.bfloat16``, via float32: a float64 value is rounded to float32
  first, which can differ from direct rounding only on exact float32 ties).
* ``fixed<W,I>``: ``ap_fixed<W,I>`` with its defaults (Vitis HLS UG1399, "Fixed-Point
  Identifier Summary"), which hls4ml uses unless told otherwise (its default
  precision is ``fixed<16,6>``): ``W`` bits in two's complement, ``I`` of them
  (the sign bit included) above the binary point, so the step is ``2**-(W-I)``
  and the range ``[-2**(I-1), 2**(I-1) - 2**-(W-I)]``; quantization ``AP_TRN``
  (truncation toward minus infinity: ``floor(x / step) * step``), overflow
  ``AP_WRAP`` (the integer wraps modulo ``2**W``). NaN/inf (an overflowed float
  upstream) stay NaN.

Never imports Keras or TensorFlow (``ml_dtypes`` is a NumPy extension).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

#: Largest fixed-point word simulated: float64 holds every W-bit integer exactly up to 53 bits.
MAX_FIXED_BITS = 52
_FIXED = re.compile(r"^(?:ap_)?fixed<\s*(-?\d+)\s*,\s*(-?\d+)\s*>$")
#: The names ``--precision`` accepts (fixed<W,I> is a family).
NAMES = ("float32", "float16", "bfloat16", "fixed<W,I>")


@dataclass(frozen=True)
class Precision:
    """One arithmetic: ``kind`` is ``"native"`` (NumPy computes in ``name``), ``"float"`` or ``"fixed"``."""

    name: str
    kind: str
    bits: int = 0  # fixed: W
    integer_bits: int = 0  # fixed: I (sign bit included)

    @property
    def native(self) -> bool:
        return self.kind == "native"

    @property
    def dtype(self) -> np.dtype:
        """The dtype arrays are stored in: the native dtype, else float64 (values on the grid)."""
        return np.dtype(self.name) if self.native else np.dtype(np.float64)

    @property
    def eps(self) -> float:
        """Spacing of the grid: relative at 1.0 for floats (``finfo.eps``), the absolute step for fixed."""
        if self.kind == "fixed":
            return 2.0 ** -(self.bits - self.integer_bits)
        return float(_finfo(self).eps)

    @property
    def absolute(self) -> bool:
        """Whether the grid's spacing is absolute (fixed point) rather than relative (floats)."""
        return self.kind == "fixed"

    def ulp(self, scale: np.ndarray) -> np.ndarray:
        """One grid step at magnitude ``scale``: ``eps * scale`` (floats), ``eps`` (fixed)."""
        if self.absolute:
            return np.full(np.shape(scale), self.eps)
        return self.eps * scale

    @property
    def round(self) -> Callable[[Any], Any]:
        """The rounding after each operation (the identity for native arithmetic)."""
        return _identity if self.native else self._round

    def _round(self, a: Any) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.name == "float16":
                return a.astype(np.float16).astype(np.float64)
            if self.name == "bfloat16":
                return a.astype(np.float32).astype(_bfloat16()).astype(np.float64)
            step_bits = self.bits - self.integer_bits
            k = np.floor(np.ldexp(a, step_bits))  # AP_TRN: toward minus infinity
            half = 2.0 ** (self.bits - 1)
            k = np.mod(k + half, 2.0 * half) - half  # AP_WRAP: two's complement wrap-around
            return np.ldexp(k, -step_bits)

    def coarser_than(self, other: "Precision") -> bool:
        """Whether this grid is strictly coarser than ``other``'s at magnitude 1."""
        return self.eps > other.eps

    def __str__(self) -> str:
        return self.name


def _identity(a: Any) -> Any:
    return a


def _bfloat16() -> Any:
    import ml_dtypes  # a NumPy extension installed with TensorFlow; imported only when bfloat16 is used

    return ml_dtypes.bfloat16


def _finfo(p: Precision) -> Any:
    if p.name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.finfo(ml_dtypes.bfloat16)
    return np.finfo(np.dtype(p.name))


FLOAT64 = Precision("float64", "native")
FLOAT32 = Precision("float32", "native")
FLOAT16 = Precision("float16", "float")
BFLOAT16 = Precision("bfloat16", "float")


def fixed(bits: int, integer_bits: int) -> Precision:
    """``ap_fixed<bits, integer_bits>`` (AP_TRN, AP_WRAP); ValueError outside ``1 <= I <= W <= 52``."""
    if not (1 <= integer_bits <= bits <= MAX_FIXED_BITS) or bits < 2:
        raise ValueError(f"'fixed<{bits},{integer_bits}>' is not a valid fixed<W,I>: expected 2 <= W <= "
                         f"{MAX_FIXED_BITS} and 1 <= I <= W (I counts the sign bit), e.g. fixed<16,6>; "
                         f"or one of float32, float16, bfloat16")
    return Precision(f"fixed<{bits},{integer_bits}>", "fixed", bits, integer_bits)


def parse_precision(text: Any) -> Precision:
    """``"float32"``, ``"float16"``, ``"bfloat16"`` or ``"fixed<W,I>"`` (also ``ap_fixed<W,I>``) as a
    :class:`Precision`; a Precision is returned as it is. ValueError naming the valid values."""
    if isinstance(text, Precision):
        return text
    name = str(text).strip().lower().replace(" ", "")
    known = {"float32": FLOAT32, "float16": FLOAT16, "half": FLOAT16, "bfloat16": BFLOAT16}
    if name in known:
        return known[name]
    match = _FIXED.match(name)
    if match:
        return fixed(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"{str(text)!r} is not one of {', '.join(NAMES)} "
                     f"(e.g. fixed<16,6>: 16 bits, 6 of them integer bits with the sign)")


def arithmetic(dtype: Any) -> Precision:
    """What a reference function's ``dtype`` argument means: a :class:`Precision` as it is, a NumPy
    dtype (float64, float32) as native arithmetic in it."""
    if isinstance(dtype, Precision):
        return dtype
    dt = np.dtype(dtype)
    if dt == np.float64:
        return FLOAT64
    if dt == np.float32:
        return FLOAT32
    return Precision(dt.name, "native")
