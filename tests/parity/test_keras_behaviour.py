"""Pin the Keras 3 behaviours that hand ports most often get wrong.

Each test builds a real Keras layer (TF backend, generic loop on CPU) with
random, non-constant weights and non-zero biases, checks that Keras equals
the NumPy reference (``reference_cells.run_sequence``) to ~1e-5, and checks
that the plausible wrong alternative - the reference run with the mistaken
``Conventions`` - is more than 1e-2 away, so each test could fail if Keras or
the reference changed. See ``../shared/keras-rnn-semantics.md`` §1 and §3.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.target.keras_env import import_keras
from reference_cells import Conventions, StatefulSequence, run_sequence

keras = import_keras()

pytestmark = pytest.mark.keras

ATOL = 1e-5  # float32 Keras against the float64 reference
FAR = 1e-2  # how far the wrong alternative must be
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
KINDS = ["SimpleRNN", "LSTM", "GRU"]


# ------------------------------------------------------------------ helpers
def random_weights(kind: str, units: int, features: int, seed: int, *, reset_after: bool = True) -> list[np.ndarray]:
    """Per-gate random kernel, recurrent kernel and non-zero bias, float32."""
    rng = np.random.default_rng(seed)
    g = GATES[kind]
    kernel = rng.uniform(-0.8, 0.8, (features, g * units))
    recurrent = rng.uniform(-0.6, 0.6, (units, g * units))
    shape = (2, g * units) if kind == "GRU" and reset_after else (g * units,)
    bias = rng.uniform(0.1, 0.6, shape) * rng.choice([-1.0, 1.0], shape)  # |b| >= 0.1
    return [w.astype(np.float32) for w in (kernel, recurrent, bias)]


def random_inputs(batch: int, steps: int, features: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1000).standard_normal((batch, steps, features)).astype(np.float32)


def random_states(kind: str, batch: int, units: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 2000)
    n = 2 if kind == "LSTM" else 1
    return [rng.uniform(-0.9, 0.9, (batch, units)).astype(np.float32) for _ in range(n)]


def keras_layer(kind: str, weights: list[np.ndarray], features: int, *, batch: int | None = None, **config):
    """A built Keras layer holding ``weights`` (static batch only for stateful layers)."""
    layer = getattr(keras.layers, kind)(**config)
    layer.build((batch, None, features))
    layer.set_weights(weights)
    return layer


def to_numpy(value):
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def assert_matches_not(keras_out, reference_out, wrong_out) -> None:
    """Keras equals the reference and is far from the plausible-wrong alternative."""
    err = max_diff(keras_out, reference_out)
    assert err < ATOL, f"Keras differs from the reference by {err:.3g}"
    gap = max_diff(keras_out, wrong_out)
    assert gap > FAR, f"the wrong alternative is only {gap:.3g} from Keras; the test cannot tell them apart"


# ------------------------------------------------------------- go_backwards
@pytest.mark.parametrize("kind", KINDS)
def test_go_backwards_returns_processing_order(kind):
    """``outputs[:, 0]`` is the step that read ``x[:, T-1]``; Keras does not flip back."""
    units, features, seed = 4, 3, 11
    weights = random_weights(kind, units, features, seed)
    x = random_inputs(2, 7, features, seed)
    config = {"units": units, "go_backwards": True, "return_sequences": True}
    out = to_numpy(keras_layer(kind, weights, features, **config)(x))

    ref = run_sequence(kind, x, weights, config)
    flipped = run_sequence(kind, x, weights, config, conventions=Conventions(time_direction="flipped"))
    assert_matches_not(out, ref.outputs, flipped.outputs)
    # the processing-order first output is one step over the last input
    first_step = run_sequence(kind, x[:, -1:], weights, {"units": units})
    assert max_diff(out[:, 0], first_step.last_output) < ATOL


# -------------------------------------------------------------------- masks
# Row 0: left padding (the TF and JAX rules differ here with a non-zero h0);
# row 1: a gap in the middle; row 2: right padding.
MASK = np.array(
    [
        [False, False, False, True, True, True, True, True],
        [True, True, False, False, True, True, True, True],
        [True, True, True, True, True, False, False, False],
    ]
)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_steps_repeat_previous_output_on_tf(kind):
    """TF generic loop: masked steps emit the previous emitted output, 0 before
    the first valid step, even with a non-zero ``initial_state``. JAX/numpy's
    lax.scan rule (``Conventions(mask='state')``) emits ``h0`` there instead."""
    units, features, seed = 5, 3, 21
    weights = random_weights(kind, units, features, seed)
    x = random_inputs(3, 8, features, seed)
    h0 = random_states(kind, 3, units, seed)
    config = {"units": units, "return_sequences": True}
    out = to_numpy(keras_layer(kind, weights, features, **config)(x, mask=MASK, initial_state=h0))

    ref = run_sequence(kind, x, weights, config, mask=MASK, initial_state=h0)
    state_rule = run_sequence(kind, x, weights, config, mask=MASK, initial_state=h0, conventions=Conventions(mask="state"))
    assert_matches_not(out, ref.outputs, state_rule.outputs)
    assert np.all(out[0, :3] == 0.0)  # nothing emitted yet
    np.testing.assert_array_equal(out[1, 2], out[1, 1])  # gap repeats the previous output
    np.testing.assert_array_equal(out[1, 3], out[1, 1])
    np.testing.assert_array_equal(out[2, 5:], np.repeat(out[2, 4:5], 3, axis=0))  # right padding


@pytest.mark.parametrize("kind", KINDS)
def test_zero_output_for_mask_gives_zeros(kind):
    units, features, seed = 5, 3, 31
    weights = random_weights(kind, units, features, seed)
    x = random_inputs(3, 8, features, seed)
    h0 = random_states(kind, 3, units, seed)
    config = {"units": units, "return_sequences": True, "zero_output_for_mask": True}
    out = to_numpy(keras_layer(kind, weights, features, **config)(x, mask=MASK, initial_state=h0))

    ref = run_sequence(kind, x, weights, config, mask=MASK, initial_state=h0)
    previous = run_sequence(kind, x, weights, {**config, "zero_output_for_mask": False}, mask=MASK, initial_state=h0)
    assert_matches_not(out, ref.outputs, previous.outputs)
    assert np.all(out[~MASK] == 0.0)
    assert np.all(np.abs(out[MASK]) > 0.0)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_final_state_is_last_valid_state(kind):
    """Returned states are the states after the last valid step (carried through padding)."""
    units, features, seed = 4, 2, 41
    weights = random_weights(kind, units, features, seed)
    x = random_inputs(3, 8, features, seed)
    config = {"units": units, "return_state": True}
    returned = to_numpy(keras_layer(kind, weights, features, **config)(x, mask=MASK))

    ref = run_sequence(kind, x, weights, config, mask=MASK).layer_return()
    unmasked = run_sequence(kind, x, weights, config).layer_return()
    assert len(returned) == len(ref) == (3 if kind == "LSTM" else 2)
    for k, (got, want) in enumerate(zip(returned, ref)):
        assert max_diff(got, want) < ATOL, f"return value {k}"
    assert max_diff(returned[1], unmasked[1]) > FAR
    # right-padded row: the state equals one call over its valid prefix
    prefix = run_sequence(kind, x[2:, :5], weights, {"units": units})
    assert max_diff(returned[1][2], prefix.final_states[0][0]) < ATOL


# ----------------------------------------------------------------- stateful
@pytest.mark.parametrize("kind", KINDS)
def test_stateful_carry_and_reset(kind):
    """Two calls equal one call over the concatenation; after ``reset_states()``
    the layer starts from zeros again, like a fresh run."""
    units, features, batch, seed = 4, 3, 2, 51
    weights = random_weights(kind, units, features, seed)
    x = random_inputs(batch, 10, features, seed)
    config = {"units": units, "return_sequences": True, "stateful": True}
    layer = keras_layer(kind, weights, features, batch=batch, **config)
    first = to_numpy(layer(x[:, :6]))
    second = to_numpy(layer(x[:, 6:]))
    carried = np.concatenate([first, second], axis=1)

    whole = run_sequence(kind, x, weights, config)
    forgetful = StatefulSequence(kind, weights, config, conventions=Conventions(state_carry="reset"))
    forgot = np.concatenate([forgetful(x[:, :6]).outputs, forgetful(x[:, 6:]).outputs], axis=1)
    assert_matches_not(carried, whole.outputs, forgot)

    ref_layer = StatefulSequence(kind, weights, config)
    ref_carried = np.concatenate([ref_layer(x[:, :6]).outputs, ref_layer(x[:, 6:]).outputs], axis=1)
    assert max_diff(carried, ref_carried) < ATOL

    layer.reset_states()
    after_reset = to_numpy(layer(x[:, 6:]))
    fresh = run_sequence(kind, x[:, 6:], weights, config)
    assert_matches_not(after_reset, fresh.outputs, second)


# ------------------------------------------- automatic mask + initial_state
def _masked_inputs(batch: int, steps: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = random_inputs(batch, steps, features, seed)
    mask = np.ones((batch, steps), dtype=bool)
    mask[0, 6:] = False  # right padding
    mask[1, 2:4] = False  # gap
    x[~mask] = 0.0  # what Masking(mask_value=0.) detects
    return x, mask


def _lstm_weights(units, features, seed):
    return random_weights("LSTM", units, features, seed)


def test_automatic_mask_is_dropped_when_initial_state_is_passed():
    """Keras 3 does not pass the automatic mask (``Masking`` here) to an RNN
    called with ``initial_state`` tensors: ``Layer.__call__`` fills ``mask``
    only when the call has a single tensor argument (semantics §3.2). The
    output equals the UNMASKED computation. tf-keras 2 applied the mask.

    The harness mirrors Keras here: it passes masks explicitly and treats
    "mask + initial_state through an automatic mask" as unmasked, i.e. the
    reference for this graph is ``run_sequence(mask=None)`` (equivalently
    ``Conventions(mask='ignore')``), not the masked result.
    """
    units, features, steps, seed = 4, 3, 9, 61
    weights = _lstm_weights(units, features, seed)
    x, mask = _masked_inputs(2, steps, features, seed)
    h0, c0 = random_states("LSTM", 2, units, seed)

    inp = keras.Input((steps, features))
    h_in, c_in = keras.Input((units,)), keras.Input((units,))
    masked = keras.layers.Masking(mask_value=0.0)(inp)
    lstm = keras.layers.LSTM(units, return_sequences=True)
    out = lstm(masked, initial_state=[h_in, c_in])
    model = keras.Model([inp, h_in, c_in], out)
    lstm.set_weights(weights)
    got = to_numpy(model([x, h0, c0], training=False))

    config = {"units": units, "return_sequences": True}
    unmasked = run_sequence("LSTM", x, weights, config, initial_state=[h0, c0])
    ignored = run_sequence("LSTM", x, weights, config, mask=mask, initial_state=[h0, c0], conventions=Conventions(mask="ignore"))
    masked_ref = run_sequence("LSTM", x, weights, config, mask=mask, initial_state=[h0, c0])
    assert_matches_not(got, unmasked.outputs, masked_ref.outputs)
    assert max_diff(got, ignored.outputs) < ATOL

    # An explicit mask= argument is applied even with initial_state.
    explicit = to_numpy(lstm(x, mask=mask, initial_state=[h0, c0]))
    assert_matches_not(explicit, masked_ref.outputs, unmasked.outputs)


def test_automatic_mask_is_applied_without_initial_state():
    units, features, steps, seed = 4, 3, 9, 61
    weights = _lstm_weights(units, features, seed)
    x, mask = _masked_inputs(2, steps, features, seed)

    inp = keras.Input((steps, features))
    masked = keras.layers.Masking(mask_value=0.0)(inp)
    lstm = keras.layers.LSTM(units, return_sequences=True)
    model = keras.Model(inp, lstm(masked))
    lstm.set_weights(weights)
    got = to_numpy(model(x, training=False))

    config = {"units": units, "return_sequences": True}
    masked_ref = run_sequence("LSTM", x, weights, config, mask=mask)
    unmasked = run_sequence("LSTM", x, weights, config)
    assert_matches_not(got, masked_ref.outputs, unmasked.outputs)


# --------------------------------------------------------- layout defaults
def test_gru_reset_after_default_and_bias_rows():
    """Keras 3 GRU defaults to reset_after=True with a (2, 3U) bias: row 0 on
    the input side, row 1 inside ``r * (h @ R + b_rec)``."""
    units, features, seed = 5, 3, 71
    default = keras.layers.GRU(units)
    default.build((None, None, features))
    assert default.cell.reset_after is True
    assert default.get_config()["reset_after"] is True
    assert [w.shape for w in default.get_weights()] == [(features, 3 * units), (units, 3 * units), (2, 3 * units)]

    weights = random_weights("GRU", units, features, seed)
    x = random_inputs(2, 8, features, seed)
    h0 = random_states("GRU", 2, units, seed)
    config = {"units": units, "return_sequences": True}
    out = to_numpy(keras_layer("GRU", weights, features, **config)(x, initial_state=h0))

    ref = run_sequence("GRU", x, weights, config, initial_state=h0)
    for wrong in (
        Conventions(gru_bias="input-side"),  # recurrent row outside r * (...)
        Conventions(gru_bias="drop-recurrent"),  # recurrent row lost
        Conventions(gru_reset="before"),  # reset_after=False maths
    ):
        alt = run_sequence("GRU", x, weights, config, initial_state=h0, conventions=wrong)
        assert_matches_not(out, ref.outputs, alt.outputs)


def test_lstm_state_order_is_h_then_c():
    """``return_state`` gives ``[out, h, c]``; without a mask ``h == out[:, -1]``."""
    units, features, seed = 6, 3, 81
    weights = random_weights("LSTM", units, features, seed)
    x = random_inputs(3, 10, features, seed)
    config = {"units": units, "return_sequences": True, "return_state": True}
    out, h, c = to_numpy(keras_layer("LSTM", weights, features, **config)(x))

    ref = run_sequence("LSTM", x, weights, config)
    assert max_diff(out, ref.outputs) < ATOL
    np.testing.assert_array_equal(h, out[:, -1])
    assert_matches_not(h, ref.final_states[0], ref.final_states[1])
    assert_matches_not(c, ref.final_states[1], ref.final_states[0])
    assert max_diff(h, c) > FAR
