"""harness.oracle.group: a compile group's references at once equal each case's own, at tolerance 0.

For drawn sweep groups of every cell kind (all options, chaotic gains and
saturating inputs included, so overflowing float32 samples and ill-conditioned
floors are covered), the stacked path's returned tensors, trace and noise floor
(floor, scale, measured, local) equal ``run_reference`` + ``noise_floor`` run on
the case alone *bit for bit* (``assert_array_equal``; NaN and inf where they are).
That is what keeps the sweep's records byte-identical to the per-case reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.layers.case import CaseSpec
from harness.layers.generate import draw_examples
from harness.layers.strategies import case_groups
from harness.oracle.group import group_references, stackable
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.tolerance import noise_floor


def _assert_tensors_identical(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name].steps, expected[name].steps)
        assert got[name].values.dtype == expected[name].values.dtype
        np.testing.assert_array_equal(got[name].values, expected[name].values)


def _assert_group_matches_cases(specs: list[CaseSpec]) -> int:
    datas = [spec.build() for spec in specs]
    stacked = 0
    for data, run in zip(datas, group_references(datas), strict=True):
        if not stackable(data):
            assert run is None
            continue
        stacked += 1
        ref = layer_reference(data)
        returned, trace = run_reference(ref, data)
        floor = noise_floor(ref, data, returned, trace)
        _assert_tensors_identical(run.returned, returned)
        _assert_tensors_identical(run.trace, trace)
        for field in ("floor", "scale", "measured", "local"):
            got, expected = getattr(run.noise, field), getattr(floor, field)
            assert list(got) == list(expected)
            for name in expected:
                np.testing.assert_array_equal(got[name], expected[name], err_msg=f"{field}[{name}]")
    return stacked


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_group_references_equal_the_per_case_reference_and_floor_bit_for_bit(kind):
    groups = draw_examples(case_groups(size=8, kinds=[kind], max_timesteps=40, max_batch=8, max_units=24,
                                       recurrent_gains=(0.5, 1.0, 3.0, 5.0), input_scales=(1.0, 3.0, 10.0)),
                           count=6, seed=11)
    stacked = sum(_assert_group_matches_cases(list(g)) for g in groups)
    assert stacked >= 30  # most cases take the stacked path (stateful cases in chunks do not)


def test_cases_of_several_configurations_and_chunked_stateful_cases_in_one_call():
    groups = draw_examples(case_groups(size=3, kinds=["LSTM", "GRU"], max_timesteps=12), count=8, seed=5)
    specs = [s for g in groups for s in g]
    assert len({s.layer for s in specs}) > 1
    _assert_group_matches_cases(specs)
