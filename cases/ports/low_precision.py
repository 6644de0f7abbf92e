"""Correct (and one broken) SimpleRNN/LSTM/GRU ports that compute in float16, bfloat16 or fixed point.

Stand-ins for microcontroller, GPU and FPGA ports: the maths of ``correct_*.py``
with every array stored in a narrow type. Written independently of
``reference_cells`` (no shared rounding code): float16 is NumPy's own float16
arithmetic, bfloat16 is ``ml_dtypes.bfloat16`` arrays, and fixed point is integer
arithmetic on ``ap_fixed<W,I>`` codes (AP_TRN: an arithmetic right shift floors;
AP_WRAP: the code is wrapped to W bits in two's complement), as an HLS C++ port
computes it.

Function ports ``NAME(x, weights, config, mask=None, initial_state=None)``:

* ``lstm_float16``, ``gru_float16``, ``simple_rnn_float16`` - correct, in float16;
* ``lstm_bfloat16``, ``gru_bfloat16``, ``simple_rnn_bfloat16`` - correct, in bfloat16;
* ``lstm_fixed16_6``, ``gru_fixed16_6``, ``simple_rnn_fixed16_6`` - correct, in ap_fixed<16,6>;
* ``lstm_float16_gate_order`` - float16, and it slices the LSTM blocks as i,f,o,c
  (Keras stores i,f,c,o): a real bug hidden under round-off.

:func:`make_port` builds others (``accumulate="narrow"`` sums each matmul in the
narrow type itself, one rounding per term, instead of NumPy's wide accumulator, and
evaluates each activation operation by operation in the narrow type, e.g. sigmoid as
three float16 operations, instead of rounding a float32 result once).
"""

from __future__ import annotations

import numpy as np

from numpy_rnn_loop import ACTIVATIONS, get_activation, run_layer  # the shared activations and time loop next to this file


class FloatArithmetic:
    """Every value stored as ``dtype`` (float16, bfloat16); each operation's result cast back to it."""

    def __init__(self, dtype, accumulate="wide"):
        self.dtype, self.accumulate = dtype, accumulate

    def store(self, a):
        return np.asarray(np.asarray(a, np.float32), self.dtype)

    def to_float(self, a):
        return np.asarray(a, np.float32)

    def add(self, a, b):
        return self.store(a + b)

    def sub(self, a, b):
        return self.store(a - b)

    def mul(self, a, b):
        return self.store(a * b)

    def matmul(self, a, b):
        if self.accumulate == "wide":
            return self.store(a @ b)  # float16: NumPy accumulates in float; bfloat16: ml_dtypes returns float32
        acc = self.store(np.zeros((a.shape[0], b.shape[1])))
        for k in range(a.shape[1]):
            acc = self.add(acc, self.mul(a[:, k:k + 1], b[k:k + 1, :]))
        return acc

    def act(self, name, a):
        if self.accumulate == "narrow":  # every operation of the activation in the narrow type too
            return self.store(get_activation(name)(a))
        return self.store(get_activation(name)(self.to_float(a)))

    def one(self):
        return self.store(1.0)


class FixedArithmetic:
    """``ap_fixed<W,I>`` as int64 codes ``k`` (value ``k * 2**-(W-I)``): AP_TRN, AP_WRAP."""

    def __init__(self, bits, integer_bits):
        self.w, self.f = bits, bits - integer_bits

    def wrap(self, k):
        k = np.asarray(k, np.int64)
        half = np.int64(1) << (self.w - 1)
        return ((k + half) & ((half << 1) - 1)) - half

    def store(self, a):
        return self.wrap(np.floor(np.asarray(a, np.float64) * 2.0 ** self.f).astype(np.int64))

    def to_float(self, a):
        return np.asarray(a, np.float64) * 2.0 ** -self.f

    def add(self, a, b):
        return self.wrap(a + b)

    def sub(self, a, b):
        return self.wrap(a - b)

    def mul(self, a, b):
        return self.wrap((a * b) >> self.f)  # >> floors: truncation toward minus infinity

    def matmul(self, a, b):
        return self.wrap((a @ b) >> self.f)  # exact integer products and sums, then one truncation

    def act(self, name, a):
        return self.store(get_activation(name)(self.to_float(a)))

    def one(self):
        return self.store(1.0)


def _arithmetic(name, accumulate="wide"):
    if name == "float16":
        return FloatArithmetic(np.float16, accumulate)
    if name == "bfloat16":
        import ml_dtypes

        return FloatArithmetic(ml_dtypes.bfloat16, accumulate)
    if name.startswith("fixed<"):
        w, i = (int(v) for v in name[len("fixed<"):-1].split(","))
        return FixedArithmetic(w, i)
    raise ValueError(name)


def _cell(kind, weights, config, ar, gate_order):
    act = config.get("activation", "tanh") or "linear"
    ract = config.get("recurrent_activation", "sigmoid") or "linear"
    kernel, recurrent = ar.store(weights[0]), ar.store(weights[1])
    u = recurrent.shape[0]
    use_bias = config.get("use_bias", True)
    if kind == "SimpleRNN":
        bias = ar.store(weights[2] if use_bias else np.zeros(u))

        def cell(x_t, states):
            h = ar.act(act, ar.add(ar.add(ar.matmul(x_t, kernel), bias), ar.matmul(states[0], recurrent)))
            return h, [h]

        return cell, u, 1
    if kind == "LSTM":
        bias = ar.store(weights[2] if use_bias else np.zeros(4 * u))
        block = {g: gate_order.index(g) for g in "ifco"}

        def cell(x_t, states):
            h, c = states
            z = ar.add(ar.add(ar.matmul(x_t, kernel), ar.matmul(h, recurrent)), bias)
            part = {g: z[:, k * u:(k + 1) * u] for g, k in block.items()}
            i, f, o = (ar.act(ract, part[g]) for g in "ifo")
            c = ar.add(ar.mul(f, c), ar.mul(i, ar.act(act, part["c"])))
            h = ar.mul(o, ar.act(act, c))
            return h, [h, c]

        return cell, u, 2
    reset_after = config.get("reset_after", True)
    b_in = b_rec = ar.store(np.zeros(3 * u))
    if use_bias:
        stored = np.asarray(weights[2], np.float64)
        b_in, b_rec = (ar.store(stored[0]), ar.store(stored[1])) if reset_after else (ar.store(stored), b_rec)

    def cell(x_t, states):
        h = states[0]
        mx = ar.add(ar.matmul(x_t, kernel), b_in)
        if reset_after:
            mh = ar.add(ar.matmul(h, recurrent), b_rec)
            z = ar.act(ract, ar.add(mx[:, :u], mh[:, :u]))
            r = ar.act(ract, ar.add(mx[:, u:2 * u], mh[:, u:2 * u]))
            hh = ar.act(act, ar.add(mx[:, 2 * u:], ar.mul(r, mh[:, 2 * u:])))
        else:
            mh = ar.matmul(h, recurrent[:, :2 * u])
            z = ar.act(ract, ar.add(mx[:, :u], mh[:, :u]))
            r = ar.act(ract, ar.add(mx[:, u:2 * u], mh[:, u:2 * u]))
            hh = ar.act(act, ar.add(mx[:, 2 * u:], ar.matmul(ar.mul(r, h), recurrent[:, 2 * u:])))
        h = ar.add(ar.mul(z, h), ar.mul(ar.sub(ar.one(), z), hh))
        return h, [h]

    return cell, u, 1


def make_port(kind, arithmetic, *, gate_order="ifco", accumulate="wide"):
    """A function port of ``kind`` computing in ``arithmetic`` (float16, bfloat16, fixed<W,I>)."""
    ar = _arithmetic(arithmetic, accumulate)

    def port(x, weights, config, mask=None, initial_state=None):
        cell, units, n_states = _cell(kind, weights, config, ar, gate_order)
        return run_layer(cell, x, config, n_states, units, mask, initial_state, store=ar.store, to_float=ar.to_float)

    port.__name__ = f"{kind.lower()}_{arithmetic}"
    return port


lstm_float16 = make_port("LSTM", "float16")
gru_float16 = make_port("GRU", "float16")
simple_rnn_float16 = make_port("SimpleRNN", "float16")
lstm_bfloat16 = make_port("LSTM", "bfloat16")
gru_bfloat16 = make_port("GRU", "bfloat16")
simple_rnn_bfloat16 = make_port("SimpleRNN", "bfloat16")
lstm_fixed16_6 = make_port("LSTM", "fixed<16,6>")
gru_fixed16_6 = make_port("GRU", "fixed<16,6>")
simple_rnn_fixed16_6 = make_port("SimpleRNN", "fixed<16,6>")
lstm_float16_gate_order = make_port("LSTM", "float16", gate_order="ifoc")

__all__ = [name for name in dir() if name.endswith(("float16", "bfloat16", "fixed16_6", "gate_order"))] + [
    "make_port", "ACTIVATIONS"]
