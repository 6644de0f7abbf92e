"""Ports of composite layers (Bidirectional, RNN over cells, ConvLSTM): each injected fault is found and named.

The ports are the reference run with a port's bug (a non-Keras ``LayerConventions``)
in float32, wrapped as ordinary function ports that read ``layer.get_config()``
like a user's port. Layers are mostly fixed per test so a Keras layer is built
once and reused by the session's runner. The same check loop serves cells
(tests/check/test_check.py): initial states, subprocess and stepper ports work here too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.api import assert_port_matches, check_port
from harness.check.catalogue import FLAGS, flag_doc
from harness.check.output import render
from harness.check.check import CheckOptions, parse_options, run_check
from harness.target.runner import KerasRunner
from harness.oracle.conventions import KERAS_LAYER, LayerConventions
from reference_cells import Conventions
from reference_cells.bidirectional import run_bidirectional, split_bidirectional_config
from reference_cells.conv_lstm import run_conv_lstm
from reference_cells.stacked import run_stacked_cells, split_stacked_weights

_RANK = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}


def _trace(kind: str, x, weights, config, mask, initial_state, conventions: LayerConventions, carried=None):
    """The reference trace of ``kind`` in float32, from weights and config only (what a port computes)."""
    if kind == "Bidirectional":
        inner, inner_config, merge_mode, back = split_bidirectional_config(config)
        return run_bidirectional(
            inner, x, weights, inner_config, merge_mode=conventions.merge_mode_for(merge_mode), mask=mask,
            initial_state=initial_state, backward_config=back[1], conventions=conventions.cell,
            state_order=conventions.state_order, backward_last=conventions.backward_last,
            initial_state_split=conventions.initial_state_split, dtype=np.float32, carried_state=carried)
    if kind == "StackedRNN":
        cells = config["cell"]["config"]["cells"]
        kinds = [c["class_name"] for c in cells]
        configs = [c["config"] for c in cells]
        if initial_state is not None:  # flat in Keras order -> one list per cell
            counts = [2 if k.startswith("LSTM") else 1 for k in kinds]
            edges = np.cumsum([0, *counts])
            initial_state = [list(initial_state[a:b]) for a, b in zip(edges[:-1], edges[1:])]
        return run_stacked_cells(kinds, x, split_stacked_weights(kinds, weights, configs), configs, config,
                                 mask=mask, initial_state=initial_state, conventions=conventions.cell,
                                 dtype=np.float32, carried_state=carried)
    return run_conv_lstm(_RANK[kind], x, weights, config, mask=mask, initial_state=initial_state,
                         conventions=conventions.cell, dtype=np.float32, carried_state=carried)


def reference_port(kind: str, conventions: LayerConventions = KERAS_LAYER):
    """A function port computing ``kind`` with ``conventions`` (float32), from weights and config only."""

    def port(x, weights, config, mask=None, initial_state=None):
        returned = _trace(kind, x, weights, config, mask, initial_state, conventions).layer_return()
        if conventions.lstm_states == "c-h" and kind.startswith("ConvLSTM") and isinstance(returned, list):
            returned = [returned[0], returned[2], returned[1]]  # TF1 LSTMStateTuple order
        return returned

    return port


def stateful_class_port(kind: str, *, forgets: bool = False) -> type:
    """A class port of ``kind`` that carries its states from call to call (``forgets``: it does not)."""

    class Port:
        def __init__(self, weights, config):
            self.weights, self.config, self.carry = weights, config, None

        def reset_states(self):
            self.carry = None

        def __call__(self, x, mask=None, initial_state=None):
            trace = _trace(kind, x, self.weights, self.config, mask, initial_state, KERAS_LAYER,
                           None if forgets else self.carry)
            self.carry = trace.carry
            return trace.layer_return()

    return Port


BI_LSTM = dict(inner="LSTM", activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True, units=4,
               features=3, return_sequences=True, return_state=True, merge_mode="concat")
BI_GRU = dict(BI_LSTM, inner="GRU", recurrent_activation="sigmoid", reset_after=True, merge_mode="mul")
CONV = dict(activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True, units=3, features=2,
            kernel_size=2, padding="same", strides=1, side=4, return_sequences=True, return_state=True,
            go_backwards=False)
STACK = dict(cells=["LSTM", "LSTM"], activation="tanh", recurrent_activation="sigmoid", use_bias=True, units=3,
             features=2, return_sequences=True, return_state=True, go_backwards=False)

# (id, layer, fixed options, conventions of the port, expected flag)
INJECTED = [
    ("bi-gate-order", "Bidirectional", BI_LSTM, LayerConventions(cell=Conventions(gate_order="ifoc")), "gate-order"),
    ("bi-sigmoid-for-hard-sigmoid", "Bidirectional", BI_LSTM,
     LayerConventions(cell=Conventions(recurrent_activation="sigmoid")), "activation"),
    ("bi-gru-update", "Bidirectional", BI_GRU, LayerConventions(cell=Conventions(gru_update="swapped")),
     "gru-update-convention"),
    ("bi-state-ones", "Bidirectional", BI_GRU, LayerConventions(cell=Conventions(initial_state="ones")),
     "initial-state"),
    ("bi-backward-unflipped", "Bidirectional", BI_GRU, LayerConventions(cell=Conventions(time_direction="flipped")),
     "time-direction"),
    ("bi-backward-read-forwards", "Bidirectional", BI_LSTM,
     LayerConventions(cell=Conventions(time_direction="ignored")), "time-direction"),
    ("bi-last-output-wrong-end", "Bidirectional", dict(BI_LSTM, return_sequences=False, return_state=False),
     LayerConventions(backward_last="first-step"), "time-direction"),
    ("bi-states-interleaved", "Bidirectional", BI_LSTM, LayerConventions(state_order="interleaved"), "state-order"),
    ("bi-mul-as-sum", "Bidirectional", BI_GRU, LayerConventions(merge_mode="sum"), "merge-mode"),
    ("bi-mask-ignored", "Bidirectional", dict(BI_LSTM, mask="mixed"), LayerConventions(cell=Conventions(mask="ignore")),
     "masking"),
    ("conv2d-states-c-h", "ConvLSTM2D", CONV, LayerConventions(lstm_states="c-h"), "state-order"),
    ("conv2d-gate-order", "ConvLSTM2D", CONV, LayerConventions(cell=Conventions(gate_order="iofc")), "gate-order"),
    ("conv1d-sigmoid", "ConvLSTM1D", CONV, LayerConventions(cell=Conventions(recurrent_activation="sigmoid")),
     "activation"),
    ("conv1d-forget-bias", "ConvLSTM1D", CONV, LayerConventions(cell=Conventions(forget_bias=1.0)), "bias"),
    ("conv1d-recurrent-transposed", "ConvLSTM1D", CONV,
     LayerConventions(cell=Conventions(kernel_layout="recurrent-transposed")), "kernel-layout"),
    ("conv1d-backwards-flipped", "ConvLSTM1D", dict(CONV, go_backwards=True),
     LayerConventions(cell=Conventions(time_direction="flipped")), "time-direction"),
    ("conv3d-bias-double", "ConvLSTM3D", dict(CONV, side=3), LayerConventions(cell=Conventions(bias="double")), "bias"),
    ("stack-mask-ignored", "StackedRNN", dict(STACK, mask="mixed"), LayerConventions(cell=Conventions(mask="ignore")),
     "masking"),
    ("stack-backwards-flipped", "StackedRNN", dict(STACK, go_backwards=True),
     LayerConventions(cell=Conventions(time_direction="flipped")), "time-direction"),
    ("stack-state-ones", "StackedRNN", dict(STACK, cells=["SimpleRNN", "GRU"], reset_after=False),
     LayerConventions(cell=Conventions(initial_state="ones")), "initial-state"),
    ("stack-gate-order", "StackedRNN", STACK, LayerConventions(cell=Conventions(gate_order="ifoc")), "gate-order"),
    ("stack-gru-update", "StackedRNN", dict(STACK, cells=["GRU", "GRU"], reset_after=True),
     LayerConventions(cell=Conventions(gru_update="swapped")), "gru-update-convention"),
]


@pytest.fixture(scope="module")
def runner() -> KerasRunner:
    return KerasRunner()


@pytest.mark.keras
@pytest.mark.parametrize("case_id, layer, fixed, conventions, flag", INJECTED, ids=[c[0] for c in INJECTED])
def test_injected_composite_fault_is_named(runner, case_id, layer, fixed, conventions, flag):
    options = {"mask": "none", **fixed}
    report = check_port(reference_port(layer, conventions), layer=layer, examples=4, max_timesteps=12,
                        runner=runner, **options)
    assert report.verdict == "mismatch", render(report)
    assert report.flags == [flag], render(report)
    assert report.diagnosis is not None and report.diagnosis.explained[0].ratio <= 1.0


@pytest.mark.keras
@pytest.mark.parametrize("layer, fixed", [("Bidirectional", BI_LSTM), ("Bidirectional", dict(BI_GRU, merge_mode=None)),
                                          ("ConvLSTM2D", CONV), ("StackedRNN", dict(STACK, cells=["GRU", "LSTM"]))],
                         ids=["bi-lstm", "bi-gru-pair", "conv2d", "stack-gru-lstm"])
def test_correct_composite_port_matches(runner, layer, fixed):
    report = assert_port_matches(reference_port(layer), layer=layer, examples=3, max_timesteps=12,
                                 runner=runner, **{**fixed, "mask": "mixed"})
    assert report.verdict == "match" and report.flags == []


@pytest.mark.keras
def test_drawn_options_correct_port_matches(runner):
    """Nothing fixed: every drawn Bidirectional configuration (merge modes, inner layers, masks) matches."""
    report = check_port(reference_port("Bidirectional"), layer="Bidirectional", examples=6, seed=3,
                        max_timesteps=10, runner=runner)
    assert report.verdict == "match", render(report)


@pytest.mark.keras
def test_wrong_return_shape_is_an_error_naming_the_tensor(runner):
    def port(x, weights, config, mask=None):
        out = reference_port("Bidirectional")(x, weights, config)
        return [out[0][:, -1], *out[1:]]  # the sequence dropped

    report = check_port(port, layer="Bidirectional", examples=2, runner=runner, **BI_LSTM)
    assert report.verdict == "error"
    assert "output of shape" in report.error and "expected" in report.error


@pytest.mark.keras
def test_replay_runs_the_same_example(runner):
    port = reference_port("ConvLSTM2D", LayerConventions(cell=Conventions(gate_order="iofc")))
    first = check_port(port, layer="ConvLSTM2D", examples=2, runner=runner, **CONV)
    token = first.outcomes[0].spec.token()
    assert token in first.replay_command(first.outcomes[0].spec)
    options = CheckOptions(kind="ConvLSTM2D", replay=(token,))
    from harness.ports.port import wrap_port

    again = run_check(wrap_port(port), options, runner=runner)
    assert again.outcomes[0].result.worst_abs_err == first.outcomes[0].result.worst_abs_err


def test_composite_options_are_validated():
    assert parse_options("StackedRNN", ["cells=LSTM,GRU", "units=3"]) == {"cells": ["LSTM", "GRU"], "units": 3}
    assert parse_options("ConvLSTM2D", ["filters=2"]) == {"units": 2}
    with pytest.raises(ValueError, match="merge_modes|unknown option"):
        parse_options("ConvLSTM2D", ["merge_mode=sum"])
    with pytest.raises(ValueError, match="inner"):
        CheckOptions(kind="Bidirectional", fixed={"inner": "Dense"})
    with pytest.raises(ValueError, match="merge_mode"):
        CheckOptions(kind="Bidirectional", fixed={"merge_mode": "max"})
    for bad, message in [({"units": 0}, "units must be a positive integer"),
                         ({"return_state": "yes"}, "return_state must be true or false"),
                         ({"padding": "full"}, "padding"),
                         ({"activation": "swishy"}, "swishy"),
                         ({"side": 2, "kernel_size": 3, "padding": "valid"}, "smaller than kernel_size")]:
        with pytest.raises(ValueError, match=message):
            CheckOptions(kind="ConvLSTM2D", fixed=bad)


def test_wrapper_flags_have_symptom_docs():
    for flag in ("state-order", "merge-mode", "time-direction", "initial-state"):
        assert flag in FLAGS
        assert "Symptom" in flag_doc(flag)


def test_layer_conventions_round_trip():
    conventions = LayerConventions(cell=Conventions(gate_order="ifoc"), state_order="interleaved", merge_mode="sum",
                                   backward_last="first-step", lstm_states="c-h")
    assert LayerConventions.from_dict(conventions.differences()) == conventions
    assert json.loads(json.dumps(conventions.differences()))["state_order"] == "interleaved"
    assert KERAS_LAYER.is_keras() and KERAS_LAYER.describe() == "keras"


PORTS = __import__("pathlib").Path(__file__).resolve().parents[2] / "cases" / "ports"


@pytest.mark.keras
def test_cli_check_bidirectional_port(tmp_path, capsys):
    from harness.cli import main

    out = tmp_path / "answer.json"
    port = f"{PORTS / 'broken_bidirectional_backward_unflipped.py'}:bidirectional"
    code = main(["check", port, "--layer", "Bidirectional", "--set", "return_sequences=true", "--set", "inner=GRU",
                 "--units", "3", "--examples", "3", "--max-timesteps", "10", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 1, printed
    answer = json.loads(out.read_text())
    assert answer["flags"] == ["time-direction"] and answer["verdict"] == "mismatch"
    assert "--layer Bidirectional" in printed and "--replay " in printed


@pytest.mark.parametrize("argv, message", [
    (["--set", "merge_mode=max"], "merge_mode"),
    (["--set", "kernel_size=3"], "unknown option for Bidirectional"),
    (["--set", "chunks=2"], "needs a stateful layer; fix stateful=true too"),
    (["--set", "stateful=maybe"], "stateful must be true or false"),
    (["--set", "stateful=true", "--set", "return_state=true"], "bidirectional-stateful-return-state-crash"),
])
def test_cli_composite_bad_input_is_one_line(argv, message, capsys):
    from harness.cli import main

    port = f"{PORTS / 'correct_bidirectional.py'}:bidirectional"
    assert main(["check", port, "--layer", "Bidirectional", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.keras
def test_pytest_plugin_checks_composite_layers_on_its_one_runner():
    from harness.pytest_plugin import RnnParity

    helper = RnnParity()
    report = helper.assert_matches(reference_port("ConvLSTM1D"), layer="ConvLSTM1D", examples=2, max_timesteps=6,
                                   **CONV)
    assert report.verdict == "match" and helper._runner is not None


def test_check_refuses_something_that_is_not_a_runner():
    with pytest.raises(ValueError, match="KerasRunner"):
        check_port(reference_port("Bidirectional"), layer="Bidirectional", runner=object(), **BI_LSTM)


# ---------------------------------------------------------------- what the one check loop gives every kind
@pytest.mark.keras
@pytest.mark.parametrize("layer, fixed", [("Bidirectional", BI_LSTM), ("StackedRNN", dict(STACK, cells=["GRU", "LSTM"])),
                                          ("ConvLSTM2D", CONV)], ids=["bi-lstm", "stack-gru-lstm", "conv2d"])
def test_composite_ports_take_an_initial_state(runner, layer, fixed):
    report = check_port(reference_port(layer), layer=layer, examples=3, max_timesteps=8, runner=runner,
                        **{**fixed, "initial_state": True, "mask": "none"})
    assert report.verdict == "match", render(report)
    assert all(o.spec.initial_state for o in report.outcomes)
    assert not any("initial_state" in n for n in report.not_exercised)


@pytest.mark.keras
def test_bidirectional_initial_state_split_the_wrong_way_is_named(runner):
    port = reference_port("Bidirectional", LayerConventions(initial_state_split="swapped"))
    report = check_port(port, layer="Bidirectional", examples=3, max_timesteps=8, runner=runner,
                        **{**BI_GRU, "initial_state": True, "mask": "none"})
    assert report.verdict == "mismatch" and report.flags == ["initial-state"], render(report)
    assert "first half of initial_state" in report.diagnosis.explained[0].hypothesis.parts[0].detail


@pytest.mark.keras
def test_composite_subprocess_port(runner, tmp_path):
    """A program reading the .npy directory protocol implements a ConvLSTM1D (here: Python calling the reference)."""
    import sys

    script = tmp_path / "conv_port.py"
    script.write_text(
        "import json, sys, numpy as np\n"
        "from reference_cells.conv_lstm import run_conv_lstm\n"
        "inp, out = sys.argv[1], sys.argv[2]\n"
        "config = json.load(open(f'{inp}/config.json'))\n"
        "n = int(open(f'{inp}/config.txt').read().split('n_weights ')[1].split()[0])\n"
        "w = [np.load(f'{inp}/weight_{k}.npy') for k in range(n)]\n"
        "ret = run_conv_lstm(1, np.load(f'{inp}/x.npy'), w, config, dtype=np.float32).layer_return()\n"
        "ret = ret if isinstance(ret, list) else [ret]\n"
        "np.save(f'{out}/output.npy', ret[0])\n"
        "[np.save(f'{out}/state_{k}.npy', s) for k, s in enumerate(ret[1:])]\n")
    from harness.ports.loading import load_port

    port = load_port(f"{sys.executable} {script}", adapter="subprocess", timeout=60)
    report = check_port(port, layer="ConvLSTM1D", examples=2, max_timesteps=6, runner=runner,
                        **{**CONV, "mask": "none"})
    assert report.verdict == "match", render(report)


@pytest.mark.keras
def test_composite_stepper_port_is_compared_on_its_output_sequence(runner):
    """A per-step object for a stack of cells (the shape of a typical hand port)."""

    class Stack:
        def __init__(self, weights, config):
            self.weights, self.config, self.xs = weights, config, []

        def step(self, x_t):
            self.xs.append(x_t)
            config = dict(self.config, return_sequences=True, return_state=False, go_backwards=False)
            out = reference_port("StackedRNN")(np.stack(self.xs, axis=1), self.weights, config)
            return out[:, -1]

    report = check_port(Stack, layer="StackedRNN", adapter="stepper", examples=2, max_timesteps=6, runner=runner,
                        **{**STACK, "mask": "none"})
    assert report.verdict == "match", render(report)
    assert any("output sequence" in n for n in report.not_exercised)


def _cell_step(order: str = "ifco"):
    """A step port for any SimpleRNN/LSTM/GRU cell, told apart by its kernel width (U, 4U, 3U);
    ``order`` is the LSTM gate order it slices the fused kernel in (Keras: ifco)."""
    from reference_cells import KERAS, LayerOptions
    from reference_cells.stacked import _CELLS

    def step(x_t, states, weights, config):
        units = states[0].shape[-1]
        kind = {units: "SimpleRNN", 4 * units: "LSTM", 3 * units: "GRU"}[weights[0].shape[1]]
        conventions = Conventions(gate_order=order) if kind == "LSTM" else KERAS
        cell = _CELLS[kind](weights, LayerOptions.from_config(kind, config), conventions, np.dtype(np.float32))
        return cell.step(x_t, states)

    return step


@pytest.mark.keras
@pytest.mark.parametrize("layer, options", [
    ("Bidirectional", BI_LSTM), ("Bidirectional", {**BI_GRU, "mask": "mixed", "initial_state": True}),
    ("StackedRNN", {**STACK, "cells": ["GRU", "LSTM", "SimpleRNN"], "mask": "mixed", "initial_state": True}),
], ids=["bi-lstm", "bi-gru-masked-initial-state", "stack-gru-lstm-simplernn"])
def test_step_port_runs_in_every_cell_of_a_composite_layer(runner, layer, options):
    """A step port checks the cell maths of each Bidirectional half and of every stacked cell."""
    report = check_port(_cell_step(), layer=layer, adapter="step", examples=3, max_timesteps=6, runner=runner,
                        **options)
    assert report.verdict == "match", render(report)


@pytest.mark.keras
@pytest.mark.parametrize("layer, options", [("Bidirectional", BI_LSTM), ("StackedRNN", STACK)])
def test_step_port_gate_order_bug_is_named_in_a_composite_layer(runner, layer, options):
    report = check_port(_cell_step("ifoc"), layer=layer, adapter="step", examples=3, max_timesteps=6,
                        runner=runner, **options)
    assert report.verdict == "mismatch" and "gate-order" in report.flags, render(report)


@pytest.mark.keras
@pytest.mark.parametrize("layer, options", [
    ("StackedRNN", {**STACK, "cells": ["GRU", "LSTM"], "mask": "mixed"}),
    ("ConvLSTM1D", {**CONV, "go_backwards": True}),
    ("Bidirectional", {**BI_GRU, "return_state": False, "initial_state": True}),
], ids=["stack", "conv-lstm1d-backwards", "bidirectional-gru"])
def test_stateful_composite_class_port_is_fed_in_chunks(runner, layer, options):
    """A stateful composite layer is fed in consecutive calls; a port that carries its states matches and
    one that forgets them between calls is named (initial-state, "does not carry its state")."""
    fixed = {**options, "stateful": True, "chunks": 3, "timesteps": 6}
    report = check_port(stateful_class_port(layer), layer=layer, examples=2, runner=runner, **fixed)
    assert report.verdict == "match", render(report)
    forgetful = check_port(stateful_class_port(layer, forgets=True), layer=layer, examples=2, runner=runner, **fixed)
    assert forgetful.verdict == "mismatch" and forgetful.flags == ["initial-state"], render(forgetful)
    assert "does not carry its state" in render(forgetful)


@pytest.mark.keras
def test_stateful_composites_are_drawn_for_ports_that_carry_state(runner):
    from harness.check.check import draw_cases
    from harness.ports.port import wrap_port

    options = CheckOptions(kind="StackedRNN", examples=6, seed=3, fixed={"cells": ["GRU", "GRU"], "stateful": True})
    specs = draw_cases(wrap_port(stateful_class_port("StackedRNN")), options, seed=3, count=6)
    assert all(s.layer.stateful for s in specs) and any(s.chunks > 1 for s in specs)
    plain = draw_cases(wrap_port(reference_port("StackedRNN")), options, seed=3, count=6)
    assert all(s.chunks == 1 for s in plain)  # a function port has no memory between calls


def test_backward_last_first_step_is_the_output_after_reading_the_last_input_only():
    """The simulated 'last output from the wrong end' bug, against an independent computation."""
    from reference_cells import run_sequence

    rng = np.random.default_rng(2)
    config = {"units": 3, "activation": "tanh", "recurrent_activation": "sigmoid"}
    weights = [rng.normal(0, 0.5, shape) for shape in ((2, 12), (3, 12), (12,))] * 2
    x = rng.standard_normal((2, 6, 2))
    wrong = run_bidirectional("LSTM", x, weights, config, backward_last="first-step").output
    only_last = run_sequence("LSTM", x[:, -1:], weights[3:], {**config, "go_backwards": True}).last_output
    np.testing.assert_allclose(wrong[:, 3:], only_last, rtol=0, atol=1e-14)
    right = run_bidirectional("LSTM", x, weights, config).output
    np.testing.assert_array_equal(wrong[:, :3], right[:, :3])
    assert np.abs(wrong[:, 3:] - right[:, 3:]).max() > 1e-3


@pytest.mark.keras
def test_convlstm_step_port_runs_inside_the_harness_loop(runner):
    """A ConvLSTM step port: the cell maths only; masks, go_backwards and initial states are the harness's loop."""
    from reference_cells import KERAS
    from reference_cells.conv_lstm import ConvLSTMCell, ConvOptions, options_from_config

    def step(x_t, states, weights, config):
        conv = ConvOptions.from_config(1, config)
        cell = ConvLSTMCell(weights, options_from_config(config), KERAS, np.dtype(np.float32), rank=1,
                            strides=conv.strides, padding=conv.padding, dilation_rate=conv.dilation_rate,
                            data_format=conv.data_format)
        return cell.step(x_t, states)

    report = check_port(step, layer="ConvLSTM1D", adapter="step", examples=3, max_timesteps=6, runner=runner,
                        **{**CONV, "mask": "mixed", "initial_state": True, "go_backwards": True})
    assert report.verdict == "match", render(report)
