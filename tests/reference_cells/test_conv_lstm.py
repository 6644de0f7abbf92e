"""The ConvLSTM reference (``reference_cells.conv_lstm``) against real Keras and by hand.

* Property tests: Hypothesis draws ConvLSTM1D/2D/3D configs (kernel sizes 1-3,
  even ones with "same" padding, strides or dilation 1-2, both data formats
  where the CPU supports them, masks, initial states, go_backwards, unroll,
  return_sequences/return_state) with random per-gate weights and non-zero
  biases; float32 Keras must equal the float64 reference to 1e-5.
* The convolution helper against a per-pixel loop written in the test and
  against numbers worked out by hand (the odd "same" pad goes at the end).
* A 1x1 ConvLSTM1D is an LSTM at each position (``run_sequence``).
* The checks can fail: reading the gates as "ifoc", flipping the kernel (true
  convolution) or padding an even kernel at the start each move Keras's
  output by more than 1e-2.

Keras facts pinned here (Keras 3.15, TF 2.21 CPU): ConvLSTM layers accept a
``(B, T)`` mask and apply the RNN carry rule; ``channels_first`` raises
UnimplementedError for ConvLSTM1D/2D (TF's CPU Conv2D is NHWC only) but works
for ConvLSTM3D (Keras routes channels_first 3-D convs through XLA).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from harness.target.keras_env import import_keras
from reference_cells import Conventions, run_sequence
from reference_cells.conv_lstm import StatefulConvLSTM, conv_nd, conv_output_shape, run_conv_lstm

keras = import_keras()

ATOL = 1e-5  # float32 Keras against the float64 reference
FAR = 1e-2  # how far a wrong alternative must be
GATE_SCALES = (1.0, 0.8, 1.3, 0.9)  # per-gate kernel scales, i f c o: no two gate blocks alike
MAX_SPATIAL = {1: 7, 2: 6, 3: 4}  # rank 3 smaller: Keras's 3-D conv is the slow part

# TF CPU Conv1D/Conv2D kernels only take NHWC; Keras raises for these, so they are not drawn.
# channels_first: TF on CPU cannot run 1D/2D; 3D runs through XLA but compiles each new shape
# (~2 s), so the property test stays channels_last and test_channels_first_on_this_device covers it.
CPU_DATA_FORMATS = {1: ("channels_last",), 2: ("channels_last",), 3: ("channels_last",)}


# ------------------------------------------------------------------ helpers
def random_weights(
    rng: np.random.Generator, kernel_size: tuple[int, ...], channels: int, filters: int, *, use_bias: bool = True
) -> list[np.ndarray]:
    """Per-gate random kernel (*k, C, 4F), recurrent kernel (*k, F, 4F) and bias (4F,) with |b| >= 0.1, float32."""
    fan_x = math.prod(kernel_size) * channels
    fan_h = math.prod(kernel_size) * filters
    kernel = np.concatenate(
        [rng.uniform(-1.5, 1.5, (*kernel_size, channels, filters)) * s / math.sqrt(fan_x) for s in GATE_SCALES], axis=-1
    )
    recurrent = np.concatenate(
        [rng.uniform(-1.2, 1.2, (*kernel_size, filters, filters)) * s / math.sqrt(fan_h) for s in GATE_SCALES], axis=-1
    )
    weights = [kernel, recurrent]
    if use_bias:
        weights.append(rng.uniform(0.1, 0.6, 4 * filters) * rng.choice([-1.0, 1.0], 4 * filters))
    return [w.astype(np.float32) for w in weights]


def input_shape(batch: int, steps: int, spatial: tuple[int, ...], channels: int, data_format: str) -> tuple[int, ...]:
    if data_format == "channels_first":
        return (batch, steps, channels, *spatial)
    return (batch, steps, *spatial, channels)


def state_shape(batch: int, spatial: tuple[int, ...], filters: int, data_format: str) -> tuple[int, ...]:
    return (batch, filters, *spatial) if data_format == "channels_first" else (batch, *spatial, filters)


def keras_layer(rank: int, weights: list[np.ndarray], shape: tuple[int, ...], **config):
    """A built Keras ConvLSTM{rank}D holding ``weights``."""
    layer = getattr(keras.layers, f"ConvLSTM{rank}D")(**config)
    layer.build(shape)
    layer.set_weights(weights)
    return layer


def to_numpy(value):
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def max_diff(a, b) -> float:
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        return max(max_diff(u, v) for u, v in zip(a, b))
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.max(np.abs(a - b)))


def naive_conv(x: np.ndarray, w: np.ndarray, strides, padding: str, dilation) -> np.ndarray:
    """Per-output-position loops, straight from the definition (channels_last)."""
    rank = w.ndim - 2
    k = w.shape[:rank]
    spatial = x.shape[1:-1]
    if padding == "same":
        out_shape = [-(-n // s) for n, s in zip(spatial, strides)]
        pads = []
        for n, kk, s, d, m in zip(spatial, k, strides, dilation, out_shape):
            total = max((m - 1) * s + (kk - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    else:
        out_shape = [(n - (kk - 1) * d - 1) // s + 1 for n, kk, s, d in zip(spatial, k, strides, dilation)]
    out = np.zeros((x.shape[0], *out_shape, w.shape[-1]))
    for p in itertools.product(*(range(m) for m in out_shape)):
        for o in itertools.product(*(range(kk) for kk in k)):
            idx = tuple(pi * s + oi * d for pi, oi, s, d in zip(p, o, strides, dilation))
            out[(slice(None), *p)] += x[(slice(None), *idx)] @ w[o]
    return out


# ------------------------------------------------------------ Hypothesis
@st.composite
def conv_configs(draw: st.DrawFn, rank: int) -> dict:
    """A ConvLSTM layer config and the data shapes that fit it."""
    data_format = draw(st.sampled_from(CPU_DATA_FORMATS[rank]), label="data_format")
    padding = draw(st.sampled_from(["valid", "same"]), label="padding")
    kernel_size = tuple(draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="kernel_size"))
    # Keras forbids strides > 1 together with dilation > 1.
    if draw(st.booleans(), label="strided (else dilated)"):
        strides = tuple(draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank), label="strides"))
        dilation = (1,) * rank
    else:
        strides = (1,) * rank
        dilation = tuple(draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank), label="dilation_rate"))
    lowest = [(k - 1) * d + 1 if padding == "valid" else 1 for k, d in zip(kernel_size, dilation)]
    highest = [max(lo, MAX_SPATIAL[rank]) for lo in lowest]
    spatial = tuple(draw(st.integers(lo, hi), label=f"spatial[{i}]") for i, (lo, hi) in enumerate(zip(lowest, highest)))
    config = dict(
        filters=draw(st.integers(1, 4), label="filters"),
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        data_format=data_format,
        dilation_rate=dilation,
        activation=draw(st.sampled_from(["tanh", "softsign", "relu", "softmax"]), label="activation"),
        recurrent_activation=draw(st.sampled_from(["sigmoid", "hard_sigmoid"]), label="recurrent_activation"),
        use_bias=draw(st.booleans(), label="use_bias"),
        return_sequences=draw(st.booleans(), label="return_sequences"),
        return_state=draw(st.booleans(), label="return_state"),
        go_backwards=draw(st.booleans(), label="go_backwards"),
        unroll=draw(st.booleans(), label="unroll"),
        zero_output_for_mask=draw(st.booleans(), label="zero_output_for_mask"),
    )
    return dict(
        config=config,
        spatial=spatial,
        batch=draw(st.integers(1, 2), label="batch"),
        steps=draw(st.integers(1, 5), label="steps"),
        channels=draw(st.integers(1, 3), label="channels"),
        masked=draw(st.booleans(), label="masked"),
        initial_state=draw(st.booleans(), label="initial_state"),
        seed=draw(st.integers(0, 2**32 - 1), label="seed"),
    )


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2, 3])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_reference_matches_keras(rank: int, data: st.DataObject) -> None:
    case = data.draw(conv_configs(rank), label="case")
    config, spatial, batch, steps, channels = (case[k] for k in ("config", "spatial", "batch", "steps", "channels"))
    rng = np.random.default_rng(case["seed"])
    weights = random_weights(rng, config["kernel_size"], channels, config["filters"], use_bias=config["use_bias"])
    shape = input_shape(batch, steps, spatial, channels, config["data_format"])
    x = rng.standard_normal(shape).astype(np.float32)
    kwargs = {}
    if case["masked"]:
        kwargs["mask"] = rng.random((batch, steps)) < 0.7
    if case["initial_state"]:
        out_spatial = conv_output_shape(
            spatial, config["kernel_size"], config["strides"], config["padding"], config["dilation_rate"]
        )
        s_shape = state_shape(batch, out_spatial, config["filters"], config["data_format"])
        kwargs["initial_state"] = [rng.uniform(-0.9, 0.9, s_shape).astype(np.float32) for _ in range(2)]

    layer = keras_layer(rank, weights, shape, **config)
    got = to_numpy(layer(x, training=False, **kwargs))
    expected = run_conv_lstm(rank, x, weights, layer.get_config(), **kwargs).layer_return()
    err = max_diff(got, expected)
    note(f"max abs error {err:.3g}")
    assert err < ATOL, f"ConvLSTM{rank}D differs from the reference by {err:.3g}"


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_channels_first_on_this_device(rank: int) -> None:
    """Where Keras can run channels_first ConvLSTM (3D on CPU via XLA; 1D/2D not on TF CPU), it matches the reference."""
    rng = np.random.default_rng(7)
    spatial = (5,) * rank
    config = dict(filters=3, kernel_size=2, padding="same", data_format="channels_first", return_sequences=True)
    weights = random_weights(rng, (2,) * rank, 2, 3)
    x = rng.standard_normal(input_shape(2, 3, spatial, 2, "channels_first")).astype(np.float32)
    layer = keras_layer(rank, weights, x.shape, **config)
    try:
        got = to_numpy(layer(x, training=False))
    except Exception as exc:  # tf.errors.UnimplementedError: "Conv2D ... only supports NHWC ... on the CPU"
        if "NHWC" not in str(exc):
            raise
        pytest.skip(f"ConvLSTM{rank}D channels_first is not supported by TF on CPU")
    assert max_diff(got, run_conv_lstm(rank, x, weights, config).outputs) < ATOL


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2])
def test_stateful_layer_carries_states(rank: int) -> None:
    """Two calls of a stateful layer: the second starts from the first's final states."""
    rng = np.random.default_rng(11 + rank)
    spatial, batch = (5,) * rank, 2
    config = dict(filters=2, kernel_size=3, padding="same", stateful=True, return_sequences=True, return_state=True)
    weights = random_weights(rng, (3,) * rank, 2, 2)
    xs = [rng.standard_normal(input_shape(batch, 3, spatial, 2, "channels_last")).astype(np.float32) for _ in range(2)]
    layer = keras_layer(rank, weights, xs[0].shape, **config)
    reference = StatefulConvLSTM(rank, weights, layer.get_config())
    forgetful = StatefulConvLSTM(rank, weights, layer.get_config(), conventions=Conventions(state_carry="reset"))
    for call, x in enumerate(xs):
        got = to_numpy(layer(x, training=False))
        assert max_diff(got, reference(x).layer_return()) < ATOL, f"call {call}"
        wrong = forgetful(x).layer_return()
    assert max_diff(got, wrong) > FAR  # the second call really depends on the carried state


# ------------------------------------------------------- the conv helper
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_conv_nd_matches_per_pixel_loops(data: st.DataObject) -> None:
    rank = data.draw(st.integers(1, 3), label="rank")
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    k = tuple(data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank), label="kernel_size"))
    strides = tuple(data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="strides"))
    dilation = tuple(data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank), label="dilation"))
    lowest = [(kk - 1) * d + 1 if padding == "valid" else 1 for kk, d in zip(k, dilation)]
    spatial = tuple(data.draw(st.integers(lo, lo + 5), label=f"spatial[{i}]") for i, lo in enumerate(lowest))
    c_in, c_out = data.draw(st.integers(1, 3), label="c_in"), data.draw(st.integers(1, 3), label="c_out")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.standard_normal((2, *spatial, c_in))
    w = rng.standard_normal((*k, c_in, c_out))
    got = conv_nd(x, w, strides=strides, padding=padding, dilation_rate=dilation)
    assert got.shape[1:-1] == conv_output_shape(spatial, k, strides, padding, dilation)
    np.testing.assert_allclose(got, naive_conv(x, w, strides, padding, dilation), rtol=0, atol=1e-12)


def test_conv_nd_hand_values() -> None:
    """x = [1, 2, 3, 4], w = [10, 1]: cross-correlation, no flip, odd "same" pad at the end."""
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    w = np.array([10.0, 1.0]).reshape(2, 1, 1)

    def conv(**kw) -> list[float]:
        opts = dict(strides=(1,), padding="valid", dilation_rate=(1,)) | kw
        return conv_nd(x, w, **opts)[0, :, 0].tolist()

    assert conv() == [12.0, 23.0, 34.0]  # 10*x[p] + x[p+1]
    assert conv(padding="same") == [12.0, 23.0, 34.0, 40.0]  # pad (0, 1): 10*4 + 0
    assert conv(strides=(2,)) == [12.0, 34.0]
    assert conv(dilation_rate=(2,)) == [13.0, 24.0]  # 10*x[p] + x[p+2]
    assert conv(padding="same", strides=(2,)) == [12.0, 34.0]  # n_out 2, pad_total 0
    assert conv(padding="same", dilation_rate=(2,)) == [2.0, 13.0, 24.0, 30.0]  # k_eff 3, x_pad [0, 1, 2, 3, 4, 0]
    assert conv_output_shape((7, 5), (3, 2), (1, 1), "valid", (1, 2)) == (5, 3)
    assert conv_output_shape((7, 5), (3, 2), (2, 1), "same", (1, 1)) == (4, 5)
    with pytest.raises(ValueError, match="empty"):
        conv_output_shape((2,), (3,), (1,), "valid", (1,))


# -------------------------------------------------- reductions and checks
def test_1x1_conv_lstm_is_an_lstm_per_position() -> None:
    """With a 1x1 kernel every position is an independent LSTM over the channels."""
    rng = np.random.default_rng(3)
    batch, steps, width, channels, filters = 2, 4, 5, 3, 2
    weights = [w.astype(np.float64) for w in random_weights(rng, (1,), channels, filters)]
    x = rng.standard_normal((batch, steps, width, channels))
    mask = rng.random((batch, steps)) < 0.7
    h0, c0 = rng.uniform(-0.9, 0.9, (2, batch, width, filters))
    config = dict(filters=filters, kernel_size=1, padding="same", return_sequences=True, go_backwards=True)
    conv = run_conv_lstm(1, x, weights, config, mask=mask, initial_state=[h0, c0])

    # (B, T, W, C) -> (B*W, T, C): one LSTM sequence per (sample, position); the mask follows its sample.
    seq = x.transpose(0, 2, 1, 3).reshape(batch * width, steps, channels)
    lstm = run_sequence(
        "LSTM", seq, [weights[0][0], weights[1][0], weights[2]],
        dict(units=filters, return_sequences=True, go_backwards=True),
        mask=np.repeat(mask, width, axis=0),
        initial_state=[h0.reshape(batch * width, filters), c0.reshape(batch * width, filters)],
    )
    as_conv = lstm.outputs.reshape(batch, width, steps, filters).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(conv.outputs, as_conv, rtol=0, atol=1e-12)
    for name in ("h", "c"):
        per_position = lstm.states[name].reshape(batch, width, steps, filters).transpose(0, 2, 1, 3)
        np.testing.assert_allclose(conv.states[name], per_position, rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_channels_first_is_a_transpose_of_channels_last(data: st.DataObject) -> None:
    """Keras cannot check channels_first 1D/2D on CPU; the reference must at least agree with itself."""
    rank = data.draw(st.integers(1, 3), label="rank")
    case = data.draw(conv_configs(rank), label="case")
    config, spatial = case["config"], case["spatial"]
    rng = np.random.default_rng(case["seed"])
    weights = random_weights(
        rng, config["kernel_size"], case["channels"], config["filters"], use_bias=config["use_bias"]
    )
    x_last = rng.standard_normal(input_shape(case["batch"], case["steps"], spatial, case["channels"], "channels_last"))
    # tanh, not softmax: softmax acts on the last axis, which is a different axis in each format.
    last = run_conv_lstm(rank, x_last, weights, config | {"data_format": "channels_last", "activation": "tanh"})
    x_first = np.moveaxis(x_last, -1, 2)
    first = run_conv_lstm(rank, x_first, weights, config | {"data_format": "channels_first", "activation": "tanh"})
    np.testing.assert_allclose(np.moveaxis(first.outputs, 2, -1), last.outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.moveaxis(first.final_states[1], 1, -1), last.final_states[1], rtol=0, atol=1e-12)


def _keras_case(rank: int, kernel: int, seed: int, **config):
    rng = np.random.default_rng(seed)
    spatial = (6,) * rank
    config = dict(filters=3, kernel_size=kernel, return_sequences=True) | config
    weights = random_weights(rng, (kernel,) * rank, 2, 3)
    x = rng.standard_normal(input_shape(2, 4, spatial, 2, "channels_last")).astype(np.float32)
    got = to_numpy(keras_layer(rank, weights, x.shape, **config)(x, training=False))
    return x, weights, config, got


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2])
def test_gate_order_constant_is_used(rank: int) -> None:
    x, weights, config, got = _keras_case(rank, 3, 21, padding="same")
    assert max_diff(got, run_conv_lstm(rank, x, weights, config).outputs) < ATOL
    wrong = run_conv_lstm(rank, x, weights, config, conventions=Conventions(gate_order="ifoc")).outputs
    assert max_diff(got, wrong) > FAR


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2])
def test_true_convolution_would_differ(rank: int) -> None:
    """Keras cross-correlates: the reference with both kernels flipped in space is far from it."""
    x, weights, config, got = _keras_case(rank, 3, 31, padding="valid")
    assert max_diff(got, run_conv_lstm(rank, x, weights, config).outputs) < ATOL
    spatial_axes = tuple(range(rank))
    flipped = [np.flip(weights[0], spatial_axes), np.flip(weights[1], spatial_axes), weights[2]]
    assert max_diff(got, run_conv_lstm(rank, x, flipped, config).outputs) > FAR


@pytest.mark.keras
@pytest.mark.parametrize("rank", [1, 2])
def test_even_kernel_same_padding_puts_the_extra_pad_at_the_end(rank: int) -> None:
    """k=2 "same" pads (0, 1) per axis. Embedding w in a k=3 kernel (padded (1, 1)) as
    [0, w] reproduces that; [w, 0] is the port that pads (1, 0) and must be far off."""
    x, weights, config, got = _keras_case(rank, 2, 41, padding="same")
    assert max_diff(got, run_conv_lstm(rank, x, weights, config).outputs) < ATOL

    def embed(w: np.ndarray, at_end: bool) -> np.ndarray:
        pad = [(1, 0) if at_end else (0, 1)] * rank + [(0, 0), (0, 0)]
        return np.pad(w, pad)

    k3 = config | {"kernel_size": 3}
    tf_like = [embed(weights[0], True), embed(weights[1], True), weights[2]]
    pad_at_start = [embed(weights[0], False), embed(weights[1], False), weights[2]]
    assert max_diff(got, run_conv_lstm(rank, x, tf_like, k3).outputs) < ATOL
    assert max_diff(got, run_conv_lstm(rank, x, pad_at_start, k3).outputs) > FAR


@pytest.mark.keras
@pytest.mark.parametrize("unroll", [False, True])
def test_masks_follow_the_rnn_rules(unroll: bool) -> None:
    """ConvLSTM takes a (B, T) mask: states carried, the previous output repeated; with
    unroll + zero_output_for_mask + go_backwards the zeros land on the time-order positions
    (the TF quirk the reference mirrors, ``reference_cells/sequence.py``)."""
    mask = np.array([[True, True, False, True], [False, True, True, False]])  # reversed != itself
    base = dict(padding="same", go_backwards=True, unroll=unroll)
    rng = np.random.default_rng(51)
    weights = random_weights(rng, (2, 2), 2, 3)
    x = rng.standard_normal((2, 4, 5, 5, 2)).astype(np.float32)
    for zero_output in (False, True):
        config = dict(filters=3, kernel_size=2, return_sequences=True, zero_output_for_mask=zero_output) | base
        got = to_numpy(keras_layer(2, weights, x.shape, **config)(x, mask=mask, training=False))
        expected = run_conv_lstm(2, x, weights, config, mask=mask).outputs
        assert max_diff(got, expected) < ATOL, f"zero_output={zero_output}"
        ignored = run_conv_lstm(2, x, weights, config, mask=mask, conventions=Conventions(mask="ignore")).outputs
        assert max_diff(got, ignored) > FAR
        if zero_output and unroll:
            in_order = run_conv_lstm(2, x, weights, config, mask=mask, conventions=Conventions(mask="zeros")).outputs
            assert max_diff(got, in_order) > FAR


@pytest.mark.parametrize(
    "conventions",
    [
        Conventions(bias="none"),
        Conventions(bias="double"),
        Conventions(forget_bias=1.0),
        Conventions(kernel_layout="recurrent-transposed"),
        Conventions(activation="softsign"),
        Conventions(recurrent_activation="hard_sigmoid"),
        Conventions(initial_state="ones"),
        Conventions(time_direction="flipped"),
    ],
    ids=lambda c: c.describe(),
)
def test_each_port_convention_changes_the_result(conventions: Conventions) -> None:
    rng = np.random.default_rng(61)
    weights = random_weights(rng, (3, 2), 2, 3)
    x = rng.standard_normal((2, 4, 5, 4, 2))
    config = dict(filters=3, kernel_size=(3, 2), padding="same", return_sequences=True, go_backwards=True)
    keras_like = run_conv_lstm(2, x, weights, config).outputs
    assert max_diff(keras_like, run_conv_lstm(2, x, weights, config, conventions=conventions).outputs) > FAR


def test_float32_on_request_and_input_checks() -> None:
    rng = np.random.default_rng(5)
    weights = random_weights(rng, (2, 2), 2, 3)
    x = rng.standard_normal((1, 3, 4, 4, 2))
    config = dict(filters=3, kernel_size=2, return_state=True)
    t32 = run_conv_lstm(2, x, weights, config, dtype=np.float32)
    t64 = run_conv_lstm(2, x, weights, config)
    assert t32.outputs.dtype == np.float32 and t64.outputs.dtype == np.float64
    assert t64.outputs.shape == (1, 3, 3, 3, 3) and t64.final_states[1].shape == (1, 3, 3, 3)
    assert max_diff(t32.outputs, t64.outputs) < 1e-5
    with pytest.raises(ValueError, match="initial state must have shape"):
        run_conv_lstm(2, x, weights, config, initial_state=[np.zeros((1, 4, 4, 3))] * 2)
    with pytest.raises(ValueError, match="dilation_rate"):
        run_conv_lstm(2, x, weights, config | {"strides": 2, "dilation_rate": 2})
    with pytest.raises(ValueError, match="dimensions"):
        run_conv_lstm(1, x, weights, config)
    with pytest.raises(ValueError, match="channels"):
        run_conv_lstm(2, x[..., :1], weights, config)
