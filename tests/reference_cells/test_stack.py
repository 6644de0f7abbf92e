"""reference_cells.stack: many draws in one time loop give each draw's run_sequence, bit for bit.

Every SimpleRNN/LSTM/GRU loop option (go_backwards, zero_output_for_mask, unroll,
masks, initial states, GRU reset placement), float64 and float32, draws of
different batch sizes and lengths in one call. The tolerance is 0: the stacked
loop must reproduce the per-draw numbers exactly (its docstring says why it can).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference_cells import run_sequence
from reference_cells.stack import Draw, run_sequence_stack

GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
LOOP_OPTIONS = list(itertools.product([False, True], repeat=5))  # go_backwards, zero_output, unroll, mask, init


def _draws(kind: str, units: int, features: int, *, mask: bool, init: bool, reset_after: bool,
           rng: np.random.Generator, count: int = 6) -> list[Draw]:
    width = GATES[kind] * units
    draws = []
    for _ in range(count):
        batch, steps = int(rng.integers(1, 5)), int(rng.integers(1, 12))
        bias = (2, width) if kind == "GRU" and reset_after else (width,)
        weights = [rng.standard_normal((features, width)), rng.standard_normal((units, width)) * 0.6,
                   rng.standard_normal(bias)]
        states = [rng.standard_normal((batch, units)) for _ in range(2 if kind == "LSTM" else 1)] if init else None
        draws.append(Draw(rng.standard_normal((batch, steps, features)) * 2, weights,
                          rng.random((batch, steps)) > 0.3 if mask else None, states))
    return draws


def _assert_identical(expected, got) -> None:
    assert got.outputs.dtype == expected.outputs.dtype
    np.testing.assert_array_equal(got.outputs, expected.outputs)
    np.testing.assert_array_equal(got.last_output, expected.last_output)
    assert got.states.keys() == expected.states.keys()
    for name in expected.states:
        np.testing.assert_array_equal(got.states[name], expected.states[name])
    for a, b in zip(got.final_states, expected.final_states, strict=True):
        np.testing.assert_array_equal(a, b)
    assert got.layer_return().__class__ is expected.layer_return().__class__


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind,reset_after", [("SimpleRNN", True), ("LSTM", True), ("GRU", True), ("GRU", False)])
def test_stacked_draws_equal_each_draw_alone_bit_for_bit(kind, reset_after, dtype):
    rng = np.random.default_rng([len(kind), reset_after, np.dtype(dtype).itemsize])
    for backwards, zero_output, unroll, mask, init in LOOP_OPTIONS:
        units = int(rng.integers(1, 20))
        config = {"units": units, "go_backwards": backwards, "zero_output_for_mask": zero_output, "unroll": unroll,
                  "return_sequences": bool(rng.integers(2)), "return_state": True, "reset_after": reset_after,
                  "activation": "tanh", "recurrent_activation": "sigmoid"}
        draws = _draws(kind, units, int(rng.integers(1, 6)), mask=mask, init=init, reset_after=reset_after, rng=rng)
        for draw, got in zip(draws, run_sequence_stack(kind, config, draws, dtype=dtype), strict=True):
            expected = run_sequence(kind, draw.x, draw.weights, config, mask=draw.mask,
                                    initial_state=draw.initial_state, dtype=dtype)
            _assert_identical(expected, got)


def test_draws_with_and_without_a_mask_share_a_stack():
    rng = np.random.default_rng(3)
    config = {"units": 5, "zero_output_for_mask": True, "unroll": True, "return_sequences": True}
    draws = _draws("LSTM", 5, 3, mask=True, init=False, reset_after=True, rng=rng)
    draws[1] = Draw(draws[1].x, draws[1].weights, None, None)
    for draw, got in zip(draws, run_sequence_stack("LSTM", config, draws)):
        _assert_identical(run_sequence("LSTM", draw.x, draw.weights, config, mask=draw.mask), got)


def test_bad_input_is_refused_as_run_sequence_refuses_it():
    draw = Draw(np.zeros((2, 3, 4)), [np.zeros((4, 5)), np.zeros((5, 5)), np.zeros(5)], mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="mask must have shape"):
        run_sequence_stack("SimpleRNN", {"units": 5}, [draw])
