"""Reduced-precision ports: declared (``--precision``), undeclared (the flag ``precision``), and the bugs
still found under round-off. The ports are ``cases/ports/low_precision.py``: NumPy float16, ml_dtypes
bfloat16 and integer ap_fixed<16,6> arithmetic, written independently of the reference's simulation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from harness.api import check_port
from harness.check.check import CheckOptions
from harness.check.output import render
from harness.errors import UsageError
from reference_cells import Conventions, run_sequence
from reference_cells.precision import FLOAT16, fixed

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cases" / "ports"))
from low_precision import make_port  # noqa: E402

PRECISIONS = ("float16", "bfloat16", "fixed<16,6>")
CELLS = ("SimpleRNN", "LSTM", "GRU")


def _fixed(kind: str) -> dict:
    """The activations the example ports implement (everything else is drawn)."""
    return {"activation": "tanh", **({} if kind == "SimpleRNN" else {"recurrent_activation": "sigmoid"})}


@pytest.mark.keras
@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_correct_low_precision_port_matches_when_declared(keras_runner, precision, kind):
    """Zero false alarms: a correct port computing in that arithmetic matches at its declared precision."""
    report = check_port(make_port(kind, precision), layer=kind, examples=5, seed=3, runner=keras_runner,
                        precision=precision, **_fixed(kind))
    assert report.verdict == "match", render(report)
    assert report.to_json()["precision"] == precision


@pytest.mark.keras
@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_undeclared_precision_is_named(keras_runner, precision, kind):
    """Without --precision the same port is a mismatch whose only cause is its precision, named."""
    report = check_port(make_port(kind, precision), layer=kind, examples=4, seed=3, runner=keras_runner,
                        **_fixed(kind))
    assert report.verdict == "mismatch" and report.flags == ["precision"], render(report)
    assert report.to_json()["detected_precision"] == precision
    assert f"pass --precision {precision}" in render(report)


@pytest.mark.keras
def test_float16_gate_order_is_named_declared_or_not(keras_runner):
    port = make_port("LSTM", "float16", gate_order="ifoc")
    declared = check_port(port, layer="LSTM", examples=4, runner=keras_runner, precision="float16", **_fixed("LSTM"))
    assert declared.flags == ["gate-order"], render(declared)
    undeclared = check_port(port, layer="LSTM", examples=4, runner=keras_runner, **_fixed("LSTM"))
    assert undeclared.flags == ["gate-order", "precision"], render(undeclared)
    assert "within tolerance at float16" in render(undeclared)


@pytest.mark.keras
def test_the_declared_tolerance_is_not_vacuous(keras_runner):
    """A test that cannot fail is a defect: an 8-bit fixed-point port (step 1/16) does not pass for float16,
    and a float16 port with its bias counted twice does not pass for float16 round-off. (A bfloat16 port
    declared float16 can pass: its round-off, 8 float16 ulps, is within the 32-floor tolerance; undeclared,
    it is named bfloat16 - tests above.)"""
    coarse = check_port(make_port("GRU", "fixed<8,4>"), layer="GRU", examples=6, runner=keras_runner,
                        precision="float16", **_fixed("GRU"))
    assert coarse.verdict == "mismatch", render(coarse)

    def double_bias(x, weights, config, mask=None, initial_state=None):
        out = run_sequence("LSTM", x, weights, config, mask=mask, initial_state=initial_state,
                           conventions=Conventions(bias="double"), dtype=FLOAT16).layer_return()
        return [np.asarray(r, np.float32) for r in out] if isinstance(out, list) else np.asarray(out, np.float32)

    broken = check_port(double_bias, layer="LSTM", examples=4, runner=keras_runner, precision="float16",
                        use_bias=True, **_fixed("LSTM"))
    assert broken.flags == ["bias"], render(broken)


@pytest.mark.keras
def test_float32_offset_of_float16_size_is_not_precision(keras_runner):
    """Round-off has a fingerprint (the values lie on the precision's grid); a float32 bug of the same size
    does not: a constant 1e-3 offset stays unexplained."""
    def offset(x, weights, config):
        out = run_sequence("SimpleRNN", x, weights, config, dtype=np.float32).layer_return()
        return (out[0] + np.float32(1e-3), *out[1:]) if isinstance(out, list) else out + np.float32(1e-3)

    report = check_port(offset, layer="SimpleRNN", examples=3, runner=keras_runner, activation="tanh")
    assert report.flags == ["unexplained"], render(report)


@pytest.mark.parametrize("bad, message", [("float8", "'float8' is not one of float32, float16, bfloat16"),
                                          ("fixed<3,9>", "not a valid fixed<W,I>")])
def test_bad_precision_is_a_usage_error(bad, message):
    with pytest.raises(UsageError, match=f"precision: .*{message[:20]}"):
        CheckOptions(kind="LSTM", precision=bad)


def test_conv_lstm_refuses_a_reduced_precision():
    with pytest.raises(UsageError, match="ConvLSTM2D ports are checked in float32 only"):
        CheckOptions(kind="ConvLSTM2D", precision="float16")


def test_precision_objects_are_accepted():
    assert CheckOptions(kind="GRU", precision=fixed(16, 6)).precision == fixed(16, 6)
    assert str(CheckOptions(kind="GRU").precision) == "float32"
