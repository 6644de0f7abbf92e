"""Zero misses for ports right in some configurations only: the flag *and* its condition.

The unconditional half is ``test_zero_miss.py``. Here Hypothesis draws a cell, a catalogue
fault and a condition - one drawn option value (``go_backwards=True``, ``zero_output_for_mask=
True``, ``return_sequences=False``, GRU ``reset_after=False`` ...) or a data fact (batch > 1,
a mask given, an initial state given) - and the "port" runs the reference with the fault
only where the condition holds (float32, the ordinary port path): a fast path beside a
general loop, a branch added later. Whenever the fault changes the outputs (by
:data:`MARGIN` tolerances, judged as in ``test_zero_miss.py``) on some example of the check
where the condition holds, the check must name the fault's flag, and only it, with a
condition (``when`` in the JSON answer) that names the drawn fact with its value.

And the other side: a correct port that supports only the options it is given (it raises
NotImplementedError for anything else), checked with those options pinned, is never flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from harness.api import check_port
from harness.check.conditions import describe, facts
from harness.check.output import render
from harness.layers.profiles import limits
from harness.oracle.compare import compare, summarize
from reference_cells import KERAS, Conventions, run_sequence
from tests.check.test_zero_miss import MARGIN
from tests.helpers import case_floor, reference_outputs

KINDS = ("SimpleRNN", "LSTM", "GRU")
#: The check draws its own examples with Hypothesis inside each drawn test case.
NESTED = [HealthCheck.nested_given, HealthCheck.too_slow, HealthCheck.data_too_large]

#: (fact, value, kinds it applies to): the condition a fault is active under.
CONDITIONS = [
    ("go_backwards", True, KINDS),
    ("go_backwards", False, KINDS),
    ("zero_output_for_mask", True, KINDS),
    ("return_sequences", False, KINDS),
    ("return_state", True, KINDS),
    ("reset_after", False, ("GRU",)),
    ("reset_after", True, ("GRU",)),
    ("batch", ">1", KINDS),
    ("mask", "mixed", KINDS),
    ("initial_state", True, KINDS),
]

#: (conventions, flag, kinds): faults that show on almost any example (the check fixes
#: activation=tanh, recurrent_activation=sigmoid, use_bias=True).
FAULTS = [
    (Conventions(gate_order="ifoc"), "gate-order", ("LSTM",)),
    (Conventions(gate_order="rzh"), "gate-order", ("GRU",)),
    (Conventions(activation="sigmoid"), "activation", KINDS),
    (Conventions(bias="double"), "bias", KINDS),
    (Conventions(bias="none"), "bias", KINDS),
    (Conventions(gru_update="swapped"), "gru-update-convention", ("GRU",)),
    (Conventions(kernel_layout="recurrent-transposed"), "kernel-layout", KINDS),
    (Conventions(recurrent="dropped"), "recurrent-term", KINDS),
]

FIXED = {"activation": "tanh", "use_bias": True}


def _holds(name: str, value: Any, x, config, mask, initial_state) -> bool:
    """The condition as the port sees it (the same facts :func:`harness.check.conditions.facts` reads)."""
    if name == "batch":
        return (np.shape(x)[0] > 1) == (value == ">1")
    if name == "mask":
        return (mask is not None) == (value == "mixed")
    if name == "initial_state":
        return (initial_state is not None) == bool(value)
    return config.get(name) == value


def conditional_port(kind: str, fault: Conventions, name: str, value: Any):
    """The reference with ``fault`` where ``name == value`` holds, Keras's behaviour elsewhere."""

    def port(x, weights, config, mask=None, initial_state=None):
        conventions = fault if _holds(name, value, x, config, mask, initial_state) else KERAS
        return run_sequence(kind, x, weights, config, mask=mask, initial_state=initial_state,
                            conventions=conventions, dtype=np.float32).layer_return()

    port.__name__ = f"{kind}-{fault.describe()}-when-{name}={value}"
    return port


def _visible(spec, fault: Conventions) -> bool:
    """Does ``fault`` move this example's outputs by MARGIN tolerances (float64 reference, own floor)?"""
    built = spec.build()
    noise = case_floor(built)
    effect = summarize(spec.case_id(), spec.layer.kind,
                       compare(spec.case_id(), spec.layer.kind, reference_outputs(built, conventions=fault),
                               reference_outputs(built), noise), noise)
    return effect.worst_ratio >= MARGIN


@pytest.mark.keras
@settings(max_examples=max(4, limits().max_examples // 7), suppress_health_check=NESTED)
@given(data=st.data())
def test_conditional_fault_is_named_with_its_condition(keras_runner, data: st.DataObject):
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    name, value, _ = data.draw(st.sampled_from([c for c in CONDITIONS if kind in c[2]]), label="condition")
    fault, flag, _ = data.draw(st.sampled_from([f for f in FAULTS if kind in f[2]]), label="fault")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    fixed = dict(FIXED, **({} if kind == "SimpleRNN" else {"recurrent_activation": "sigmoid"}))
    note(f"{kind}: {fault.describe()} only when {name}={value}; seed {seed}")

    report = check_port(conditional_port(kind, fault, name, value), layer=kind, examples=10, seed=seed,
                        max_timesteps=min(limits().max_timesteps, 24), runner=keras_runner, **fixed)
    answer = render(report)
    holding = [o for o in report.outcomes if facts(o.spec).get(name) == value]
    visible = any(_visible(o.spec, fault) for o in holding)
    event(f"{'visible' if visible else 'hidden by this draw'}")
    assume(visible)  # the check cannot be asked to name what none of its examples shows
    assert report.verdict == "mismatch", f"missed {flag} under {name}={value}:\n{answer}"
    assert report.flags == [flag], f"{fault.describe()} when {name}={value}: flags {report.flags}\n{answer}"
    causes = report.to_json()["causes"]
    named = [c["when"] for c in causes if c["flag"] == flag]
    assert any(when.get(name) == value for when in named), (
        f"{flag} named, but under {[describe(w) for w in named]}, not {describe({name: value})}\n{answer}")
    event("condition exact" if {name: value} in named else "condition names the fact among others")


#: Options a narrow port may support only one value of (and is checked with that value pinned).
NARROW = {
    "go_backwards": st.booleans(),
    "return_sequences": st.booleans(),
    "return_state": st.booleans(),
    "zero_output_for_mask": st.booleans(),
    "use_bias": st.booleans(),
    "activation": st.sampled_from(["tanh", "relu"]),
}


def narrow_port(kind: str, pins: dict[str, Any]):
    """A correct port that refuses every configuration but the pinned one, and takes no mask."""

    def port(x, weights, config, initial_state=None):
        for key, value in pins.items():
            if config.get(key) != value:
                raise NotImplementedError(f"this port only supports {key}={value!r}")
        return run_sequence(kind, x, weights, config, initial_state=initial_state,
                            dtype=np.float32).layer_return()

    return port


@pytest.mark.keras
@settings(max_examples=max(3, limits().max_examples // 12), suppress_health_check=NESTED)
@given(data=st.data())
def test_narrow_correct_port_with_its_options_pinned_is_never_flagged(keras_runner, data: st.DataObject):
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    names = data.draw(st.lists(st.sampled_from(sorted(NARROW)), min_size=1, max_size=4, unique=True), label="pinned")
    pins = {n: data.draw(NARROW[n], label=n) for n in names}
    if kind == "GRU":
        pins["reset_after"] = data.draw(st.booleans(), label="reset_after")
    report = check_port(narrow_port(kind, pins), layer=kind, examples=6, seed=data.draw(st.integers(0, 2**16)),
                        max_timesteps=min(limits().max_timesteps, 24), runner=keras_runner, **pins)
    assert report.verdict == "match", render(report)
    assert report.flags == [] and report.diagnosis is None
