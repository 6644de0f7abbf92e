"""Coverage by design: every value of every drawn option, each at least twice where the budget allows.

:func:`harness.check.coverage.balance` (layer options over a check's configurations),
:func:`harness.check.coverage.balance_data` (data facts over its examples), the check's own
draws (:func:`harness.check.check.draw_cases`) and the answer's "not exercised" line.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from harness.api import check_port
from harness.check.check import CheckOptions, draw_cases
from harness.check.conditions import facts
from harness.check.coverage import BALANCED, BALANCED_VALUES, DATA_VALUES, balance, balance_data, data_value
from harness.layers.generate import draw_examples
from harness.layers.strategies import case_specs, layer_specs
from harness.ports.port import wrap_port
from reference_cells import run_sequence


def _port(kind):
    def port(x, weights, config, mask=None, initial_state=None):
        return run_sequence(kind, x, weights, config, mask=mask, initial_state=initial_state,
                            dtype=np.float32).layer_return()

    return port


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_balance_gives_every_value_of_every_unfixed_option_twice(kind, seed):
    layers = balance(draw_examples(layer_specs(kinds=[kind]), count=4, seed=seed), {})
    for name in BALANCED:
        if name == "reset_after" and kind != "GRU":
            continue
        assert Counter(getattr(layer, name) for layer in layers) == {False: 2, True: 2}, name
    for name, values in BALANCED_VALUES.items():
        assert Counter(getattr(layer, name) for layer in layers) == {values[0]: 2, values[1]: 2}, name
    for name, default in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
        seen = Counter(getattr(layer, name) for layer in layers)
        if kind == "SimpleRNN" and name == "recurrent_activation":
            continue
        assert seen[default] in (2, 4) and all(n in (2, 4) for n in seen.values()), (name, seen)


def test_balance_leaves_fixed_options_alone():
    layers = balance(draw_examples(layer_specs(kinds=["LSTM"], dropout=0.0, go_backwards=False, activation="relu"),
                                   count=4, seed=0), {"dropout": 0.0, "go_backwards": False, "activation": "relu"})
    assert {layer.dropout for layer in layers} == {0.0}
    assert {layer.go_backwards for layer in layers} == {False}
    assert {layer.activation for layer in layers} == {"relu"}


@pytest.mark.parametrize("count", [2, 4, 10])
def test_balance_data_gives_each_data_fact_both_values(count):
    specs = draw_examples(case_specs(kinds=["GRU"], mask="none", initial_state=False, batch=1),
                          count=count, seed=3)
    balanced = balance_data(specs, {}, max_batch=4)
    need = 2 if count >= 4 else 1
    for name, values in DATA_VALUES.items():
        seen = Counter(data_value(s, name) for s in balanced)
        assert all(seen[v] >= need for v in values), (name, seen)
    assert all(2 <= s.batch <= 4 for s in balanced if s.batch != 1)
    fixed = balance_data(specs, {"mask": "none", "batch": 1}, max_batch=4)
    assert {s.mask for s in fixed} == {"none"} and {s.batch for s in fixed} == {1}
    assert balance_data(specs, {}, max_batch=4) == balanced  # deterministic


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_check_draws_exercise_every_value_twice(kind):
    port = wrap_port(_port(kind))
    specs = draw_cases(port, CheckOptions(kind=kind), seed=5, count=10)
    seen: dict[str, Counter] = {}
    for spec in specs:
        for name, value in facts(spec).items():
            seen.setdefault(name, Counter())[value] += 1
    wanted = [*BALANCED, *BALANCED_VALUES, *DATA_VALUES]
    for name in wanted:
        if name in seen:
            assert len(seen[name]) == 2 and min(seen[name].values()) >= 2, (name, seen[name])


@pytest.mark.keras
def test_answer_names_option_values_never_exercised(keras_runner):
    report = check_port(_port("SimpleRNN"), layer="SimpleRNN", examples=1, runner=keras_runner,
                        activation="tanh", batch=1)
    missed = " ".join(report.not_exercised)
    assert report.verdict == "match"
    for value in ("mask=", "initial_state=", "dropout=", "go_backwards="):
        assert value in missed, missed
    assert "batch>1" not in missed  # fixed by the user
