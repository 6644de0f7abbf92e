"""An exporter's check draws several examples per build (configuration, weights, static shapes), so
each conversion serves several data draws; a hand-written port's draw is unchanged. No Keras."""

from __future__ import annotations

import dataclasses

import pytest

from harness.check.check import CheckOptions, draw_cases
from harness.ports.port import Port


def _port(per: int) -> Port:
    return Port("p", "export" if per > 1 else "function", accepts_mask=True, accepts_initial_state=True,
                carries_state=False, _run=lambda *a: {}, pins={"stateful": False}, draws_per_build=per)


def _build(spec):
    """What an export is keyed by, besides the exporter: configuration, weights, static shapes."""
    weights = spec.seed if spec.weights_seed is None else spec.weights_seed
    return (spec.layer, spec.batch, spec.timesteps, spec.mask, spec.initial_state, spec.recurrent_gain,
            spec.kernel_scale, spec.bias_scale, weights)


@pytest.mark.parametrize("kind, examples, builds", [("LSTM", 10, 4), ("GRU", 100, 25), ("Bidirectional", 10, 4),
                                                    ("ConvLSTM2D", 12, 4), ("SimpleRNN", 3, 3)])
def test_examples_come_in_builds(kind, examples, builds):
    specs = draw_cases(_port(4), CheckOptions(kind=kind, examples=examples, seed=5), seed=5, count=examples)
    assert len(specs) == examples
    keys = [_build(s) for s in specs]
    assert len(set(keys)) == builds
    assert len(set(specs)) == examples and all(len({s.seed for s in specs if _build(s) == k}) == keys.count(k) for k in keys)
    runs = [k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]
    assert len(runs) == builds  # a build's examples in a row: one conversion each, then cache hits
    assert max(keys.count(k) for k in set(keys)) <= 4
    for spec in specs:  # the first of a build is an ordinary draw; the others name its seed as theirs
        if spec.weights_seed is not None:
            head = dataclasses.replace(spec, seed=spec.weights_seed, weights_seed=None)
            assert _build(head) == _build(spec)


def test_the_draw_is_deterministic():
    options = CheckOptions(kind="LSTM", examples=10, seed=3)
    assert draw_cases(_port(4), options, seed=3, count=10) == draw_cases(_port(4), options, seed=3, count=10)


def test_a_hand_written_port_draws_every_example_on_its_own():
    specs = draw_cases(_port(1), CheckOptions(kind="LSTM", examples=10, seed=0), seed=0, count=10)
    assert all(s.weights_seed is None for s in specs)
    assert len({_build(s) for s in specs}) == 10


def test_a_fixed_seed_turns_the_groups_off():
    options = CheckOptions(kind="LSTM", examples=4, seed=0, fixed={"seed": 7})
    assert all(s.weights_seed is None and s.seed == 7 for s in draw_cases(_port(4), options, seed=0, count=4))
