"""Hostile ports: each way a port can misbehave is an ``error`` for that example, with a
one-line reason, the check goes on with the other examples, and the CLI exits 2.

Every port here is a tiny SimpleRNN port (the reference run in float32, which
matches Keras) with one misbehaviour added. The layer is fully fixed so the
Keras layer is built once per session.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from harness import cli
from harness.api import check_port
from harness.check.output import render
from harness.ports.loading import load_port
from harness.ports.port import wrap_port
from harness.ports.guard import HUNG, PortCallError, PortGuard, checked_array, first_non_finite
from harness.layers.tensors import NamedTensor
from reference_cells import run_sequence

LAYER = dict(units=3, features=2, activation="tanh", use_bias=True, return_sequences=True, return_state=False,
             go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, dropout=0.0,
             recurrent_dropout=0.0)
CLI_LAYER = ["--layer", "SimpleRNN", "--units", "3", "--features", "2"] + [
    arg for key, value in LAYER.items() if key not in ("units", "features")
    for arg in ("--set", f"{key}={json.dumps(value)}")
]


def simple_rnn(x, weights, config):
    """A correct port: what Keras returns."""
    return run_sequence("SimpleRNN", x, weights, config, dtype=np.float32).layer_return()


def check(port, *, examples=3, runner, **extra):
    return check_port(port, layer="SimpleRNN", examples=examples, runner=runner, **{**LAYER, **extra})


def statuses(report) -> list[str]:
    return [o.result.status for o in report.outcomes]


def reasons(report) -> list[str]:
    return [e["reason"] for e in report.errors]


def one_reason(report) -> str:
    """The reason shared by every example (asserting there is just one)."""
    reasons = {e["reason"] for e in report.errors}
    assert len(reasons) == 1, reasons
    return reasons.pop()


@pytest.mark.keras
def test_correct_port_still_matches(keras_runner):
    report = check(simple_rnn, runner=keras_runner)
    assert report.verdict == "match", render(report)
    assert report.errors == [] and report.notes == []


# ------------------------------------------------------------ 1. raises
def _helper_3(x):
    return x.size // 0


def _helper_2(x):
    return _helper_3(x)


def _helper_1(x):
    return _helper_2(x)


@pytest.mark.keras
def test_exception_shows_the_ports_own_last_frames(keras_runner):
    def port(x, weights, config):
        return _helper_1(x)

    report = check(port, runner=keras_runner)
    assert report.verdict == "error" and statuses(report) == ["error"] * 3  # every example was tried
    reason = one_reason(report)
    assert reason.startswith("the port raised ZeroDivisionError: integer division or modulo by zero [traceback: ")
    frames = reason.split("[traceback: ")[1].rstrip("]").split(" -> ")
    assert len(frames) == 3  # four port frames, the last three shown
    assert frames[0].startswith("test_hostile_ports.py:") and "in _helper_2: return _helper_3(x)" in frames[1]
    assert frames[2].endswith("in _helper_3: return x.size // 0")
    assert "port_guard" not in reason and "harness" not in reason and "\n" not in reason
    assert report.error.startswith(reason) and "3 of 3 examples failed" in report.error


@pytest.mark.keras
def test_exception_on_one_example_leaves_the_others_checked(keras_runner):
    calls = []

    def port(x, weights, config):
        calls.append(1)
        if len(calls) == 3:  # calls 1-2: the first example, run twice; call 3: the second example
            raise ValueError("bad\nexample")
        return simple_rnn(x, weights, config)

    report = check(port, runner=keras_runner)
    assert statuses(report) == ["pass", "error", "pass"], render(report)
    assert report.verdict == "error"
    (error,) = report.errors
    assert error["example"] == report.outcomes[1].spec.case_id()
    assert error["reason"].startswith("the port raised ValueError: bad / example [traceback: test_hostile_ports.py:")
    assert "1 of 3 examples failed" in report.error


# ------------------------------------------------------------ 2. hangs
def _port_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rnn-parity-port"]


@pytest.mark.keras
def test_hang_times_out_and_skips_the_remaining_examples(keras_runner):
    def port(x, weights, config):
        while True:
            pass

    started = time.perf_counter()
    report = check(wrap_port(port, name="spin", timeout=0.5), runner=keras_runner)
    assert time.perf_counter() - started < 5
    assert statuses(report) == ["error"] * 3
    reasons = [e["reason"] for e in report.errors]
    assert reasons[0].startswith("the port did not return within 0.5 s (--timeout)")
    assert reasons[1:] == [HUNG, HUNG]
    assert "1 of 3 examples failed, 2 not run after the port hung" in report.error
    deadline = time.perf_counter() + 3
    while _port_threads() and time.perf_counter() < deadline:  # the busy loop is asked to stop
        time.sleep(0.05)
    assert not _port_threads()


def test_timeout_applies_to_each_call_and_marks_the_guard_hung():
    guard = PortGuard(timeout=0.2)
    assert guard.call(lambda a: a + 1, 1) == 2
    with pytest.raises(PortCallError, match=r"did not return within 0\.2 s"):
        guard.call(time.sleep, 1.0)
    assert guard.hung
    with pytest.raises(PortCallError, match=HUNG):
        guard.call(lambda: 1)


# ------------------------------------------------------------ 3. wrong shape
@pytest.mark.keras
@pytest.mark.parametrize("bug, expected", [
    (lambda out: out[:, -1], "the port returned output of shape (2, 3), expected (2, 6, 3) = (batch, timesteps, units); "
                             "likely cause: return_sequences=True ignored (return every timestep)"),
    (lambda out: out.transpose(1, 0, 2), "the port returned output of shape (6, 2, 3), expected (2, 6, 3) = "
                                         "(batch, timesteps, units); likely cause: time-major output (Keras returns batch first)"),
    (lambda out: out[..., :2], "the port returned output of shape (2, 6, 2), expected (2, 6, 3) = (batch, timesteps, units)"),
    (lambda out: out[0], "the port returned output of shape (6, 3), expected (2, 6, 3) = (batch, timesteps, units); "
                         "likely cause: return_sequences=True ignored (return every timestep)"),
], ids=["return-sequences-ignored", "time-major", "units", "batch-dropped"])
def test_wrong_shape_says_expected_got_and_the_likely_cause(keras_runner, bug, expected):
    def port(x, weights, config):
        return bug(simple_rnn(x, weights, config))

    report = check(port, runner=keras_runner, batch=2, timesteps=6)
    assert statuses(report) == ["error"] * 3
    assert report.verdict == "error"
    assert one_reason(report) == expected


# ------------------------------------------------------------ 4. wrong dtype or not an array
@pytest.mark.keras
@pytest.mark.parametrize("convert, expected", [
    (lambda out: out.astype(np.int64), "the port returned output as an int64 array of shape (2, 6, 3); expected floats"),
    (lambda out: out.astype(bool), "the port returned output as a bool array"),
    (lambda out: out.astype(object), "the port returned output as an object array of shape (2, 6, 3); expected floats"),
    (lambda out: out.astype(np.complex64), "the port returned output as a complex64 array"),
    (lambda out: out.tolist(), "the port returned output as a Python list of 2 item(s), not an array"),
    (lambda out: None, "the port returned None for output (a missing return statement?)"),
    (lambda out: float(out.sum()), "the port returned output as a float, not an array"),
], ids=["int", "bool", "object", "complex", "list", "none", "scalar"])
def test_wrong_dtype_or_a_list_says_what_the_port_returned(keras_runner, convert, expected):
    def port(x, weights, config):
        return convert(simple_rnn(x, weights, config))

    report = check(port, runner=keras_runner, batch=2, timesteps=6)
    assert statuses(report) == ["error"] * 3
    assert all(r.startswith(expected) for r in reasons(report)), reasons(report)


@pytest.mark.keras
@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_other_float_dtypes_are_accepted(keras_runner, dtype):
    def port(x, weights, config):
        return run_sequence("SimpleRNN", x, weights, config, dtype=np.float64).layer_return().astype(dtype)

    report = check(port, runner=keras_runner)
    assert "error" not in statuses(report), render(report)


def test_checked_array_accepts_array_likes():
    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.zeros((1, 3), np.float32)

    assert checked_array(ArrayLike(), "output").shape == (1, 3)
    with pytest.raises(PortCallError, match="as a uint8 array"):
        checked_array(np.zeros(3, np.uint8), "output")


# ------------------------------------------------------------ 5. NaN / inf
@pytest.mark.keras
@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_output_names_the_first_timestep(keras_runner, value, kind):
    def port(x, weights, config):
        out = simple_rnn(x, weights, config)
        out[1, 4, 2] = value
        out[0, 5:, :] = value
        return out

    report = check(port, runner=keras_runner, batch=2, timesteps=6)
    # Non-finite values are evidence (each example diverges and is diagnosed); no catalogue cause
    # explains these, so the check ends in an error that names the first one.
    assert statuses(report) == ["drift"] * 3
    assert report.verdict == "error"
    assert report.error.startswith(f"the port returned {kind} in output at t=4 (batch 1, unit 2) where Keras is "
                                   "finite (4 non-finite value(s) in all) (example ")
    assert "no catalogue cause explains it; 3 of 3 examples non-finite" in report.error


def test_non_finite_where_keras_is_non_finite_too_is_not_an_error():
    steps = np.arange(3)
    keras = np.zeros((1, 3, 2))
    keras[0, 1, 0] = np.nan
    port = keras.copy()
    assert first_non_finite({"output": NamedTensor("output", port, steps)},
                            {"output": NamedTensor("output", keras, steps)}) is None
    port[0, 2, 1] = np.inf
    assert "inf in output at t=2 (batch 0, unit 1)" in first_non_finite(
        {"output": NamedTensor("output", port, steps)}, {"output": NamedTensor("output", keras, steps)})


# ------------------------------------------------------------ 6. modifies its inputs
@pytest.mark.keras
@pytest.mark.parametrize("mutate, name", [
    (lambda x, weights: x.__imul__(2.0), "x"),
    (lambda x, weights: weights[1].fill(0.0), "weights[1]"),
], ids=["x", "weights"])
def test_input_modified_in_place_is_an_error(keras_runner, mutate, name):
    def port(x, weights, config):
        out = simple_rnn(x, weights, config)
        mutate(x, weights)
        return out

    report = check(port, runner=keras_runner)
    assert statuses(report) == ["error"] * 3
    for reason in reasons(report):
        assert re.fullmatch(rf"the port modified its input {re.escape(name)} in place \(\d+ value\(s\) changed, first at "
                            r"index \(0, 0(, 0)?\)\); this would corrupt the comparison: work on a copy", reason), reason


def test_mask_and_initial_state_are_watched_too():
    guard = PortGuard(timeout=5)
    mask = np.ones((2, 4), bool)

    def port(x, mask=None, initial_state=None):
        initial_state[0][1, 2] = 7.0

    with pytest.raises(PortCallError, match=r"modified its input initial_state\[0\] in place .*index \(1, 2\)"):
        guard.call(port, np.zeros((2, 4, 1)), arg_names=("x",), mask=mask, initial_state=[np.zeros((2, 3))])

    def masker(x, mask=None):
        mask[:, -1] = False

    with pytest.raises(PortCallError, match=r"modified its input mask in place"):
        guard.call(masker, np.zeros((2, 4, 1)), arg_names=("x",), mask=mask)


# ------------------------------------------------------------ 7. prints
@pytest.mark.keras
def test_prints_are_suppressed_and_counted_in_a_note(keras_runner, capsys):
    def port(x, weights, config):
        print("debug: x has shape", x.shape)
        print("to stderr", file=sys.stderr)
        return simple_rnn(x, weights, config)

    report = check(port, runner=keras_runner)
    captured = capsys.readouterr()
    assert "debug" not in captured.out + captured.err and "to stderr" not in captured.out + captured.err
    assert report.verdict == "match", render(report)  # a note, not an error
    assert report.notes == ["the port printed 6 line(s) (suppressed)"]  # 2 lines x 3 examples
    assert "  note: the port printed 6 line(s) (suppressed)" in render(report).splitlines()


# ------------------------------------------------------------ 8. sys.exit
@pytest.mark.keras
@pytest.mark.parametrize("code, shown", [(3, "sys.exit(3)"), (None, "sys.exit()"), ("bye", "sys.exit('bye')")])
def test_sys_exit_is_caught(keras_runner, code, shown):
    def port(x, weights, config):
        sys.exit(code)

    report = check(port, runner=keras_runner)
    assert statuses(report) == ["error"] * 3
    assert one_reason(report) == f"the port called {shown} (a port must return its outputs or raise)"


# ------------------------------------------------------------ 9. crashes (subprocess)
@pytest.mark.keras
def test_subprocess_port_crash_names_the_signal(keras_runner):
    code = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    port = load_port(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}", adapter="subprocess", timeout=10)
    report = check(port, runner=keras_runner, examples=2)
    assert statuses(report) == ["error"] * 2
    assert one_reason(report).startswith(f"the port crashed (signal {int(signal.SIGSEGV)}, SIGSEGV)")


@pytest.mark.keras
def test_subprocess_port_time_out_is_per_call(keras_runner):
    port = load_port(f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(30)'", adapter="subprocess", timeout=0.5)
    report = check(port, runner=keras_runner, examples=2)
    assert reasons(report) == ["the port did not finish within 0.5 s (--timeout)"] * 2  # the process is killed


SUBPROCESS_PORT = """\
import json, sys
from pathlib import Path
import numpy as np
from reference_cells import run_sequence

in_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
config = json.loads((in_dir / "config.json").read_text())
weights = [np.load(in_dir / f"weight_{k}.npy") for k in range(3)]
print("hello from the port")
np.save(out_dir / "output.npy", run_sequence("SimpleRNN", np.load(in_dir / "x.npy"), weights, config,
                                             dtype=np.float32).layer_return())
"""


@pytest.mark.keras
def test_subprocess_port_prints_are_counted_in_a_note(keras_runner, tmp_path):
    script = tmp_path / "port.py"
    script.write_text(SUBPROCESS_PORT)
    port = load_port(f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", adapter="subprocess", timeout=30)
    report = check(port, runner=keras_runner, examples=2)
    assert report.verdict == "match", render(report)
    assert report.notes == ["the port printed 2 line(s) (suppressed)"]


# ------------------------------------------------------------ 10. nondeterministic
@pytest.mark.keras
def test_nondeterministic_port_is_an_error(keras_runner):
    calls = []

    def port(x, weights, config):
        calls.append(1)
        out = simple_rnn(x, weights, config)
        out[:, 2:] += 1e-3 * len(calls)  # hidden state between calls
        return out

    report = check(port, runner=keras_runner, timesteps=5)
    first = report.outcomes[0].result
    assert first.status == "error"
    assert first.error == "the port is nondeterministic: two runs on the same input differ by 0.001 at output t=2"
    assert report.verdict == "error"


# ------------------------------------------------------------ every Python adapter is guarded
class RaisesInCall:
    def __init__(self, weights, config):
        self.weights = weights

    def __call__(self, x):
        return {}["missing"]


class ExitsInStep:
    def __init__(self, weights, config):
        pass

    def step(self, x_t):
        sys.exit(2)


def bumps_its_state(x_t, states, weights, config):
    states[0] += 1.0
    return states[0], states


class HangsInInit:
    def __init__(self, weights, config):
        while True:
            pass


@pytest.mark.keras
@pytest.mark.parametrize("obj, adapter, expected", [
    (RaisesInCall, "class", "the port raised KeyError: 'missing' [traceback: test_hostile_ports.py:"),
    (ExitsInStep, "stepper", "the port called sys.exit(2)"),
    (bumps_its_state, "step", "the port modified its input states[0] in place"),
    (HangsInInit, "class", "the port did not return within 0.3 s"),
], ids=["class-raises", "stepper-exits", "step-mutates", "class-hangs"])
def test_every_python_adapter_is_guarded(keras_runner, obj, adapter, expected):
    report = check(wrap_port(obj, adapter=adapter, timeout=0.3), runner=keras_runner)
    assert statuses(report) == ["error"] * 3
    assert reasons(report)[0].startswith(expected), reasons(report)


# ------------------------------------------------------------ the command line
def _write_port(tmp_path, body: str) -> str:
    path = tmp_path / "hostile.py"
    path.write_text(textwrap.dedent("""\
        import sys
        import numpy as np
        from reference_cells import run_sequence


        def good(x, weights, config):
            return run_sequence("SimpleRNN", x, weights, config, dtype=np.float32).layer_return()


    """) + textwrap.dedent(body))
    return f"{path}:port"


@pytest.mark.keras
def test_cli_hostile_port_exits_2_with_one_clean_answer_and_valid_json(tmp_path, capsys):
    port = _write_port(tmp_path, """\
        CALLS = []


        def port(x, weights, config):
            CALLS.append(1)
            print("PORT-NOISE on stdout")
            print("PORT-NOISE on stderr", file=sys.stderr)
            if len(CALLS) == 3:
                return good(x, weights, config).astype(int)
            if len(CALLS) == 4:
                return helper()
            return good(x, weights, config)


        def helper():
            raise RuntimeError("port bug")
        """)
    out_json = tmp_path / "answer.json"
    code = cli.main(["check", port, *CLI_LAYER, "--examples", "4", "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 2
    assert "PORT-NOISE" not in captured.out + captured.err
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"ERROR  {port}  (4 examples")
    assert lines[1].startswith("  error: the port returned output as an int64 array")
    assert lines[1].endswith("2 of 4 examples failed)")
    assert lines[2].startswith("  also: the port raised RuntimeError: port bug [traceback: hostile.py:")
    assert "in helper: raise RuntimeError(\"port bug\")]" in lines[2]
    assert lines[-1] == "  note: the port printed 8 line(s) (suppressed)"  # 2 per example (the rerun is not counted)
    assert len(lines) == 5 and lines[3].startswith("  not exercised:")
    payload = json.loads(out_json.read_text())
    assert payload["verdict"] == "error" and payload["error"] == lines[1].removeprefix("  error: ")
    first, second = payload["errors"]
    assert payload["error"] == f"{first['reason']} (example {first['example']}; 2 of 4 examples failed)"
    assert lines[2] == f"  also: {second['reason']} (example {second['example']})"
    assert payload["notes"] == ["the port printed 8 line(s) (suppressed)"]


@pytest.mark.keras
def test_cli_timeout_applies_to_python_ports(tmp_path, capsys):
    port = _write_port(tmp_path, """\
        def port(x, weights, config):
            print("about to hang")
            while True:
                pass
        """)
    out_json = tmp_path / "answer.json"
    code = cli.main(["check", port, *CLI_LAYER, "--examples", "3", "--timeout", "0.5", "--json", str(out_json)])
    captured = capsys.readouterr()
    assert code == 2 and "about to hang" not in captured.out + captured.err
    assert captured.out.splitlines()[1] == (
        "  error: the port did not return within 0.5 s (--timeout); a Python port cannot be stopped, so its "
        f"remaining examples are not run (example {json.loads(out_json.read_text())['errors'][0]['example']}; "
        "1 of 3 examples failed, 2 not run after the port hung)")
    payload = json.loads(out_json.read_text())
    assert [e["reason"] for e in payload["errors"][1:]] == [HUNG, HUNG]
