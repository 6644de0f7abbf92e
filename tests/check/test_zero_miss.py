"""Zero misses: every catalogue fault, injected into a correct port, is caught whenever it shows.

For each flag, Hypothesis draws a layer and data (the same strategies as the
sweep, well-conditioned gains as the port check uses) and one of the flag's
candidate faults that applies to that layer. The "port" is the reference run
with that fault in float32, called through the ordinary port path.

Ground truth for "does this fault change the outputs here": the faulty float64
reference against the correct float64 reference, judged with the case's own
calibrated tolerance. Where that effect is at least :data:`MARGIN` times the
tolerance, the port check must report the example as a mismatch (or as an error
when the fault made the port overflow to NaN/inf where Keras stays finite). (Below that,
float32 round-off of port and Keras may legitimately hide the fault; those
draws are counted, not judged.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from harness.check.catalogue import FLAGS, candidates
from harness.oracle.references import cell_view
from harness.check.check import CHECK_GAINS, CheckOptions, run_check, run_example
from harness.check.output import render
from harness.oracle.compare import compare, summarize
from harness.ports.port import wrap_port
from harness.layers.profiles import limits
from tests.helpers import case_floor, reference_outputs
from harness.layers.strategies import case_specs
from reference_cells import run_sequence
from reference_cells.precision import FLOAT16

#: Effect / tolerance above which a fault must be caught: the port's float32 round-off and
#: Keras's each stay within one noise floor, far below one tolerance (32 floors).
MARGIN = 2.0

#: Per flag: cells where it applies and options it needs to be visible at all.
NEEDED = {
    "gate-order": dict(kinds=["LSTM", "GRU"]),
    "activation": dict(kinds=["SimpleRNN", "LSTM", "GRU"]),
    "initial-state": dict(kinds=["SimpleRNN", "LSTM", "GRU"]),
    "gru-update-convention": dict(kinds=["GRU"]),
    "gru-reset-after": dict(kinds=["GRU"]),
    "bias": dict(kinds=["SimpleRNN", "LSTM", "GRU"], use_bias=True),
    "kernel-layout": dict(kinds=["SimpleRNN", "LSTM", "GRU"]),
    "time-direction": dict(kinds=["SimpleRNN", "LSTM", "GRU"], go_backwards=True),
    "masking": dict(kinds=["SimpleRNN", "LSTM", "GRU"], mask="mixed"),
    "state-order": dict(kinds=["LSTM"], return_state=True),
    "recurrent-term": dict(kinds=["SimpleRNN", "LSTM", "GRU"]),
    "time-major": dict(kinds=["SimpleRNN", "LSTM", "GRU"], batch=3),  # silent with batch 1
}


#: Flags of wrapper layers only (Bidirectional, stacks): injected and named in tests/check/test_composite_ports.py.
WRAPPER_FLAGS = {"merge-mode"}


#: Not a fault injected into a port's maths but the port's arithmetic: every flag above is injected
#: under float16 too (test_injected_fault_is_named_under_float16), with and without declaring it.
ARITHMETIC_FLAGS = {"precision"}


def test_every_cell_flag_is_covered():
    assert set(NEEDED) == set(FLAGS) - {"unexplained"} - WRAPPER_FLAGS - ARITHMETIC_FLAGS


def _faulty_port(kind: str, conventions, dtype=np.float32):
    def port(x, weights, config, mask=None, initial_state=None):
        returned = run_sequence(kind, x, weights, config, mask=mask, initial_state=initial_state,
                                conventions=conventions.cell, dtype=dtype).layer_return()
        if conventions.lstm_states == "c-h":  # TF1's LSTMStateTuple order
            returned = [returned[0], returned[2], returned[1]]
        return [np.asarray(r, np.float32) for r in returned] if isinstance(returned, list) else np.asarray(returned, np.float32)

    return wrap_port(port, name=f"faulty-{conventions.describe()}")


def _draw_case_and_fault(data: st.DataObject, flag: str, *, max_timesteps: int):
    """A case with the options ``flag`` needs (NEEDED), and one of the catalogue's faults for ``flag`` that applies to it."""
    lim = limits()
    spec = data.draw(case_specs(max_timesteps=min(lim.max_timesteps, max_timesteps), max_batch=lim.max_batch,
                                max_units=lim.max_units, recurrent_gains=CHECK_GAINS, stateful=False,
                                **dict(NEEDED[flag])), label="case")
    view = cell_view(spec.layer.kind, spec.layer.to_keras_config())
    faults = [c for c in candidates(view, with_mask=spec.mask != "none", with_initial_state=spec.initial_state)
              if c.flag == flag]
    assume(faults)
    fault = data.draw(st.sampled_from(faults), label="fault")
    note(f"replay: {spec.replay_command()}  fault: {fault.conventions.describe()}")
    return spec, fault


def _fault_effect(spec, built, fault, noise):
    """How far the fault alone moves the reference's outputs, judged against ``noise``."""
    faulty = reference_outputs(built, conventions=fault.conventions)
    return summarize(spec.case_id(), spec.layer.kind,
                     compare(spec.case_id(), spec.layer.kind, faulty, reference_outputs(built), noise), noise)


@pytest.mark.keras
@pytest.mark.parametrize("flag", list(NEEDED))
@settings(max_examples=max(6, limits().max_examples // 3))
@given(data=st.data())
def test_injected_fault_is_caught_whenever_it_changes_the_outputs(keras_runner, flag: str, data: st.DataObject):
    spec, fault = _draw_case_and_fault(data, flag, max_timesteps=40)
    built = spec.build()
    noise = case_floor(built)
    effect = _fault_effect(spec, built, fault, noise)
    visible = effect.worst_ratio >= MARGIN
    event(f"{flag}: {'visible' if visible else 'hidden by this draw'}")
    outcome, _ = run_example(_faulty_port(spec.layer.kind, fault.conventions), spec, keras_runner)
    if visible:
        # "error" counts as caught: it is the port returning NaN/inf where Keras is finite (the fault overflowed).
        assert outcome.result.status in ("drift", "error"), (
            f"missed {flag} ({fault.detail}): the fault moves the outputs {effect.worst_ratio:.1f}x the tolerance "
            f"(first at {effect.first_tensor} t={effect.first_t}), but the check says {outcome.result.status}; "
            f"replay: {spec.replay_command()}"
        )


@pytest.mark.keras
@pytest.mark.parametrize("flag", list(NEEDED))
@settings(max_examples=max(3, limits().max_examples // 8), deadline=None,
          suppress_health_check=[HealthCheck.nested_given])  # the check draws its fresh examples with Hypothesis
@given(data=st.data())
def test_injected_fault_is_named_under_float16(keras_runner, flag: str, data: st.DataObject):
    """The same faults in a port that computes in float16: whenever the fault moves the outputs by
    MARGIN x the float16 tolerance, the check names it - declared (--precision float16) and not
    declared (then usually with the flag precision besides): round-off never hides a real bug."""
    spec, fault = _draw_case_and_fault(data, flag, max_timesteps=32)
    built = spec.build()
    noise = case_floor(built, precision=FLOAT16)
    effect = _fault_effect(spec, built, fault, noise)
    visible = effect.worst_ratio >= MARGIN
    event(f"{flag} under float16: {'visible' if visible else 'hidden by this draw'}")
    assume(visible)
    port = _faulty_port(spec.layer.kind, fault.conventions, dtype=FLOAT16)
    for declared in ("float16", "float32"):
        options = CheckOptions(kind=spec.layer.kind, replay=(spec.token(),), precision=declared)
        report = run_check(port, options, runner=keras_runner)
        if report.verdict == "error":  # the fault overflowed float16 where Keras stays finite: caught as an error
            continue
        assert flag in report.flags, (
            f"missed {flag} ({fault.detail}) in a float16 port checked at {declared}: the fault moves the outputs "
            f"{effect.worst_ratio:.1f}x the float16 tolerance\n{render(report)}")
