"""reference_cells.stacked against real Keras 3 (TF backend): stacked cells and layer stacks.

* ``keras.layers.RNN([cells])`` / ``RNN(StackedRNNCells([...]))`` over any
  combination of SimpleRNN/LSTM/GRU cells: outputs and the nested
  ``[out, [h1, c1], [h2], ...]`` return value, with masks, go_backwards,
  unroll, zero_output_for_mask and nested initial states.
* Sequential stacks as users write them (``Masking`` then LSTM/GRU layers
  with ``return_sequences=True`` feeding the next), where the mask reaches
  every layer: a 2-layer LSTM, a 3-layer GRU, a Bidirectional stack.

Random per-gate weights with non-zero biases; float32 Keras vs the float64
reference to 1e-5.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.target.keras_env import import_keras
from reference_cells.sequence import run_sequence
from reference_cells.stacked import run_layer_stack, run_stacked_cells, split_stacked_weights

pytestmark = pytest.mark.keras

TOL = 1e-5
BUG = 1e-2
KINDS = ("SimpleRNN", "LSTM", "GRU")
SETTINGS = settings(max_examples=10, deadline=None)


def _normalise(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return np.asarray(value, dtype=np.float64)


def _structure(value: Any) -> Any:
    """Nesting and shapes only (tuples and lists alike)."""
    if isinstance(value, (list, tuple)):
        return [_structure(v) for v in value]
    return tuple(np.shape(value))


def _max_err(keras_value: Any, ref_value: Any) -> float:
    k, r = _normalise(keras_value), _normalise(ref_value)
    assert _structure(k) == _structure(r), f"structure {_structure(k)} vs {_structure(r)}"
    if isinstance(k, list):
        return max((_max_err(a, b) for a, b in zip(k, r)), default=0.0)
    return float(np.abs(k - r).max()) if k.size else 0.0


def _randomise(layer, rng: np.random.Generator, scale: float = 0.5) -> list[np.ndarray]:
    """Independent N(0, scale) entries: gate blocks differ, biases non-zero."""
    weights = [rng.normal(0.0, scale, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def _padding_mask(data: st.DataObject, batch: int, steps: int, styles=("none", "right", "left", "random")) -> np.ndarray | None:
    style = data.draw(st.sampled_from(styles), label="mask style")
    if style == "none":
        return None
    if style == "random":
        rows = data.draw(st.lists(st.lists(st.booleans(), min_size=steps, max_size=steps), min_size=batch, max_size=batch), label="mask")
        return np.array(rows, dtype=bool)
    lengths = data.draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch), label="valid lengths")
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
    return np.ascontiguousarray(mask[:, ::-1] if style == "left" else mask)


def _cell(keras, kind: str, units: int, reset_after: bool = True):
    layers = keras.layers
    if kind == "GRU":
        return layers.GRUCell(units, reset_after=reset_after)
    return getattr(layers, f"{kind}Cell")(units)


# --- RNN([cells]) --------------------------------------------------------------


@given(data=st.data())
@SETTINGS
def test_rnn_over_stacked_cells_matches_keras(data: st.DataObject) -> None:
    keras = import_keras()
    kinds = data.draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3), label="cells")
    units = [data.draw(st.integers(1, 5), label=f"units[{i}]") for i in range(len(kinds))]
    cells = [_cell(keras, k, u, data.draw(st.booleans(), label=f"reset_after[{i}]") if k == "GRU" else True) for i, (k, u) in enumerate(zip(kinds, units))]
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(1, 8), label="timesteps")
    features = data.draw(st.integers(1, 4), label="features")
    options = {key: data.draw(st.booleans(), label=key) for key in ("return_sequences", "return_state", "go_backwards", "unroll", "zero_output_for_mask")}
    wrapper = data.draw(st.sampled_from(["list", "StackedRNNCells"]), label="wrapper")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, features)).astype(np.float32)
    mask = _padding_mask(data, batch, steps)
    init = None
    if data.draw(st.booleans(), label="initial_state"):
        init = []
        for i, (kind, u) in enumerate(zip(kinds, units)):
            states = [rng.normal(0.0, 1.0, (batch, u)).astype(np.float32) for _ in range(2 if kind == "LSTM" else 1)]
            # A single-state cell's entry may be a bare tensor; its returned state is then bare too.
            bare = len(states) == 1 and data.draw(st.booleans(), label=f"bare initial_state[{i}]")
            init.append(states[0] if bare else states)

    cell_arg = cells if wrapper == "list" else keras.layers.StackedRNNCells(cells)
    rnn = keras.layers.RNN(cell_arg, **options)
    rnn.build(x.shape)
    weights = _randomise(rnn, rng)
    kwargs: dict[str, Any] = {}
    if mask is not None:
        kwargs["mask"] = mask
    if init is not None:
        kwargs["initial_state"] = init
    configs = [c.get_config() for c in cells]

    def run():
        per_cell = split_stacked_weights(kinds, weights, configs)
        return run_stacked_cells(kinds, x, per_cell, configs, rnn.get_config(), mask=mask, initial_state=init)

    try:
        expected = rnn(x, **kwargs)
    except Exception as exc:  # Keras fails on some single-cell stacks; the reference must refuse too
        assert len(cells) == 1, exc
        with pytest.raises(ValueError, match="Keras 3.15.1"):
            run()
        return
    got = run().layer_return()
    assert _max_err(expected, got) < TOL
    if options["return_state"]:
        assert len(got) == 1 + len(cells)
        for entry, kind, u in zip(got[1:], kinds, units):
            if isinstance(entry, list):
                assert [s.shape for s in entry] == [(batch, u)] * (2 if kind == "LSTM" else 1)


def test_return_state_nesting_is_one_list_per_cell() -> None:
    keras = import_keras()
    layers = keras.layers
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (2, 5, 3)).astype(np.float32)
    for kinds, units in ((["LSTM", "SimpleRNN", "GRU"], [3, 2, 4]), (["LSTM"], [3]), (["GRU"], [2])):
        cells = [_cell(keras, k, u) for k, u in zip(kinds, units)]
        rnn = layers.RNN(cells, return_state=True)
        rnn.build(x.shape)
        weights = _randomise(rnn, rng)
        configs = [c.get_config() for c in cells]
        got = run_stacked_cells(kinds, x, split_stacked_weights(kinds, weights, configs), configs, rnn.get_config()).layer_return()
        expected = rnn(x)
        want = [(2, units[-1])] + [[(2, u)] * (2 if k == "LSTM" else 1) for k, u in zip(kinds, units)]
        assert _structure(expected) == _structure(got) == want  # e.g. [out, [h1, c1], [h2], [h3]]
        assert _max_err(expected, got) < TOL
        np.testing.assert_array_equal(got[0], got[-1][0])  # no mask: output is the last cell's h


@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "mask"])
@pytest.mark.parametrize("unroll", [False, True], ids=["loop", "unroll"])
@pytest.mark.parametrize(
    "kind, bare",
    [("SimpleRNN", False), ("SimpleRNN", True), ("GRU", False), ("GRU", True), ("LSTM", False)],  # LSTM's h0 is 2 tensors
    ids=["SimpleRNN-list", "SimpleRNN-bare", "GRU-list", "GRU-bare", "LSTM-list"],
)
def test_single_cell_stack_quirks(kind: str, bare: bool, unroll: bool, masked: bool) -> None:
    """RNN([one cell]): Keras's structure - or its failure - depends on unroll, mask and how h0 is passed."""
    keras = import_keras()
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, (2, 4, 3)).astype(np.float32)
    cell = _cell(keras, kind, 3)
    rnn = keras.layers.RNN([cell], return_sequences=True, return_state=True, unroll=unroll)
    rnn.build(x.shape)
    weights = _randomise(rnn, rng)
    states = [rng.normal(0.0, 1.0, (2, 3)).astype(np.float32) for _ in range(2 if kind == "LSTM" else 1)]
    init = [states[0] if bare else states]
    mask = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], bool) if masked else None
    kwargs = {"initial_state": init, **({"mask": mask} if masked else {})}
    try:
        expected = rnn(x, **kwargs)
    except Exception:
        expected = None

    def run():
        return run_stacked_cells([kind], x, [weights], [cell.get_config()], rnn.get_config(), mask=mask, initial_state=init)

    if expected is None:
        assert not bare and (masked != unroll)  # the two failing combinations
        with pytest.raises(ValueError, match="Keras 3.15.1"):
            run()
    else:
        assert _max_err(expected, run().layer_return()) < TOL


@given(data=st.data())
@SETTINGS
def test_stacked_cells_equal_the_same_layers_stacked_without_mask(data: st.DataObject) -> None:
    """Without a mask RNN([c1, c2]) computes what LSTM(rs=True) -> GRU computes (per-step composition)."""
    batch = data.draw(st.integers(1, 3), label="batch")
    steps = data.draw(st.integers(1, 8), label="timesteps")
    u1, u2 = data.draw(st.integers(1, 5), label="units 1"), data.draw(st.integers(1, 5), label="units 2")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.normal(0.0, 1.0, (batch, steps, 3))
    w1 = [rng.normal(0, 0.5, s) for s in ((3, 4 * u1), (u1, 4 * u1), (4 * u1,))]
    w2 = [rng.normal(0, 0.5, s) for s in ((u1, 3 * u2), (u2, 3 * u2), (2, 3 * u2))]
    stacked = run_stacked_cells(["LSTM", "GRU"], x, [w1, w2], [{"units": u1}, {"units": u2}], {"return_sequences": True})
    layered = run_layer_stack([("LSTM", w1, {"units": u1, "return_sequences": True}), ("GRU", w2, {"units": u2, "return_sequences": True})], x)
    np.testing.assert_allclose(stacked.outputs, layered.layer_return(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(stacked.states[0]["c"], layered.layers[0].states["c"], rtol=0, atol=1e-12)


# --- Sequential stacks of layers ------------------------------------------------


def _padded_inputs(data: st.DataObject, rng: np.random.Generator, batch: int, steps: int, features: int):
    """Inputs with padded steps set to 0 and the mask ``Masking(0.0)`` derives from them."""
    x = rng.normal(0.0, 1.0, (batch, steps, features)).astype(np.float32)
    mask = _padding_mask(data, batch, steps, ("none", "right", "left"))
    if mask is None:
        return x, None
    x = np.where(mask[:, :, None], x, np.float32(0))
    return x, mask


def _sequential(keras, steps: int, features: int, layers: list, masking: bool):
    head = [keras.Input((steps, features))] + ([keras.layers.Masking(0.0)] if masking else [])
    return keras.Sequential(head + layers)


@given(data=st.data())
@SETTINGS
def test_two_layer_lstm_stack(data: st.DataObject) -> None:
    keras = import_keras()
    batch, steps = data.draw(st.integers(1, 3), label="batch"), data.draw(st.integers(1, 8), label="timesteps")
    u1, u2 = data.draw(st.integers(1, 5), label="units 1"), data.draw(st.integers(1, 5), label="units 2")
    last_sequences = data.draw(st.booleans(), label="last return_sequences")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, mask = _padded_inputs(data, rng, batch, steps, 3)
    l1 = keras.layers.LSTM(u1, return_sequences=True)
    l2 = keras.layers.LSTM(u2, return_sequences=last_sequences)
    model = _sequential(keras, steps, 3, [l1, l2], masking=mask is not None)
    specs = [("LSTM", _randomise(layer, rng), layer.get_config()) for layer in (l1, l2)]

    trace = run_layer_stack(specs, x, mask)
    assert _max_err(model(x), trace.layer_return()) < TOL
    assert _max_err(l1(x, mask=mask), trace.layers[0].layer_return()) < TOL  # the intermediate sequence too
    assert all(m is mask for m in trace.masks)  # the same mask reached both layers


@given(data=st.data())
@SETTINGS
def test_three_layer_gru_stack(data: st.DataObject) -> None:
    """3 GRU layers; go_backwards drawn per layer: the mask passed on is never reversed (Keras)."""
    keras = import_keras()
    batch, steps = data.draw(st.integers(1, 3), label="batch"), data.draw(st.integers(1, 8), label="timesteps")
    layers = []
    for i in range(3):
        layers.append(
            keras.layers.GRU(
                data.draw(st.integers(1, 5), label=f"units[{i}]"),
                return_sequences=i < 2 or data.draw(st.booleans(), label="last return_sequences"),
                go_backwards=data.draw(st.booleans(), label=f"go_backwards[{i}]"),
                reset_after=data.draw(st.booleans(), label=f"reset_after[{i}]"),
            )
        )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, mask = _padded_inputs(data, rng, batch, steps, 2)
    model = _sequential(keras, steps, 2, layers, masking=mask is not None)
    specs = [("GRU", _randomise(layer, rng), layer.get_config()) for layer in layers]
    assert _max_err(model(x), run_layer_stack(specs, x, mask).layer_return()) < TOL


@given(data=st.data())
@SETTINGS
def test_bidirectional_stack(data: st.DataObject) -> None:
    keras = import_keras()
    batch, steps = data.draw(st.integers(1, 3), label="batch"), data.draw(st.integers(1, 8), label="timesteps")
    u1, u2 = data.draw(st.integers(1, 5), label="units 1"), data.draw(st.integers(1, 5), label="units 2")
    merge_mode = data.draw(st.sampled_from(["concat", "sum", "mul", "ave"]), label="merge_mode")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, mask = _padded_inputs(data, rng, batch, steps, 3)
    b1 = keras.layers.Bidirectional(keras.layers.LSTM(u1, return_sequences=True), merge_mode=merge_mode)
    b2 = keras.layers.Bidirectional(keras.layers.GRU(u2))
    model = _sequential(keras, steps, 3, [b1, b2], masking=mask is not None)
    specs = [("Bidirectional", _randomise(b, rng), b.get_config()) for b in (b1, b2)]
    assert _max_err(model(x), run_layer_stack(specs, x, mask).layer_return()) < TOL


# --- mask propagation: Keras's behaviour, and the port bugs it rules out -------
#
# How large a mis-propagated mask's error is depends on the weights (a
# contractive stack barely moves when its last input is repeated), so the
# Hypothesis tests check that the reference matches Keras, and fixed,
# realistic cases check that the plausible port bugs differ by more than 1e-2.


def _right_padded(rng: np.random.Generator, lengths: list[int], steps: int, features: int):
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]
    x = rng.normal(0.0, 1.0, (len(lengths), steps, features)).astype(np.float32)
    return np.where(mask[:, :, None], x, np.float32(0)), mask


def _masked_pair(keras, kinds: tuple[str, str], units: tuple[int, int], x: np.ndarray, rng, *, go_backwards: bool, scale: float):
    """Masking -> kinds[0](return_sequences, go_backwards) -> kinds[1](return_sequences, return_state),
    chained eagerly so the mask rides on the tensors (``_keras_mask``) as in a Sequential model;
    the second layer's states (LSTM ``c`` too) expose the steps it should have skipped."""
    l1 = getattr(keras.layers, kinds[0])(units[0], return_sequences=True, go_backwards=go_backwards)
    l2 = getattr(keras.layers, kinds[1])(units[1], return_sequences=True, return_state=True)
    l1.build(x.shape)
    l2.build(x.shape[:2] + (units[0],))
    specs = [(k, _randomise(layer, rng, scale), layer.get_config()) for k, layer in zip(kinds, (l1, l2))]
    return l2(l1(keras.layers.Masking(0.0)(x))), specs


@given(data=st.data())
@SETTINGS
def test_masked_pair_matches_keras(data: st.DataObject) -> None:
    keras = import_keras()
    kinds = (data.draw(st.sampled_from(KINDS), label="layer 1"), data.draw(st.sampled_from(KINDS), label="layer 2"))
    units = (data.draw(st.integers(1, 5), label="units 1"), data.draw(st.integers(1, 5), label="units 2"))
    batch, steps = data.draw(st.integers(1, 3), label="batch"), data.draw(st.integers(1, 8), label="timesteps")
    lengths = data.draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch), label="valid lengths")
    go_backwards = data.draw(st.booleans(), label="layer 1 go_backwards")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x, mask = _right_padded(rng, lengths, steps, 3)
    expected, specs = _masked_pair(keras, kinds, units, x, rng, go_backwards=go_backwards, scale=0.5)
    trace = run_layer_stack(specs, x, mask)
    assert _max_err(expected, trace.layer_return()) < TOL
    assert trace.masks[1] is mask  # passed on unchanged, even after go_backwards


FIXED = dict(units=(4, 4), steps=8, lengths=[3, 5, 8])


@pytest.mark.parametrize("seed", range(4))
def test_mask_not_propagated_is_caught(seed: int) -> None:
    """A port masking only the first layer lets the second read the carried padded outputs."""
    keras = import_keras()
    rng = np.random.default_rng(seed)
    x, mask = _right_padded(rng, FIXED["lengths"], FIXED["steps"], 3)
    expected, specs = _masked_pair(keras, ("LSTM", "LSTM"), FIXED["units"], x, rng, go_backwards=False, scale=1.0)
    assert _max_err(expected, run_layer_stack(specs, x, mask).layer_return()) < TOL
    assert _max_err(expected, run_layer_stack(specs, x, mask, propagate_mask=False).layer_return()) > BUG


@pytest.mark.parametrize("seed", range(4))
def test_go_backwards_layer_passes_the_time_order_mask_on(seed: int) -> None:
    """LSTM(go_backwards, return_sequences) outputs processing order but passes its input mask on
    unchanged (rnn.py l.263); a port that reverses the mask for the next layer differs."""
    keras = import_keras()
    rng = np.random.default_rng(seed)
    x, mask = _right_padded(rng, FIXED["lengths"], FIXED["steps"], 3)
    expected, specs = _masked_pair(keras, ("LSTM", "GRU"), FIXED["units"], x, rng, go_backwards=True, scale=1.0)
    trace = run_layer_stack(specs, x, mask)
    assert _max_err(expected, trace.layer_return()) < TOL
    realigned = run_sequence("GRU", trace.layers[0].outputs, specs[1][1], specs[1][2], mask=mask[:, ::-1])
    assert _max_err(expected, realigned.layer_return()) > BUG


def _two_cell_stack(rng: np.random.Generator, *, batch: int = 2, steps: int = 7, features: int = 3):
    kinds, units = ["LSTM", "GRU"], [3, 2]
    configs = [{"units": units[0], "activation": "tanh", "recurrent_activation": "sigmoid"},
               {"units": units[1], "activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": True}]
    weights = [[rng.normal(0, 0.5, (features, 4 * units[0])), rng.normal(0, 0.5, (units[0], 4 * units[0])),
                rng.normal(0, 0.5, (4 * units[0],))],
               [rng.normal(0, 0.5, (units[0], 3 * units[1])), rng.normal(0, 0.5, (units[1], 3 * units[1])),
                rng.normal(0, 0.5, (2, 3 * units[1]))]]
    x = rng.standard_normal((batch, steps, features))
    mask = np.ones((batch, steps), bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    return kinds, weights, configs, x, mask


def test_stack_loop_conventions_simulate_loop_bugs() -> None:
    """A port's loop bugs around a stack: each equals the Keras loop run on what the port effectively sees."""
    from reference_cells import Conventions

    kinds, weights, configs, x, mask = _two_cell_stack(np.random.default_rng(5))
    loop = {"return_sequences": True, "return_state": True}
    ignored = run_stacked_cells(kinds, x, weights, configs, loop, mask=mask, conventions=Conventions(mask="ignore"))
    unmasked = run_stacked_cells(kinds, x, weights, configs, loop)
    np.testing.assert_array_equal(ignored.outputs, unmasked.outputs)
    forwards = run_stacked_cells(kinds, x, weights, configs, {**loop, "go_backwards": True},
                                 conventions=Conventions(time_direction="ignored"))
    np.testing.assert_array_equal(forwards.outputs, unmasked.outputs)
    ones = run_stacked_cells(kinds, x, weights, configs, loop, conventions=Conventions(initial_state="ones"))
    given = run_stacked_cells(kinds, x, weights, configs, loop,
                              initial_state=[[np.ones((2, 3)), np.ones((2, 3))], [np.ones((2, 2))]])
    np.testing.assert_allclose(ones.outputs, given.outputs, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="does not simulate"):
        run_stacked_cells(kinds, x, weights, configs, loop, mask=mask, conventions=Conventions(mask="state"))
