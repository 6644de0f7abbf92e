"""A case Keras cannot run is recorded with a one-line reason (the record files hold one line per case).

TensorFlow raises a crash inside a traced call as a whole traceback (``in user code:``
frames); the known-behaviours registry matches the whole text, the result keeps the line
that says why, with the exception's type.
"""

from __future__ import annotations

import json

from harness.layers.case import CaseSpec
from harness.layers.composite import CompositeSpec
from harness.sweep.parity import check_case, error_outcome
from harness.target.runner import KerasRunner


def test_a_keras_crash_is_unsupported_with_a_one_line_reason():
    recipe = {"kind": "Bidirectional", "inner": "GRU", "merge_mode": "concat",
              "inner_kwargs": {"units": 3, "return_sequences": True, "return_state": True, "stateful": True}}
    layer = CompositeSpec(kind="Bidirectional", recipe=json.dumps(recipe, sort_keys=True), input_shape=(2,))
    result = check_case(CaseSpec(layer=layer, batch=2, timesteps=6, chunks=2, seed=1), KerasRunner()).result
    assert (result.status, result.behaviour) == ("unsupported", "bidirectional-stateful-return-state-crash")
    assert "\n" not in result.error and result.error.startswith("TypeError: "), result.error
    assert "'generator' and 'int'" in result.error


def test_a_multi_line_error_keeps_the_innermost_reason_and_a_one_line_error_is_unchanged():
    recipe = {"kind": "Bidirectional", "inner": "LSTM", "merge_mode": "sum", "inner_kwargs": {"units": 2}}
    spec = CaseSpec(layer=CompositeSpec(kind="Bidirectional", recipe=json.dumps(recipe), input_shape=(1,)), batch=1,
                    timesteps=2, seed=3)
    chained = ValueError("in user code:\n\n    File \"x.py\", line 3, in f\n        y()\n\n    ValueError: shapes (2,) and (3,) differ\n")
    assert error_outcome(spec, chained).result.error == "ValueError: shapes (2,) and (3,) differ"
    assert error_outcome(spec, KeyError("units")).result.error == "KeyError: 'units'"


def test_a_case_failing_after_a_ctrl_c_raises_the_interrupt_not_an_error():
    """TensorFlow can turn a Ctrl-C that lands in a trace into e.g. ``TypeError: Expected int32, but got
    None`` (seen under load): while the sweep watches for SIGINT, such a failure re-raises the interrupt."""
    import os
    import signal
    import time

    import pytest

    from harness.sweep.interrupts import watching

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        pytest.skip("SIGINT is ignored in this process")
    recipe = {"kind": "Bidirectional", "inner": "LSTM", "merge_mode": "sum", "inner_kwargs": {"units": 2}}
    spec = CaseSpec(layer=CompositeSpec(kind="Bidirectional", recipe=json.dumps(recipe), input_shape=(1,)), batch=1,
                    timesteps=2, seed=3)
    mangled = TypeError("Expected int32, but got None of type 'NoneType'.")
    with watching():
        assert error_outcome(spec, mangled).result.status == "error"  # no Ctrl-C yet: an ordinary failed case
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises as soon as the signal is delivered
        with pytest.raises(KeyboardInterrupt):
            error_outcome(spec, mangled)
    assert error_outcome(spec, mangled).result.status == "error"  # outside a sweep: nothing remembered
