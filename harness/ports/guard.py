"""Calling untrusted port code safely, and checking what it hands back.

A port is someone else's code. Every call the adapters in :mod:`harness.ports.port`
make into it goes through :meth:`PortGuard.call`, which turns each way the call
can misbehave into a one-line :class:`PortCallError` for that example (the
check records it and goes on with the next example):

* **raises**: the reason quotes the exception and the port's own traceback
  (the last :data:`MAX_FRAMES` frames in the port's file, no harness frames);
* **calls** ``sys.exit()``: ``the port called sys.exit(3)``;
* **hangs**: the call runs in a daemon thread and is abandoned after
  ``timeout`` seconds. A Python thread cannot be killed: the guard asks it to
  stop (an asynchronous exception, which a pure-Python loop honours at once
  but a long C call - ``time.sleep``, a BLAS routine, a socket read - only
  when it returns), marks the port as hung and refuses its later calls, so
  the port's remaining examples are reported as not run. A daemon thread,
  not a ``ThreadPoolExecutor``: the executor joins its workers at interpreter
  exit, so a port stuck for good would keep ``rnn-parity`` from exiting;
* **modifies its inputs in place**: the arrays handed to the port are
  copied before the call and compared bitwise after it;
* **prints**: ``sys.stdout`` and ``sys.stderr`` go to a buffer during the
  call; the lines are counted (:attr:`PortGuard.printed_lines`) and the
  answer says how many were suppressed. Output written straight to file
  descriptors 1 and 2 (C ``printf``, ``os.write``) is not captured.

Running in a worker thread, a port cannot install signal handlers (``signal.signal``
works in the main thread only). Python ports run in this process: a port that crashes the interpreter
(segfault in an extension, ``os._exit``) takes the check with it; run such code
as a subprocess port (``--adapter subprocess``), whose crashes are reported.

What the port returns is checked by :func:`checked_array` (a float array, not
a list, ints, objects or complex numbers), :func:`first_difference` (two runs
on the same input agree bitwise) and :func:`first_non_finite` (NaN/inf where
Keras is finite).
"""

from __future__ import annotations

from harness.errors import PortCallError

import inspect
import io
import os
import threading
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.layers.tensors import NamedTensor

#: Traceback frames of the port quoted in an error.
MAX_FRAMES = 3
#: The reason given for the examples after a port hung.
HUNG = "not run: the port hung on an earlier example"

_HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # harness/


class _Abandoned(BaseException):
    """Raised asynchronously in a timed-out port's thread, asking it to stop."""


def source_file(obj: Any) -> str | None:
    """The file a port object is defined in (its frames are the ones quoted), if known."""
    for candidate in (obj, type(obj)):
        try:
            found = inspect.getsourcefile(candidate)
        except TypeError:
            continue
        return _path(found) if found else None
    return None


def _path(filename: str) -> str:
    return os.path.realpath(filename)


@dataclass
class PortGuard:
    """Runs a port's calls: time limit, captured prints, and one-line errors."""

    timeout: float | None = 60.0  # seconds per call; None waits for ever
    source: str | None = None  # the port's file: its traceback frames are the ones quoted
    printed_lines: int = 0  # lines the port wrote to stdout/stderr, suppressed
    hung: bool = False  # a call timed out: the port's thread may still be running

    def call(self, fn: Callable, *args: Any, arg_names: Sequence[str] = (), **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, or a :class:`PortCallError` saying how it misbehaved.

        ``arg_names`` name the positional arguments; arrays among the arguments (or
        in lists of them) must be unchanged after the call.
        """
        if self.hung:
            raise PortCallError(HUNG)
        inputs = _named_arrays({**dict(zip(arg_names, args)), **kwargs})
        before = {name: array.copy() for name, array in inputs.items()}
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - everything the port does is reported
                outcome["error"] = exc

        buffer = io.StringIO()
        thread = threading.Thread(target=target, name="rnn-parity-port", daemon=True)
        with redirect_stdout(buffer), redirect_stderr(buffer):
            thread.start()
            thread.join(self.timeout)
        self.printed_lines += len(buffer.getvalue().splitlines())
        if thread.is_alive():
            self.hung = True
            _ask_to_stop(thread)
            raise PortCallError(
                f"the port did not return within {self.timeout:g} s (--timeout); a Python port cannot be "
                "stopped, so its remaining examples are not run"
            )
        if "error" in outcome:
            raise PortCallError(self.describe(outcome["error"])) from outcome["error"]
        for name, array in inputs.items():
            changed = _first_change(before[name], array)
            if changed is not None:
                raise PortCallError(
                    f"the port modified its input {name} in place ({changed}); this would corrupt the comparison: "
                    "work on a copy"
                )
        return outcome["value"]

    def describe(self, exc: BaseException) -> str:
        """One line: the exception and the port's own last frames."""
        if isinstance(exc, SystemExit):
            code = "" if exc.code is None else repr(exc.code)
            return f"the port called sys.exit({code}) (a port must return its outputs or raise)"
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if _path(f.filename) != _path(__file__)]
        own = [f for f in frames if self.source and _path(f.filename) == self.source]
        own = own or [f for f in frames if not _path(f.filename).startswith(_HARNESS_DIR + os.sep)]
        message = " / ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        if len(message) > 300:
            message = message[:297] + "..."
        reason = f"the port raised {type(exc).__name__}" + (f": {message}" if message else "")
        if own:
            where = " -> ".join(
                f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" + (f": {f.line.strip()}" if f.line else "")
                for f in own[-MAX_FRAMES:]
            )
            reason += f" [traceback: {where}]"
        return reason


def _named_arrays(arguments: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays among a call's arguments, by name (``weights[1]`` for lists)."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in arguments.items():
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif isinstance(value, (list, tuple)):
            arrays.update({f"{name}[{k}]": v for k, v in enumerate(value) if isinstance(v, np.ndarray)})
    return arrays


def _first_change(before: np.ndarray, after: np.ndarray) -> str | None:
    """Where ``after`` first differs bitwise from ``before`` (None if it does not)."""
    if before.shape != after.shape or before.dtype != after.dtype:
        return f"now {after.dtype} {after.shape}, was {before.dtype} {before.shape}"
    if before.tobytes() == after.tobytes():
        return None
    changed = np.flatnonzero(before.reshape(-1) != after.reshape(-1))
    if not changed.size:  # only NaN payloads differ
        return "NaN bits changed"
    index = tuple(int(i) for i in np.unravel_index(changed[0], before.shape))
    return f"{changed.size} value(s) changed, first at index {index}"


def _ask_to_stop(thread: threading.Thread) -> None:
    """Best effort: raise :class:`_Abandoned` in ``thread`` at its next Python bytecode."""
    try:
        import ctypes

        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Abandoned))
    except Exception:  # noqa: BLE001 - not CPython, or the thread just ended: nothing to stop
        pass


_DTYPE_HINTS = {
    "i": "integer arithmetic, or an array made with dtype=int?",
    "u": "integer arithmetic, or an array made with dtype=int?",
    "b": "a comparison instead of a value?",
    "O": "ragged lists or mixed values?",
    "c": "complex arithmetic somewhere (e.g. a negative number to a fractional power)?",
}


def checked_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float array, or a PortCallError saying what the port returned instead.

    float16, float32 and float64 are accepted (compared in float64); ints, bools,
    objects, complex numbers, Python lists and scalars are not.
    """
    if value is None:
        raise PortCallError(f"the port returned None for {name} (a missing return statement?)")
    if isinstance(value, (list, tuple)):
        raise PortCallError(
            f"the port returned {name} as a Python {type(value).__name__} of {len(value)} item(s), not an array; "
            "return np.asarray(..., dtype=np.float32)"
        )
    if not hasattr(value, "__array__"):
        raise PortCallError(f"the port returned {name} as a {type(value).__name__}, not an array")
    try:
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - an array-like that cannot be read
        raise PortCallError(f"the port returned {name} as a {type(value).__name__} NumPy cannot read: {exc}") from None
    if array.dtype.kind != "f":
        article = "an" if str(array.dtype)[0] in "aeio" else "a"
        hint = _DTYPE_HINTS.get(array.dtype.kind, "")
        raise PortCallError(
            f"the port returned {name} as {article} {array.dtype} array of shape {array.shape}; expected floats "
            f"(float32; float16 and float64 are accepted)" + (f" ({hint})" if hint else "")
        )
    return array


def first_difference(first: Mapping[str, NamedTensor], second: Mapping[str, NamedTensor]) -> str | None:
    """How two runs of a port on the same input differ bitwise (None if they do not)."""
    if set(first) != set(second):
        return f"in the tensors they return ({sorted(first)} vs {sorted(second)})"
    found = []
    for name, a in first.items():
        x, y = a.values, second[name].values
        if x.shape != y.shape:
            return f"in the shape of {name} ({x.shape} vs {y.shape})"
        with np.errstate(invalid="ignore", over="ignore"):
            same = (x == y) | (np.isnan(x) & np.isnan(y))
            if same.all():
                continue
            k = int(np.argmax(~same.all(axis=(0, 2))))
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
        worst = float(np.nanmax(np.where(same, 0.0, diff)))
        found.append((int(a.steps[k]), name != "output", name, worst))
    if not found:
        return None
    t, _, name, worst = min(found)
    return f"by {worst:.2g} at {name} t={t}"


def first_non_finite(port: Mapping[str, NamedTensor], keras: Mapping[str, NamedTensor]) -> str | None:
    """Where the port's return first holds NaN or inf where Keras's is finite (None if nowhere)."""
    found, total = [], 0
    for name, p in port.items():
        values = p.values
        bad = ~np.isfinite(values)
        k = keras.get(name)
        if k is not None and k.values.shape == values.shape:
            bad &= np.isfinite(k.values)
        if not bad.any():
            continue
        total += int(bad.sum())
        s = int(np.argmax(bad.any(axis=(0, 2))))
        b, u = (int(i) for i in np.argwhere(bad[:, s, :])[0])
        v = values[b, s, u]
        kind = "NaN" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        found.append((int(p.steps[s]), name != "output", name, kind, b, u))
    if not found:
        return None
    t, _, name, kind, b, u = min(found)
    return (f"the port returned {kind} in {name} at t={t} (batch {b}, unit {u}) where Keras is finite "
            f"({total} non-finite value(s) in all)")
