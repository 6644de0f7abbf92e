"""Each catalogue flag, injected into a port, is found and named - and nothing else is.

The ports here are the reference itself run with a port's bug (a non-Keras
``Conventions``) in float32, wrapped as ordinary function/class ports. The
layer is fully fixed per test so the Keras layer is built once and reused.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.api import check_port
from harness.check.catalogue import FLAGS, flag_doc
from harness.check.output import render
from reference_cells import Conventions, StatefulSequence, run_sequence

BASE = dict(units=6, features=3, activation="tanh", use_bias=True, return_state=True, unroll=False,
            dropout=0.0, recurrent_dropout=0.0, stateful=False, go_backwards=False, zero_output_for_mask=False,
            return_sequences=True)
LAYERS = {
    "SimpleRNN": dict(BASE),
    "LSTM": dict(BASE, recurrent_activation="hard_sigmoid"),
    "GRU": dict(BASE, recurrent_activation="sigmoid", reset_after=True),
}


def function_port(kind: str, conventions: Conventions):
    def port(x, weights, config, mask=None, initial_state=None):
        trace = run_sequence(kind, x, weights, config, mask=mask, initial_state=initial_state,
                             conventions=conventions, dtype=np.float32)
        return trace.layer_return()

    return port


def class_port(kind: str, conventions: Conventions):
    class Port:
        def __init__(self, weights, config):
            self.layer = StatefulSequence(kind, weights, config, conventions=conventions, dtype=np.float32)

        def reset_states(self):
            self.layer.reset_states()

        def __call__(self, x, mask=None, initial_state=None):
            return self.layer(x, mask=mask, initial_state=initial_state).layer_return()

    return Port


# (id, cell, conventions, extra fixed options, expected flag)
INJECTED = [
    ("gate-order-ifoc", "LSTM", Conventions(gate_order="ifoc"), {}, "gate-order"),
    ("gate-order-gru-rzh", "GRU", Conventions(gate_order="rzh"), {}, "gate-order"),
    ("sigmoid-for-hard-sigmoid", "LSTM", Conventions(recurrent_activation="sigmoid"), {}, "activation"),
    ("keras2-hard-sigmoid", "LSTM", Conventions(recurrent_activation="hard_sigmoid_keras2"), {}, "activation"),
    ("state-ones", "SimpleRNN", Conventions(initial_state="ones"), {}, "initial-state"),
    ("initial-state-ignored", "GRU", Conventions(initial_state="zeros"), dict(initial_state=True), "initial-state"),
    ("gru-update", "GRU", Conventions(gru_update="swapped"), {}, "gru-update-convention"),
    ("gru-reset-before", "GRU", Conventions(gru_reset="before"), {}, "gru-reset-after"),
    ("gru-recurrent-bias-dropped", "GRU", Conventions(gru_bias="drop-recurrent"), {}, "gru-reset-after"),
    ("bias-double", "LSTM", Conventions(bias="double"), {}, "bias"),
    ("forget-bias-plus-one", "LSTM", Conventions(forget_bias=1.0), {}, "bias"),
    ("recurrent-transposed", "SimpleRNN", Conventions(kernel_layout="recurrent-transposed"), {}, "kernel-layout"),
    ("go-backwards-flipped", "GRU", Conventions(time_direction="flipped"), dict(go_backwards=True), "time-direction"),
    ("mask-ignored", "LSTM", Conventions(mask="ignore"), dict(mask="mixed"), "masking"),
    ("masked-output-zeros", "SimpleRNN", Conventions(mask="zeros"), dict(mask="mixed"), "masking"),
    ("recurrence-dropped", "LSTM", Conventions(recurrent="dropped"), {}, "recurrent-term"),
    ("recurrence-lagged", "GRU", Conventions(recurrent="lagged"), {}, "recurrent-term"),
    ("recurrence-skipped-at-t0", "GRU", Conventions(recurrent="skip-first"), {}, "recurrent-term"),
    ("time-major-reshape", "SimpleRNN", Conventions(time_major="both"), dict(batch=3), "time-major"),
    ("time-major-input", "LSTM", Conventions(time_major="input"), dict(batch=2, mask="mixed"), "time-major"),
]


@pytest.mark.keras
@pytest.mark.parametrize("case_id, cell, conventions, extra, flag", INJECTED, ids=[c[0] for c in INJECTED])
def test_injected_fault_is_named(keras_runner, case_id, cell, conventions, extra, flag):
    report = check_port(function_port(cell, conventions), layer=cell, examples=4, runner=keras_runner,
                        **{**LAYERS[cell], **extra})
    assert report.verdict == "mismatch", render(report)
    assert report.flags == [flag], render(report)
    (finding,) = report.diagnosis.explained
    assert finding.ratio <= 1.0
    assert finding.residual < report.base_error / 100  # the fix removes the error, not just some of it


@pytest.mark.keras
def test_state_not_carried_between_stateful_calls_is_named(keras_runner):
    port = class_port("GRU", Conventions(state_carry="reset"))
    report = check_port(port, layer="GRU", examples=4, runner=keras_runner,
                        **dict(LAYERS["GRU"], stateful=True), chunks=3, timesteps=12)
    assert report.flags == ["initial-state"], render(report)


@pytest.mark.keras
def test_correct_stepper_port_matches_stateful_go_backwards_in_chunks(keras_runner):
    """Keras reverses each call's chunk on its own; the stepper adapter must feed it that way."""
    from reference_cells import KERAS, GRUCell, LayerOptions

    class Stepper:
        def __init__(self, weights, config):
            self.cell = GRUCell(weights, LayerOptions.from_config("GRU", config), KERAS, np.dtype(np.float32))
            self.h = None

        def step(self, x_t):
            if self.h is None:
                self.h = np.zeros((x_t.shape[0], self.cell.units), np.float32)
            out, (self.h,) = self.cell.step(x_t.astype(np.float32), [self.h])
            return out

    report = check_port(Stepper, layer="GRU", adapter="stepper", examples=3, runner=keras_runner,
                        **dict(LAYERS["GRU"], stateful=True, go_backwards=True), chunks=2, timesteps=10)
    assert report.verdict == "match", render(report)


@pytest.mark.keras
def test_lstm_states_returned_c_then_h_is_named(keras_runner):
    """A plain LSTM port returning [output, c, h] (TF1's LSTMStateTuple order): ``state-order``."""
    def port(x, weights, config, mask=None, initial_state=None):
        out, h, c = run_sequence("LSTM", x, weights, config, mask=mask, initial_state=initial_state,
                                 dtype=np.float32).layer_return()
        return [out, c, h]

    report = check_port(port, layer="LSTM", examples=4, runner=keras_runner, **LAYERS["LSTM"])
    assert report.flags == ["state-order"], render(report)


@pytest.mark.keras
def test_dropped_recurrence_with_swapped_gates_is_named_as_both(keras_runner):
    """The measured public port: h never fed back *and* the i and f blocks swapped."""
    port = function_port("LSTM", Conventions(gate_order="fico", recurrent="dropped"))
    report = check_port(port, layer="LSTM", examples=4, runner=keras_runner, **LAYERS["LSTM"])
    assert report.flags == ["gate-order", "recurrent-term"], render(report)


@pytest.mark.keras
def test_two_faults_are_both_named(keras_runner):
    port = function_port("LSTM", Conventions(gate_order="ifoc", recurrent_activation="sigmoid"))
    report = check_port(port, layer="LSTM", examples=4, runner=keras_runner, **LAYERS["LSTM"])
    assert report.flags == ["activation", "gate-order"], render(report)


@pytest.mark.keras
def test_correct_port_matches(keras_runner):
    for cell in LAYERS:
        report = check_port(function_port(cell, Conventions()), layer=cell, examples=4, runner=keras_runner,
                            mask="mixed", initial_state=True, **LAYERS[cell])
        assert report.verdict == "match", render(report)
        assert report.flags == []


@pytest.mark.keras
def test_fault_outside_the_catalogue_is_unexplained_with_closest_candidates(keras_runner):
    def port(x, weights, config):
        out = run_sequence("SimpleRNN", x, weights, config, dtype=np.float32).layer_return()
        out[0] = out[0] + 1e-3  # not a convention: a constant offset
        return out

    report = check_port(port, layer="SimpleRNN", examples=3, runner=keras_runner, **LAYERS["SimpleRNN"])
    assert report.flags == ["unexplained"]
    payload = report.to_json()
    assert payload["diagnosis"] and all("does NOT explain" in d["detail"] for d in payload["diagnosis"])
    assert "unexplained" in render(report) and "closest" in render(report)


@pytest.mark.keras
def test_json_has_the_documented_fields(keras_runner, tmp_path):
    report = check_port(function_port("GRU", Conventions(gru_update="swapped")), layer="GRU", examples=3,
                        runner=keras_runner, **LAYERS["GRU"])
    payload = json.loads(json.dumps(report.to_json()))
    assert {"verdict", "flags", "diagnosis", "first_divergence", "examples", "error"} <= set(payload)
    assert payload["verdict"] == "mismatch" and payload["flags"] == ["gru-update-convention"]
    assert payload["first_divergence"] == {"t": 0, "tensor": "output"}
    assert {"flag", "detail", "residual"} <= set(payload["diagnosis"][0])


@pytest.mark.parametrize("flag", FLAGS)
def test_every_flag_documents_its_symptom(flag):
    doc = flag_doc(flag)
    assert len(doc) > 30


def test_unknown_flag_is_rejected():
    with pytest.raises(ValueError, match="unknown flag"):
        flag_doc("gate-orders")
