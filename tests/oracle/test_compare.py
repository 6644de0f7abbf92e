"""compare()/summarize() on synthetic tensors, and measure_floor on real cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.oracle import tolerance
from harness.layers.case import CaseSpec
from harness.oracle.compare import StepRecord, compare, records_frame, summarize
from tests.helpers import case_floor, reference_outputs
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor
from harness.oracle.tolerance import CHAOS_FRACTION, EPS32, NoiseFloor

B, N, U = 3, 6, 4
CASE, CELL = "synthetic-case", "LSTM"


def _reference(seed: int = 0) -> dict[str, NamedTensor]:
    """A float32 'reference': output (B, N, U) at steps 0..N-1, h and c (B, 1, U) at the last step."""
    rng = np.random.default_rng(seed)
    out = {"output": NamedTensor("output", rng.uniform(-0.9, 0.9, (B, N, U)).astype(np.float32), np.arange(N))}
    for name in ("h", "c"):
        out[name] = NamedTensor(name, rng.uniform(-0.9, 0.9, (B, 1, U)).astype(np.float32), np.array([N - 1]))
    return out


def _noise(reference: dict[str, NamedTensor], seed: int = 1) -> NoiseFloor:
    """Floors of a few float32 ulps, different at every step; scale = max |y(t)|."""
    rng = np.random.default_rng(seed)
    floor, scale = {}, {}
    for name, t in reference.items():
        scale[name] = np.abs(t.values).max(axis=(0, 2)).astype(np.float64)
        floor[name] = EPS32 * scale[name] * rng.uniform(1.0, 4.0, t.values.shape[1])
    return NoiseFloor(floor=floor, scale=scale)


def _copy(tensors: dict[str, NamedTensor]) -> dict[str, NamedTensor]:
    return {k: NamedTensor(k, v.values.astype(np.float64), v.steps.copy()) for k, v in tensors.items()}


def _run(actual, reference, noise):
    records = compare(CASE, CELL, actual, reference, noise)
    return records, summarize(CASE, CELL, records, noise)


def _locations():
    """(tensor, b, k, u) with k the position along the tensor's time axis."""
    return st.one_of(
        st.tuples(st.just("output"), st.integers(0, B - 1), st.integers(0, N - 1), st.integers(0, U - 1)),
        st.tuples(st.sampled_from(["h", "c"]), st.integers(0, B - 1), st.just(0), st.integers(0, U - 1)),
    )


# ----------------------------------------------------------------- status
def test_identical_arrays_pass_with_zero_error():
    reference = _reference()
    noise = _noise(reference)
    records, result = _run(_copy(reference), reference, noise)
    assert result.status == "pass"
    assert result.worst_abs_err == 0.0 and result.worst_rel_err == 0.0 and result.worst_ratio == 0.0
    assert result.first_t is None and result.first_tensor is None and result.first_err is None
    assert all(r.max_abs_err == 0.0 and r.within and r.judged for r in records)


@given(st.data())
def test_injected_error_is_located_exactly(data):
    reference = _reference(seed=data.draw(st.integers(0, 1000), label="seed"))
    noise = _noise(reference)
    name, b, k, u = data.draw(_locations(), label="location")
    actual = _copy(reference)
    delta = 2.0**-12  # exact in float64 next to float32 values of magnitude < 1
    actual[name].values[b, k, u] += delta
    records, result = _run(actual, reference, noise)
    t = int(reference[name].steps[k])
    assert result.status == "drift"
    assert result.first_tensor == name
    assert result.first_t == t
    assert result.first_index == f"{b},{u}"
    assert result.first_err == delta
    assert result.first_tolerance == pytest.approx(tolerance.MULTIPLIER * noise.floor[name][k])
    assert result.worst_abs_err == delta
    (hit,) = [r for r in records if not r.within]
    assert (hit.tensor, hit.t, hit.index) == (name, t, f"{b},{u}")
    assert hit.max_rel_err == pytest.approx(delta / np.abs(reference[name].values[:, k, :]).max())


def test_error_within_tolerance_passes():
    reference = _reference()
    noise = _noise(reference)
    actual = _copy(reference)
    actual["output"].values[1, 2, 3] += 0.5 * noise.tolerance("output")[2]
    records, result = _run(actual, reference, noise)
    assert result.status == "pass"
    assert result.worst_abs_err > 0
    assert 0.4 < result.worst_ratio <= 0.5 + 1e-9


def test_first_divergence_is_the_earliest_step():
    reference = _reference()
    noise = _noise(reference)
    actual = _copy(reference)
    actual["output"].values[2, 4, 1] += 1e-3
    actual["output"].values[0, 1, 3] += 1e-4  # earlier and smaller: still the first
    _, result = _run(actual, reference, noise)
    assert (result.first_t, result.first_index) == (1, "0,3")
    assert result.first_err == pytest.approx(1e-4, rel=1e-6)
    assert result.worst_abs_err == pytest.approx(1e-3, rel=1e-6)


def test_at_the_same_step_output_is_reported_before_states():
    reference = _reference()
    noise = _noise(reference)
    actual = _copy(reference)
    actual["c"].values[0, 0, 0] += 1e-2
    actual["output"].values[1, N - 1, 2] += 1e-3
    _, result = _run(actual, reference, noise)
    assert (result.first_tensor, result.first_t, result.first_index) == ("output", N - 1, "1,2")


def test_error_at_unjudged_step_is_not_drift_but_ill_conditioned():
    reference = _reference()
    noise = _noise(reference)
    k = 3
    noise.floor["output"][k] = 2 * CHAOS_FRACTION * noise.scale["output"][k]  # float32 lost the trajectory
    actual = _copy(reference)
    actual["output"].values[0, k, 0] += 0.5  # far beyond any tolerance
    records, result = _run(actual, reference, noise)
    assert result.status == "ill-conditioned"
    assert result.first_t is None
    step = next(r for r in records if r.tensor == "output" and r.t == k)
    assert not step.judged and step.within
    assert all(r.judged for r in records if r is not step)
    assert result.worst_abs_err == pytest.approx(0.5, rel=1e-6)
    assert result.worst_ratio < 1.0  # unjudged steps do not count towards err/tol


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_actual_at_judged_step_is_infinite_drift(bad):
    reference = _reference()
    noise = _noise(reference)
    actual = _copy(reference)
    actual["h"].values[2, 0, 1] = bad
    records, result = _run(actual, reference, noise)
    assert result.status == "drift"
    assert (result.first_tensor, result.first_t, result.first_index) == ("h", N - 1, "2,1")
    assert result.first_err == np.inf
    assert result.worst_abs_err == np.inf


@pytest.mark.parametrize(
    "mutate, named",
    [
        (lambda a: a.pop("c"), "c"),
        (lambda a: a.update(extra=a["h"]), "extra"),
        (lambda a: a.update(output=NamedTensor("output", a["output"].values[:, :-1], a["output"].steps[:-1])), "output"),
        (lambda a: a.update(h=NamedTensor("h", a["h"].values[:, :, :-1], a["h"].steps)), "h"),
    ],
    ids=["missing-tensor", "extra-tensor", "short-time-axis", "fewer-units"],
)
def test_mismatched_names_or_shapes_raise(mutate, named):
    reference = _reference()
    actual = _copy(reference)
    mutate(actual)
    with pytest.raises(ValueError, match=named):
        compare(CASE, CELL, actual, reference, _noise(reference))


# ----------------------------------------------------------------- frames
def test_records_frame_has_the_step_record_columns_and_one_row_per_step():
    reference = _reference()
    actual = _copy(reference)
    actual["output"].values[0, 0, 0] += 1e-3
    records = compare(CASE, CELL, actual, reference, _noise(reference))
    frame = records_frame(records)
    assert list(frame.columns) == [f.name for f in dataclasses.fields(StepRecord)]
    assert len(frame) == N + 1 + 1  # output at every step, h and c at the last
    assert not frame.duplicated(["tensor", "t"]).any()
    assert sorted(frame[frame.tensor == "output"].t) == list(range(N))
    assert frame.max_abs_err.max() == pytest.approx(1e-3, rel=1e-6)


def test_records_frame_of_no_records_still_has_columns():
    frame = records_frame([])
    assert list(frame.columns) == [f.name for f in dataclasses.fields(StepRecord)]
    assert len(frame) == 0


# ------------------------------------------------------ measure_floor, real
REAL_CASES = {
    "LSTM-seq-state-mask": CaseSpec(
        CellSpec("LSTM", 4, 3, return_sequences=True, return_state=True), batch=3, timesteps=10, mask="mixed", seed=5
    ),
    "GRU-rbefore-h0": CaseSpec(
        CellSpec("GRU", 5, 2, reset_after=False, return_sequences=True), batch=2, timesteps=12, initial_state=True, seed=6
    ),
    "SimpleRNN-bw-stateful": CaseSpec(
        CellSpec("SimpleRNN", 3, 2, go_backwards=True, stateful=True, return_sequences=True),
        batch=2, timesteps=9, chunks=3, recurrent_gain=0.5, seed=7,
    ),
}


@pytest.mark.parametrize("spec", REAL_CASES.values(), ids=REAL_CASES.keys())
def test_measure_floor_on_a_real_case_is_finite_and_at_least_one_ulp(spec):
    data = spec.build()
    reference = reference_outputs(data)
    noise = case_floor(data)
    assert set(noise.floor) == set(reference) == set(noise.scale)
    for name, ref in reference.items():
        floor, scale = noise.floor[name], noise.scale[name]
        assert floor.shape == scale.shape == ref.steps.shape
        assert np.all(np.isfinite(floor)) and np.all(scale > 0)
        assert np.all(floor >= EPS32 * scale), name
        assert np.all(noise.judged(name)), name
    assert 1.0 <= noise.amplification() < tolerance.ILL_CONDITIONED
    assert not noise.ill_conditioned()


@pytest.mark.parametrize("spec", REAL_CASES.values(), ids=REAL_CASES.keys())
def test_float32_reference_is_within_its_own_tolerance(spec):
    data = spec.build()
    reference = reference_outputs(data)
    noise = case_floor(data)
    actual = reference_outputs(data, dtype=np.float32)
    records, result = _run(actual, reference, noise)
    assert result.status == "pass"
    assert result.worst_abs_err > 0  # float32 really differs from float64 ...
    assert result.worst_ratio <= 1.0 / tolerance.MULTIPLIER + 1e-12  # ... by at most the floor it defines


def test_float32_reference_with_a_wrong_bias_drifts():
    spec = REAL_CASES["LSTM-seq-state-mask"]
    data = spec.build()
    reference = reference_outputs(data)
    noise = case_floor(data)
    weights = [w.copy() for w in data.weights]
    weights[2][3 * 4 + 1] += 1e-4  # output-gate bias of unit 1 (gate order i, f, c, o), barely changed
    actual = reference_outputs(dataclasses.replace(data, weights=weights), dtype=np.float32)
    _, result = _run(actual, reference, noise)
    assert result.status == "drift"
    assert result.first_index.split(",")[1] == "1"
    assert result.first_t == 0  # the output gate acts from the first step


def test_chaotic_simple_rnn_is_ill_conditioned():
    spec = CaseSpec(CellSpec("SimpleRNN", 32, 4, return_sequences=True), timesteps=80, recurrent_gain=4.0, seed=3)
    data = spec.build()
    reference = reference_outputs(data)
    noise = case_floor(data)
    assert noise.amplification() > tolerance.ILL_CONDITIONED
    assert noise.ill_conditioned()
    assert not np.all(noise.judged("output")), "a chaotic trajectory should leave late steps unjudged"
    assert noise.judged("output")[0], "the first steps are still well within float32"
