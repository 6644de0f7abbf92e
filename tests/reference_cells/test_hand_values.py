"""The reference against values worked out by hand.

Every expected number here is computed with ``math`` and scalar arithmetic
written out in the test, from the equations in
``../shared/keras-rnn-semantics.md`` §1 and §3; nothing calls the reference's
own cells, activations or gate splitting. The cells are 1 unit wide (one
2-unit SimpleRNN), so each gate is a single number and a wrong gate block,
bias row, update rule or time order changes the result by far more than the
1e-12 tolerance.

All weights are distinct and non-zero per gate, biases included, so no
mistake can hide behind a symmetric or constant value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference_cells import Conventions, StatefulSequence, run_sequence

TOL = 1e-12


# ----------------------------------------------------------------- scalars
def sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def hsig_keras3(v: float) -> float:
    """Keras 3 hard_sigmoid, written as the line x/6 + 0.5 clipped to [0, 1]."""
    return min(max(v / 6.0 + 0.5, 0.0), 1.0)


def hsig_keras2(v: float) -> float:
    """Keras 2 hard_sigmoid: 0.2 x + 0.5 clipped to [0, 1]."""
    return min(max(0.2 * v + 0.5, 0.0), 1.0)


def dot(x: list[float], k: list[float]) -> float:
    return sum(xi * ki for xi, ki in zip(x, k))


def col(matrix: list[list[float]], j: int) -> list[float]:
    return [row[j] for row in matrix]


def check(actual, expected, tol: float = TOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=0, atol=tol)


def arr(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


# ---------------------------------------------------------------- data
# Two steps, two features (batch 1): x[0, t] = X2[t].
X2 = [[0.5, -1.2], [0.8, 0.3]]
X = arr([X2])  # (1, 2, 2)

# SimpleRNN, 1 unit: K (2, 1), R (1, 1), b (1,).
RNN_K = [[0.3], [-0.7]]
RNN_R = [[1.1]]
RNN_B = [0.2]
RNN_W = [arr(RNN_K), arr(RNN_R), arr(RNN_B)]

# LSTM, 1 unit: blocks [i, f, c, o] along the last axis.
LSTM_K = [[0.3, -0.7, 1.1, 0.5], [-0.4, 0.9, -0.2, 0.6]]
LSTM_R = [[0.8, -0.5, 0.35, -1.3]]
LSTM_B = [0.1, 0.75, -0.25, 0.2]
LSTM_W = [arr(LSTM_K), arr(LSTM_R), arr(LSTM_B)]

# GRU, 1 unit: blocks [z, r, h].
GRU_K = [[0.4, -0.6, 1.2], [-0.9, 0.25, 0.7]]
GRU_R = [[0.55, -1.1, 0.85]]
GRU_B_AFTER = [[0.15, -0.3, 0.45], [-0.2, 0.35, 0.6]]  # (2, 3): input row, recurrent row
GRU_B_BEFORE = [0.15, -0.3, 0.45]  # (3,)
GRU_W_AFTER = [arr(GRU_K), arr(GRU_R), arr(GRU_B_AFTER)]
GRU_W_BEFORE = [arr(GRU_K), arr(GRU_R), arr(GRU_B_BEFORE)]

SEQ = {"return_sequences": True}


# --------------------------------------------- hand-written one-step cells
def rnn_step(x: list[float], h: float, *, k=RNN_K, r=RNN_R, b=RNN_B) -> float:
    return math.tanh(dot(x, col(k, 0)) + b[0] + h * r[0][0])


def lstm_step(x, h, c, *, k=LSTM_K, r=LSTM_R, b=LSTM_B, blocks="ifco", ract=sig):
    """One LSTM step; ``blocks`` names the gate stored in each column (Keras: ifco)."""
    j = {g: blocks.index(g) for g in "ifco"}
    z = {g: dot(x, col(k, j[g])) + h * r[0][j[g]] + b[j[g]] for g in "ifco"}
    i, f, o = ract(z["i"]), ract(z["f"]), ract(z["o"])
    c_new = f * c + i * math.tanh(z["c"])
    return o * math.tanh(c_new), c_new


def gru_step_after(x, h, *, k=GRU_K, r=GRU_R, b=GRU_B_AFTER, swapped=False):
    b_in, b_rec = b
    z = sig(dot(x, col(k, 0)) + b_in[0] + h * r[0][0] + b_rec[0])
    rr = sig(dot(x, col(k, 1)) + b_in[1] + h * r[0][1] + b_rec[1])
    hh = math.tanh(dot(x, col(k, 2)) + b_in[2] + rr * (h * r[0][2] + b_rec[2]))
    return (1 - z) * h + z * hh if swapped else z * h + (1 - z) * hh


def gru_step_before(x, h, *, k=GRU_K, r=GRU_R, b=GRU_B_BEFORE):
    z = sig(dot(x, col(k, 0)) + b[0] + h * r[0][0])
    rr = sig(dot(x, col(k, 1)) + b[1] + h * r[0][1])
    hh = math.tanh(dot(x, col(k, 2)) + b[2] + (rr * h) * r[0][2])
    return z * h + (1 - z) * hh


# ================================================== the three cells, 2 steps
def test_simple_rnn_two_steps():
    (a0, a1), (b0, b1) = X2
    h1 = math.tanh(a0 * 0.3 + a1 * -0.7 + 0.2 + 0.0 * 1.1)
    h2 = math.tanh(b0 * 0.3 + b1 * -0.7 + 0.2 + h1 * 1.1)
    trace = run_sequence("SimpleRNN", X, RNN_W, {"units": 1, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["h"][0, :, 0], [h1, h2])
    check(trace.last_output, [[h2]])
    check(trace.final_states[0], [[h2]])
    check(trace.layer_return(), [[[h1], [h2]]])


def test_lstm_two_steps():
    (a0, a1), (b0, b1) = X2
    # step 1, h0 = c0 = 0: z = x@K + 0@R + b, blocks i, f, c, o
    i1 = sig(a0 * 0.3 + a1 * -0.4 + 0.0 * 0.8 + 0.1)
    f1 = sig(a0 * -0.7 + a1 * 0.9 + 0.0 * -0.5 + 0.75)
    g1 = math.tanh(a0 * 1.1 + a1 * -0.2 + 0.0 * 0.35 - 0.25)
    o1 = sig(a0 * 0.5 + a1 * 0.6 + 0.0 * -1.3 + 0.2)
    c1 = f1 * 0.0 + i1 * g1
    h1 = o1 * math.tanh(c1)
    # step 2
    i2 = sig(b0 * 0.3 + b1 * -0.4 + h1 * 0.8 + 0.1)
    f2 = sig(b0 * -0.7 + b1 * 0.9 + h1 * -0.5 + 0.75)
    g2 = math.tanh(b0 * 1.1 + b1 * -0.2 + h1 * 0.35 - 0.25)
    o2 = sig(b0 * 0.5 + b1 * 0.6 + h1 * -1.3 + 0.2)
    c2 = f2 * c1 + i2 * g2
    h2 = o2 * math.tanh(c2)
    assert abs(h1 - c1) > 1e-2 and abs(h2 - c2) > 1e-2  # h and c cannot be confused

    trace = run_sequence("LSTM", X, LSTM_W, {"units": 1, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["h"][0, :, 0], [h1, h2])
    check(trace.states["c"][0, :, 0], [c1, c2])
    check(trace.final_states[0], [[h2]])
    check(trace.final_states[1], [[c2]])
    check(trace.last_output, [[h2]])


def test_gru_reset_after_two_steps():
    (a0, a1), (b0, b1) = X2
    # bias row 0 on the input side, row 1 inside r * (h@R + b_rec) for the candidate
    z1 = sig((a0 * 0.4 + a1 * -0.9 + 0.15) + (0.0 * 0.55 - 0.2))
    r1 = sig((a0 * -0.6 + a1 * 0.25 - 0.3) + (0.0 * -1.1 + 0.35))
    hh1 = math.tanh((a0 * 1.2 + a1 * 0.7 + 0.45) + r1 * (0.0 * 0.85 + 0.6))
    h1 = z1 * 0.0 + (1 - z1) * hh1
    z2 = sig((b0 * 0.4 + b1 * -0.9 + 0.15) + (h1 * 0.55 - 0.2))
    r2 = sig((b0 * -0.6 + b1 * 0.25 - 0.3) + (h1 * -1.1 + 0.35))
    hh2 = math.tanh((b0 * 1.2 + b1 * 0.7 + 0.45) + r2 * (h1 * 0.85 + 0.6))
    h2 = z2 * h1 + (1 - z2) * hh2

    trace = run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, "reset_after": True, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["h"][0, :, 0], [h1, h2])
    check(trace.final_states[0], [[h2]])
    # reset_after defaults to True, as in Keras 3
    check(run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, **SEQ}).outputs[0, :, 0], [h1, h2])


def test_gru_reset_before_two_steps():
    (a0, a1), (b0, b1) = X2
    # one (3,) input bias; r multiplies h before the candidate's recurrent matmul
    z1 = sig(a0 * 0.4 + a1 * -0.9 + 0.15 + 0.0 * 0.55)
    r1 = sig(a0 * -0.6 + a1 * 0.25 - 0.3 + 0.0 * -1.1)
    hh1 = math.tanh(a0 * 1.2 + a1 * 0.7 + 0.45 + (r1 * 0.0) * 0.85)
    h1 = z1 * 0.0 + (1 - z1) * hh1
    z2 = sig(b0 * 0.4 + b1 * -0.9 + 0.15 + h1 * 0.55)
    r2 = sig(b0 * -0.6 + b1 * 0.25 - 0.3 + h1 * -1.1)
    hh2 = math.tanh(b0 * 1.2 + b1 * 0.7 + 0.45 + (r2 * h1) * 0.85)
    h2 = z2 * h1 + (1 - z2) * hh2

    trace = run_sequence("GRU", X, GRU_W_BEFORE, {"units": 1, "reset_after": False, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["h"][0, :, 0], [h1, h2])
    check(trace.final_states[0], [[h2]])


def test_one_feature_cells():
    """F = 1: x is a column, the kernel a single row."""
    xs = [[0.9], [-0.4]]
    x = arr([xs])
    k_rnn, k_lstm, k_gru = [[-0.55]], [[0.3, -0.7, 1.1, 0.5]], [[0.4, -0.6, 1.2]]

    h1 = math.tanh(0.9 * -0.55 + 0.2)
    h2 = math.tanh(-0.4 * -0.55 + 0.2 + h1 * 1.1)
    trace = run_sequence("SimpleRNN", x, [arr(k_rnn), arr(RNN_R), arr(RNN_B)], {"units": 1, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])

    lh1, lc1 = lstm_step(xs[0], 0.0, 0.0, k=k_lstm)
    lh2, lc2 = lstm_step(xs[1], lh1, lc1, k=k_lstm)
    trace = run_sequence("LSTM", x, [arr(k_lstm), arr(LSTM_R), arr(LSTM_B)], {"units": 1, **SEQ})
    check(trace.outputs[0, :, 0], [lh1, lh2])
    check(trace.states["c"][0, :, 0], [lc1, lc2])

    gh1 = gru_step_after(xs[0], 0.0, k=k_gru)
    gh2 = gru_step_after(xs[1], gh1, k=k_gru)
    trace = run_sequence("GRU", x, [arr(k_gru), arr(GRU_R), arr(GRU_B_AFTER)], {"units": 1, **SEQ})
    check(trace.outputs[0, :, 0], [gh1, gh2])


# ================================================================ the loop
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last-output"])
def test_go_backwards_returns_processing_order(return_sequences):
    x_first, x_last = X2
    first_processed = math.tanh(dot(x_last, [0.3, -0.7]) + 0.2)  # reads x[:, T-1]
    second_processed = math.tanh(dot(x_first, [0.3, -0.7]) + 0.2 + first_processed * 1.1)
    config = {"units": 1, "go_backwards": True, "return_sequences": return_sequences}
    trace = run_sequence("SimpleRNN", X, RNN_W, config)
    check(trace.outputs[0, :, 0], [first_processed, second_processed])
    check(trace.states["h"][0, :, 0], [first_processed, second_processed])
    check(trace.last_output, [[second_processed]])
    expected = [[[first_processed], [second_processed]]] if return_sequences else [[second_processed]]
    check(trace.layer_return(), expected)


def test_go_backwards_flipped_convention_reverses_back():
    x_first, x_last = X2
    first_processed = math.tanh(dot(x_last, [0.3, -0.7]) + 0.2)
    second_processed = math.tanh(dot(x_first, [0.3, -0.7]) + 0.2 + first_processed * 1.1)
    config = {"units": 1, "go_backwards": True, **SEQ}
    trace = run_sequence("SimpleRNN", X, RNN_W, config, conventions=Conventions(time_direction="flipped"))
    check(trace.outputs[0, :, 0], [second_processed, first_processed])
    ignored = run_sequence("SimpleRNN", X, RNN_W, config, conventions=Conventions(time_direction="ignored"))
    check(ignored.outputs[0, :, 0], [rnn_step(x_first, 0.0), rnn_step(x_last, rnn_step(x_first, 0.0))])


# Three rows, same inputs, different masks and non-zero initial states.
MASK = np.array([[False, True], [True, False], [False, False]])
H0 = [0.4, -0.6, 0.25]
X3 = np.repeat(X, 3, axis=0)


def _masked_expectations(zero_output: bool):
    x0, x1 = X2
    # row 0: step 0 masked (nothing emitted yet -> 0), state keeps h0
    r0_h = [H0[0], rnn_step(x1, H0[0])]
    r0_out = [0.0, r0_h[1]]
    # row 1: step 1 masked -> repeats the previous emitted output, state carried
    h = rnn_step(x0, H0[1])
    r1_h = [h, h]
    r1_out = [h, 0.0 if zero_output else h]
    # row 2: all masked
    r2_h = [H0[2], H0[2]]
    r2_out = [0.0, 0.0]
    return [r0_out, r1_out, r2_out], [r0_h, r1_h, r2_h]


@pytest.mark.parametrize("zero_output", [False, True], ids=["previous-output", "zero_output_for_mask"])
def test_masked_steps(zero_output):
    outs, states = _masked_expectations(zero_output)
    config = {"units": 1, "zero_output_for_mask": zero_output, **SEQ}
    trace = run_sequence("SimpleRNN", X3, RNN_W, config, mask=MASK, initial_state=[arr(H0)[:, None]])
    check(trace.outputs[:, :, 0], outs)
    check(trace.states["h"][:, :, 0], states)
    check(trace.final_states[0][:, 0], [s[-1] for s in states])
    check(trace.last_output[:, 0], [o[-1] for o in outs])


def test_masked_step_state_rule_differs_before_first_valid_step():
    """Conventions(mask='state') emits h_{t-1} (= h0) where Keras-on-TF emits 0."""
    outs, _ = _masked_expectations(False)
    outs[0][0] = H0[0]  # row 0 step 0: h0, not 0
    outs[2] = [H0[2], H0[2]]
    trace = run_sequence(
        "SimpleRNN", X3, RNN_W, {"units": 1, **SEQ}, mask=MASK, initial_state=[arr(H0)[:, None]],
        conventions=Conventions(mask="state"),
    )
    check(trace.outputs[:, :, 0], outs)


def test_masked_lstm_carries_both_states():
    x0, x1 = X2
    h0, c0 = -0.35, 0.8
    mask = np.array([[False, True], [True, False]])
    # row 0: step 0 masked; step 1 starts from (h0, c0)
    h_b, c_b = lstm_step(x1, h0, c0)
    # row 1: step 1 masked; (h, c) of step 0 carried
    h_a, c_a = lstm_step(x0, h0, c0)
    trace = run_sequence(
        "LSTM", np.repeat(X, 2, axis=0), LSTM_W, {"units": 1, **SEQ}, mask=mask,
        initial_state=[arr([[h0], [h0]]), arr([[c0], [c0]])],
    )
    check(trace.outputs[:, :, 0], [[0.0, h_b], [h_a, h_a]])
    check(trace.states["h"][:, :, 0], [[h0, h_b], [h_a, h_a]])
    check(trace.states["c"][:, :, 0], [[c0, c_b], [c_a, c_a]])


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last-output", "sequences"])
def test_lstm_return_state_order_is_out_h_c(return_sequences):
    h1, c1 = lstm_step(X2[0], 0.0, 0.0)
    h2, c2 = lstm_step(X2[1], h1, c1)
    config = {"units": 1, "return_state": True, "return_sequences": return_sequences}
    out, h, c = run_sequence("LSTM", X, LSTM_W, config).layer_return()
    check(out, [[[h1], [h2]]] if return_sequences else [[h2]])
    check(h, [[h2]])
    check(c, [[c2]])


@pytest.mark.parametrize("kind", ["SimpleRNN", "GRU"])
def test_single_state_return_state_is_out_h(kind):
    weights = RNN_W if kind == "SimpleRNN" else GRU_W_AFTER
    step = rnn_step if kind == "SimpleRNN" else gru_step_after
    h2 = step(X2[1], step(X2[0], 0.0))
    returned = run_sequence(kind, X, weights, {"units": 1, "return_state": True}).layer_return()
    assert len(returned) == 2
    check(returned[0], [[h2]])
    check(returned[1], [[h2]])


def test_stateful_carries_state_and_reset_restarts():
    config = {"units": 1, "stateful": True, **SEQ}
    layer = StatefulSequence("LSTM", LSTM_W, config)
    h1, c1 = lstm_step(X2[0], 0.0, 0.0)
    h2, c2 = lstm_step(X2[1], h1, c1)
    first = layer(X[:, :1])
    check(first.outputs[0, :, 0], [h1])
    second = layer(X[:, 1:])
    check(second.outputs[0, :, 0], [h2])
    check(second.states["c"][0, :, 0], [c2])
    layer.reset_states()
    fresh_h, fresh_c = lstm_step(X2[1], 0.0, 0.0)
    again = layer(X[:, 1:])
    check(again.outputs[0, :, 0], [fresh_h])
    check(again.final_states[1], [[fresh_c]])
    assert abs(fresh_h - h2) > 1e-2


def test_stateful_state_carry_reset_convention_forgets():
    config = {"units": 1, "stateful": True, **SEQ}
    layer = StatefulSequence("LSTM", LSTM_W, config, conventions=Conventions(state_carry="reset"))
    layer(X[:, :1])
    second = layer(X[:, 1:])
    check(second.outputs[0, :, 0], [lstm_step(X2[1], 0.0, 0.0)[0]])


def test_initial_state_is_used():
    h0 = -0.45
    h1 = gru_step_after(X2[0], h0)
    h2 = gru_step_after(X2[1], h1)
    trace = run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, **SEQ}, initial_state=[arr([[h0]])])
    check(trace.outputs[0, :, 0], [h1, h2])

    lh0, lc0 = 0.3, -0.9
    l1 = lstm_step(X2[0], lh0, lc0)
    l2 = lstm_step(X2[1], *l1)
    trace = run_sequence("LSTM", X, LSTM_W, {"units": 1, **SEQ}, initial_state=[arr([[lh0]]), arr([[lc0]])])
    check(trace.states["h"][0, :, 0], [l1[0], l2[0]])
    check(trace.states["c"][0, :, 0], [l1[1], l2[1]])


# ============================================================ hard_sigmoid
# 1 feature; with h0 = 0 and x0 = 1.0 the step-1 pre-activations are K + b:
#   i: 0.8 + 0.2 = 1.0    inside both lines
#   f: 2.1 + 1.4 = 3.5    past both upper knees (Keras 3: 3, Keras 2: 2.5)
#   c: -0.6 + 0.3 = -0.3  (tanh)
#   o: -1.5 - 1.2 = -2.7  inside Keras 3's line, past Keras 2's lower knee
HS_K = [[0.8, 2.1, -0.6, -1.5]]
HS_R = [[0.3, -0.45, 0.65, 0.9]]
HS_B = [0.2, 1.4, 0.3, -1.2]
HS_X = [[1.0], [-0.5]]


@pytest.mark.parametrize(
    "name, ract",
    [("hard_sigmoid", hsig_keras3), ("hard_sigmoid_keras2", hsig_keras2)],
    ids=["keras3-x/6", "keras2-0.2x"],
)
def test_lstm_hard_sigmoid(name, ract):
    zi, zf, zc, zo = (1.0 * HS_K[0][j] + HS_B[j] for j in range(4))
    assert abs(zi) < 2.5 and zf > 3.0 and -3.0 < zo < -2.5
    i1, f1, o1 = ract(zi), ract(zf), ract(zo)
    if name == "hard_sigmoid":
        assert (i1, f1) == (pytest.approx(1.0 / 6.0 + 0.5), 1.0) and o1 == pytest.approx(-2.7 / 6 + 0.5)
    else:
        assert (i1, f1, o1) == (pytest.approx(0.7), 1.0, 0.0)
    c1 = f1 * 0.0 + i1 * math.tanh(zc)
    h1 = o1 * math.tanh(c1)
    h2, c2 = lstm_step(HS_X[1], h1, c1, k=HS_K, r=HS_R, b=HS_B, ract=ract)

    weights = [arr(HS_K), arr(HS_R), arr(HS_B)]
    trace = run_sequence("LSTM", arr([HS_X]), weights, {"units": 1, "recurrent_activation": name, **SEQ})
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["c"][0, :, 0], [c1, c2])


def test_hard_sigmoid_variants_differ():
    """The two names are different functions: far apart at the 1e-12 tolerance."""
    weights = [arr(HS_K), arr(HS_R), arr(HS_B)]
    runs = [
        run_sequence("LSTM", arr([HS_X]), weights, {"units": 1, "recurrent_activation": n, **SEQ}).outputs
        for n in ("hard_sigmoid", "hard_sigmoid_keras2")
    ]
    assert np.max(np.abs(runs[0] - runs[1])) > 5e-3


# ============================================================ Conventions
def test_gate_order_ifoc_swaps_c_and_o_blocks():
    # A port reading ifoc takes column 2 as the output gate and column 3 as the candidate.
    h1, c1 = lstm_step(X2[0], 0.0, 0.0, blocks="ifoc")
    h2, c2 = lstm_step(X2[1], h1, c1, blocks="ifoc")
    trace = run_sequence("LSTM", X, LSTM_W, {"units": 1, **SEQ}, conventions=Conventions(gate_order="ifoc"))
    check(trace.outputs[0, :, 0], [h1, h2])
    check(trace.states["c"][0, :, 0], [c1, c2])
    # written out for step 1: o from column 2, candidate from column 3
    a0, a1 = X2[0]
    o1 = sig(a0 * 1.1 + a1 * -0.2 - 0.25)
    g1 = math.tanh(a0 * 0.5 + a1 * 0.6 + 0.2)
    i1 = sig(a0 * 0.3 + a1 * -0.4 + 0.1)
    check(trace.outputs[0, 0, 0], o1 * math.tanh(i1 * g1))
    assert abs(h1 - lstm_step(X2[0], 0.0, 0.0)[0]) > 1e-2


def test_gru_update_swapped():
    h1 = gru_step_after(X2[0], 0.0, swapped=True)
    h2 = gru_step_after(X2[1], h1, swapped=True)
    a0, a1 = X2[0]
    z1 = sig(a0 * 0.4 + a1 * -0.9 + 0.15 - 0.2)
    r1 = sig(a0 * -0.6 + a1 * 0.25 - 0.3 + 0.35)
    hh1 = math.tanh(a0 * 1.2 + a1 * 0.7 + 0.45 + r1 * 0.6)
    assert h1 == pytest.approx(z1 * hh1, abs=TOL)  # (1 - z) * 0 + z * hh
    trace = run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, **SEQ}, conventions=Conventions(gru_update="swapped"))
    check(trace.outputs[0, :, 0], [h1, h2])
    assert abs(h1 - gru_step_after(X2[0], 0.0)) > 1e-2


# SimpleRNN, 2 units, written out element by element.
RNN2_K = [[0.3, -0.7], [1.1, 0.45]]
RNN2_R = [[0.6, -0.25], [0.35, 0.9]]
RNN2_B = [0.15, -0.4]
RNN2_W = [arr(RNN2_K), arr(RNN2_R), arr(RNN2_B)]


def rnn2_steps(bias_scale: float, h_start: tuple[float, float]) -> list[list[float]]:
    (a0, a1), (b0, b1) = X2
    p0, p1 = h_start
    u0 = math.tanh(a0 * 0.3 + a1 * 1.1 + bias_scale * 0.15 + p0 * 0.6 + p1 * 0.35)
    u1 = math.tanh(a0 * -0.7 + a1 * 0.45 + bias_scale * -0.4 + p0 * -0.25 + p1 * 0.9)
    v0 = math.tanh(b0 * 0.3 + b1 * 1.1 + bias_scale * 0.15 + u0 * 0.6 + u1 * 0.35)
    v1 = math.tanh(b0 * -0.7 + b1 * 0.45 + bias_scale * -0.4 + u0 * -0.25 + u1 * 0.9)
    return [[u0, u1], [v0, v1]]


@pytest.mark.parametrize("bias, scale", [("keras", 1.0), ("none", 0.0), ("double", 2.0)], ids=["bias-keras", "bias-none", "bias-double"])
def test_bias_convention_two_units(bias, scale):
    trace = run_sequence("SimpleRNN", X, RNN2_W, {"units": 2, **SEQ}, conventions=Conventions(bias=bias))
    check(trace.outputs[0], rnn2_steps(scale, (0.0, 0.0)))
    check(trace.states["h"][0], rnn2_steps(scale, (0.0, 0.0)))


def test_bias_convention_gru_counts_both_rows():
    doubled = [[2 * v for v in row] for row in GRU_B_AFTER]
    h1 = gru_step_after(X2[0], 0.0, b=doubled)
    h2 = gru_step_after(X2[1], h1, b=doubled)
    trace = run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, **SEQ}, conventions=Conventions(bias="double"))
    check(trace.outputs[0, :, 0], [h1, h2])
    zero = [[0.0] * 3, [0.0] * 3]
    n1 = gru_step_after(X2[0], 0.0, b=zero)
    trace = run_sequence("GRU", X, GRU_W_AFTER, {"units": 1, **SEQ}, conventions=Conventions(bias="none"))
    check(trace.outputs[0, :, 0], [n1, gru_step_after(X2[1], n1, b=zero)])


def test_initial_state_ones_convention():
    trace = run_sequence("SimpleRNN", X, RNN2_W, {"units": 2, **SEQ}, conventions=Conventions(initial_state="ones"))
    check(trace.outputs[0], rnn2_steps(1.0, (1.0, 1.0)))

    h1, c1 = lstm_step(X2[0], 1.0, 1.0)
    h2, c2 = lstm_step(X2[1], h1, c1)
    trace = run_sequence("LSTM", X, LSTM_W, {"units": 1, **SEQ}, conventions=Conventions(initial_state="ones"))
    check(trace.states["h"][0, :, 0], [h1, h2])
    check(trace.states["c"][0, :, 0], [c1, c2])
    assert abs(h1 - lstm_step(X2[0], 0.0, 0.0)[0]) > 1e-2


# ================================================================= float32
@pytest.mark.parametrize(
    "kind, weights, config, expected",
    [
        ("SimpleRNN", RNN_W, {}, lambda: [rnn_step(X2[0], 0.0), rnn_step(X2[1], rnn_step(X2[0], 0.0))]),
        ("LSTM", LSTM_W, {}, lambda: [lstm_step(X2[0], 0, 0)[0], lstm_step(X2[1], *lstm_step(X2[0], 0, 0))[0]]),
        ("GRU", GRU_W_AFTER, {}, lambda: [gru_step_after(X2[0], 0), gru_step_after(X2[1], gru_step_after(X2[0], 0))]),
        ("GRU", GRU_W_BEFORE, {"reset_after": False},
         lambda: [gru_step_before(X2[0], 0), gru_step_before(X2[1], gru_step_before(X2[0], 0))]),
    ],
    ids=["SimpleRNN", "LSTM", "GRU-reset_after", "GRU-reset_before"],
)
def test_float32_on_request(kind, weights, config, expected):
    trace = run_sequence(kind, X, weights, {"units": 1, **SEQ, **config}, dtype=np.float32)
    assert trace.outputs.dtype == np.float32
    assert trace.last_output.dtype == np.float32
    assert all(s.dtype == np.float32 for s in trace.states.values())
    assert all(s.dtype == np.float32 for s in trace.final_states)
    check(trace.outputs[0, :, 0], expected(), tol=1e-6)
    default = run_sequence(kind, X, weights, {"units": 1, **SEQ, **config})
    assert default.outputs.dtype == np.float64
