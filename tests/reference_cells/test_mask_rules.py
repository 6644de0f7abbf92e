"""The masked-step rules a port may follow instead of Keras's: ``carry`` and ``blend``.

A 1-unit linear SimpleRNN (h_t = x_t*k + h_{t-1}*r + b) so every value is written out by hand.
"""

from __future__ import annotations

import numpy as np

from reference_cells import Conventions, run_sequence

K, R, B = 2.0, 0.5, 0.25
WEIGHTS = [np.array([[K]]), np.array([[R]]), np.array([B])]
X = np.array([[[1.0], [3.0], [-1.0]]])
MASK = np.array([[True, False, True]])


def _config(**extra):
    return {"units": 1, "activation": "linear", "use_bias": True, "return_sequences": True, **extra}


def _hand(zero_masked: bool) -> list[float]:
    h1 = 1.0 * K + 0.0 * R + B  # 2.25
    out2 = 0.0 if zero_masked else h1  # masked: state carried, output 0 or the previous output
    h3 = -1.0 * K + h1 * R + B  # uses h1: the state is carried over the masked step
    return [h1, out2, h3]


def test_carry_repeats_the_previous_output_even_with_zero_output_for_mask():
    keras = run_sequence("SimpleRNN", X, WEIGHTS, _config(zero_output_for_mask=True), mask=MASK).layer_return()
    carry = run_sequence("SimpleRNN", X, WEIGHTS, _config(zero_output_for_mask=True), mask=MASK,
                         conventions=Conventions(mask="carry")).layer_return()
    np.testing.assert_allclose(keras[0, :, 0], _hand(zero_masked=True), atol=1e-12)
    np.testing.assert_allclose(carry[0, :, 0], _hand(zero_masked=False), atol=1e-12)


def test_carry_is_keras_without_zero_output_for_mask():
    keras = run_sequence("SimpleRNN", X, WEIGHTS, _config(), mask=MASK).layer_return()
    carry = run_sequence("SimpleRNN", X, WEIGHTS, _config(), mask=MASK, conventions=Conventions(mask="carry")).layer_return()
    np.testing.assert_array_equal(keras, carry)


def test_blend_equals_the_select_while_both_branches_are_finite():
    keras = run_sequence("SimpleRNN", X, WEIGHTS, _config(), mask=MASK).layer_return()
    blend = run_sequence("SimpleRNN", X, WEIGHTS, _config(), mask=MASK, conventions=Conventions(mask="blend")).layer_return()
    np.testing.assert_allclose(blend[0, :, 0], _hand(zero_masked=False), atol=1e-12)
    np.testing.assert_allclose(blend, keras, atol=1e-12)


def test_blend_turns_a_float32_overflow_in_the_discarded_branch_into_nan():
    x = np.array([[[1.0], [1e39], [0.0]]])  # step 1 (masked) overflows float32: 2e39 > 3.4e38
    keras = run_sequence("SimpleRNN", x, WEIGHTS, _config(), mask=MASK).layer_return()[0, :, 0]
    blend = run_sequence("SimpleRNN", x, WEIGHTS, _config(), mask=MASK, conventions=Conventions(mask="blend")).layer_return()[0, :, 0]
    h1 = K + B
    assert keras[1] == h1 and np.isfinite(keras).all()  # Keras selects: the overflow is discarded
    assert blend[0] == h1
    assert np.isnan(blend[1])  # m*new + (1-m)*old = 0*2e39(inf in float32) + h1 = NaN
    assert np.isnan(blend[2])  # the NaN state is carried into the next step
