"""harness.target.buckets: padding a call to a shape bucket never changes the real rows and steps.

The padded call is run through the NumPy reference (TensorFlow's masked-step rule, and
JAX's, ``Conventions(mask="state")``): unpadded, its return equals the unpadded call's,
for forward and go_backwards layers, masks or none, initial states, return_sequences,
zero_output_for_mask, a stateful layer's fixed batch. ``tests/backends/test_jax_buckets.py`` does the same on real JAX.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.target.buckets import MIN_ROWS, MIN_STEPS, bucket, pad_call, rows_bucket, steps_bucket, unpad_return
from reference_cells import Conventions, run_sequence


def test_buckets_are_powers_of_two():
    assert [bucket(n) for n in (1, 2, 3, 4, 5, 8, 9, 33, 64)] == [1, 2, 4, 4, 8, 8, 16, 64, 64]


def test_row_and_step_buckets_are_coarse_with_a_floor():
    assert [rows_bucket(n) for n in (1, MIN_ROWS, MIN_ROWS + 1, 64)] == [MIN_ROWS, MIN_ROWS, 2 * MIN_ROWS, 64]
    assert [steps_bucket(n) for n in (1, MIN_STEPS, MIN_STEPS + 1, 4 * MIN_STEPS + 1)] == [
        MIN_STEPS, MIN_STEPS, 4 * MIN_STEPS, 16 * MIN_STEPS]


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("masked_output", ["keras", "state"])
def test_a_padded_call_returns_the_real_call_on_its_rows_and_steps(kind, masked_output):
    rng = np.random.default_rng(len(kind))
    conventions = Conventions(mask=masked_output)
    width = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind] * 4
    for backwards, seq, zero_output, use_mask, init, static_rows in itertools.product([False, True], repeat=6):
        rows, steps = int(rng.integers(1, 6)), int(rng.integers(1, 20))
        config = {"units": 4, "go_backwards": backwards, "return_sequences": seq, "return_state": True,
                  "zero_output_for_mask": zero_output}
        weights = [rng.standard_normal((3, width)), rng.standard_normal((4, width)), rng.standard_normal(
            (2, width) if kind == "GRU" else (width,))]
        x = rng.standard_normal((rows, steps, 3))
        mask = rng.random((rows, steps)) > 0.3 if use_mask else None
        states = [rng.standard_normal((rows, 4)) for _ in range(2 if kind == "LSTM" else 1)] if init else None

        def layer(x, mask, states):
            return run_sequence(kind, x, weights, config, mask=mask, initial_state=states,
                                conventions=conventions).layer_return()

        args, padding = pad_call(x, mask, states, static_time=False, backwards=backwards, static_rows=static_rows)
        assert args[0].shape[:2] == (rows if static_rows else rows_bucket(rows), steps_bucket(steps))
        got = unpad_return(layer(args[0], args[1], args[2:] or None), padding, sequences=seq)
        expected = layer(x, mask, states)
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
