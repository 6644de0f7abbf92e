"""The port protocol: how the harness calls a user's implementation.

A *port* is anything that computes what a Keras recurrent layer computes.
Every shape is wrapped in a :class:`Port` whose :meth:`Port.run` returns the
same named tensors as the Keras runner and the reference, so one comparator
serves all of them.

Shapes a port may take (``--adapter``; ``auto`` picks function or class):

``function``  ``name(x, weights, config[, mask=][, initial_state=])`` returns what
              the Keras layer returns: ``output`` (``(B, T, U)`` with
              return_sequences, else ``(B, U)``), or ``[output, *states]`` with
              return_state. ``x`` float32 ``(B, T, F)``; ``weights`` as
              ``layer.get_weights()``; ``config`` as ``layer.get_config()``.
``class``     ``name(weights, config)`` builds an instance, called as
              ``instance(x[, mask=][, initial_state=])``. For ``stateful=True`` the
              same instance receives consecutive chunks and must carry its state;
              ``reset_states()`` is called, if present, before each sequence.
``step``      ``name(x_t, states, weights, config) -> (output_t, new_states)``;
              the harness runs the time loop exactly as Keras does (masks,
              go_backwards, initial state), so only the cell maths are checked.
``stepper``   ``name(weights, config)`` builds an object whose method (``--method``,
              default ``step``) takes one timestep ``x_t (B, F)`` and returns
              ``output_t (B, U)``, keeping its own state (the shape of a typical
              hand port). Compared on the output sequence; fed in processing order.
``subprocess`` any program, in any language: see :mod:`harness.subprocess_port`.

Optional features are declared by keyword parameters: a port whose signature
accepts ``mask`` gets a bool ``(B, T)`` mask (True = use the step) and is
exercised on masked inputs; one that accepts ``initial_state`` gets the list of
initial states in Keras order. Ports that accept neither are checked without
them, and the answer says what was not exercised.

Ports of Bidirectional, RNN over cells and ConvLSTM layers are ``function`` or
``class`` ports with the family layer's arrays: see :mod:`harness.family_check`.

Every call into the port goes through a :class:`~harness.port_guard.PortGuard`
(time limit, captured prints, exceptions, ``sys.exit``, inputs modified in
place), and the first example is run twice to catch nondeterminism; a
misbehaving port is an ``error`` for that example, with a one-line reason.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.case import CaseData
from harness.port_guard import HUNG, PortCallError, PortGuard, checked_array, first_difference, source_file
from harness.port_loading import PortError, load_object
from harness.spec import LayerSpec
from harness.tensors import STATE_NAMES, NamedTensor, concat_chunks, expected_return_len, name_return

ADAPTERS = ("auto", "function", "class", "step", "stepper", "subprocess")

def _accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def describe_return(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} ({', '.join(describe_return(v) for v in value[:4])})"
    return type(value).__name__


def _is_array_like(value: Any) -> bool:
    return hasattr(value, "__array__") and not isinstance(value, (list, tuple))


def _shape_hint(got: tuple, spec: LayerSpec, batch: int | None, steps: int) -> str:
    """The likely cause of a wrong output shape."""
    units = spec.units
    if spec.return_sequences and len(got) == 2:
        return "return_sequences=True ignored (return every timestep)"
    if not spec.return_sequences and len(got) == 3:
        return "return_sequences=False ignored (return the last step only)"
    if len(got) == 3 and batch is not None and got == (steps, batch, units) and steps != batch:
        return "time-major output (Keras returns batch first)"
    if got and got[-1] in (3 * units, 4 * units) and spec.kind in ("LSTM", "GRU"):
        return "the fused gate values returned instead of h"
    if batch is not None and got and got[0] != batch:
        return "the batch axis dropped or moved"
    return ""


def _as_layer_return(value: Any, spec: LayerSpec, *, start: int, stop: int, batch: int | None = None) -> list[NamedTensor]:
    """Check a port's return against the spec and name its tensors; explain mismatches."""
    names = ["output", *STATE_NAMES[spec.kind]]
    if spec.return_state:
        if not isinstance(value, (list, tuple)) or len(value) != expected_return_len(spec):
            raise PortCallError(
                f"return_state=True: expected a list [output, {', '.join(STATE_NAMES[spec.kind])}], got {describe_return(value)}"
            )
        value = [checked_array(v, name) for v, name in zip(value, names)]
    else:
        if isinstance(value, (list, tuple)) and value and all(_is_array_like(v) for v in value):
            raise PortCallError(f"return_state=False: expected one array, got {describe_return(value)}")
        value = checked_array(value, "output")
    for name, array in zip(names, value if spec.return_state else [value]):
        steps = stop - start
        sequence = name == "output" and spec.return_sequences
        expected = (batch, steps, spec.units) if sequence else (batch, spec.units)
        if array.ndim != len(expected) or any(e is not None and e != g for e, g in zip(expected, array.shape)):
            shown = ", ".join("batch" if e is None else str(e) for e in expected)
            hint = _shape_hint(array.shape, spec, batch, steps) if name == "output" else ""
            raise PortCallError(
                f"the port returned {name} of shape {array.shape}, expected ({shown}) = "
                f"({'batch, timesteps, units' if sequence else 'batch, units'})" + (f"; likely cause: {hint}" if hint else "")
            )
    return name_return(value, spec, start=start, stop=stop)


@dataclass
class Port:
    """A loaded port, ready to run examples."""

    name: str
    adapter: str
    accepts_mask: bool
    accepts_initial_state: bool
    carries_state: bool  # can it be checked on stateful chunked calls?
    _run: Callable[[CaseData, Mapping[str, Any]], dict[str, NamedTensor]] = field(repr=False)
    notes: list[str] = field(default_factory=list)  # what the adapter cannot exercise
    guard: PortGuard = field(default_factory=PortGuard, repr=False)  # how the port's code is called
    check_determinism: bool = True  # run the first example twice and compare bitwise
    target: Any = field(default=None, repr=False)  # the loaded function or class (family layers call it directly)
    _determinism_checked: bool = field(default=False, init=False, repr=False)

    def run(self, data: CaseData, config: Mapping[str, Any]) -> dict[str, NamedTensor]:
        """The port's return for ``data``, named like the reference's.

        Raises :class:`PortCallError` (one line) if the port misbehaves: see
        :mod:`harness.port_guard`.
        """
        if self.guard.hung:
            raise PortCallError(HUNG)
        try:
            out = self._run(data, config)
            if self.check_determinism and not self._determinism_checked:
                self._determinism_checked = True
                printed = self.guard.printed_lines
                again = self._run(data, config)
                self.guard.printed_lines = printed  # the same prints again: count them once
                difference = first_difference(out, again)
                if difference:
                    raise PortCallError(f"the port is nondeterministic: two runs on the same input differ {difference}")
            return out
        except (PortCallError, PortError):
            raise
        except Exception as exc:  # noqa: BLE001 - a return the adapter could not use, reported per example
            raise PortCallError(f"the port's return could not be used: {type(exc).__name__}: {exc}") from exc


def _kwargs(data: CaseData, *, mask: bool, initial_state: bool, first_chunk: bool, a: int, b: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if mask:
        kwargs["mask"] = None if data.mask is None else data.mask[:, a:b].copy()
    if initial_state:
        kwargs["initial_state"] = (
            [s.copy() for s in data.initial_state] if data.initial_state is not None and first_chunk else None
        )
    return kwargs


def function_port(name: str, fn: Callable, guard: PortGuard | None = None) -> Port:
    mask, init = _accepts(fn, "mask"), _accepts(fn, "initial_state")
    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any]) -> dict[str, NamedTensor]:
        spec = data.spec.layer
        T = data.spec.timesteps
        value = guard.call(fn, data.x.copy(), [w.copy() for w in data.weights], dict(config),
                           arg_names=("x", "weights", "config"),
                           **_kwargs(data, mask=mask, initial_state=init, first_chunk=True, a=0, b=T))
        return concat_chunks([_as_layer_return(value, spec, start=0, stop=T, batch=data.spec.batch)])

    return Port(name, "function", mask, init, carries_state=False, _run=run, guard=guard, target=fn,
                notes=["stateful carry (a function port has no memory between calls; use a class port)"])


def _fresh_instance(cls: type, data: CaseData, config: Mapping[str, Any], guard: PortGuard) -> Any:
    """``cls(weights, config)`` on copies, with ``reset_states()`` when it has one: a new layer per example."""
    instance = guard.call(cls, [w.copy() for w in data.weights], dict(config), arg_names=("weights", "config"))
    if hasattr(instance, "reset_states"):
        guard.call(instance.reset_states)
    return instance


def class_port(name: str, cls: type, guard: PortGuard | None = None) -> Port:
    call = getattr(cls, "__call__", None)
    if call is None:
        raise PortError(f"PORT {name}: class {cls.__name__} has no __call__; use --adapter stepper --method NAME for per-step objects")
    mask, init = _accepts(call, "mask"), _accepts(call, "initial_state")
    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any]) -> dict[str, NamedTensor]:
        spec = data.spec.layer
        instance = _fresh_instance(cls, data, config, guard)
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            value = guard.call(instance, data.x[:, a:b].copy(), arg_names=("x",),
                               **_kwargs(data, mask=mask, initial_state=init, first_chunk=k == 0, a=a, b=b))
            chunks.append(_as_layer_return(value, spec, start=a, stop=b, batch=data.spec.batch))
        return concat_chunks(chunks)

    return Port(name, "class", mask, init, carries_state=True, _run=run, guard=guard, target=cls)


def step_port(name: str, step: Callable, guard: PortGuard | None = None) -> Port:
    """The harness runs Keras's time loop around the port's step function."""
    from reference_cells.sequence import run_sequence_with_step

    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any]) -> dict[str, NamedTensor]:
        spec = data.spec.layer
        weights = [w.copy() for w in data.weights]
        cfg = dict(config)
        state_names = STATE_NAMES[spec.kind]

        def cell_step(x_t: np.ndarray, states: Sequence[np.ndarray]):
            value = guard.call(step, x_t.astype(np.float32), [s.astype(np.float32) for s in states], weights, cfg,
                               arg_names=("x_t", "states", "weights", "config"))
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise PortCallError(f"step() must return (output_t, new_states), got {describe_return(value)}")
            out, new_states = value
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if len(new_states) != len(state_names):
                raise PortCallError(f"step() returned {len(new_states)} state(s), expected [{', '.join(state_names)}]")
            out = checked_array(out, "output_t")
            new_states = [checked_array(s, f"new state {n}") for s, n in zip(new_states, state_names)]
            for what, array in [("output_t", out), *zip(state_names, new_states)]:
                if array.shape != (x_t.shape[0], spec.units):
                    raise PortCallError(f"step() returned {what} of shape {array.shape}, expected (batch, units)=({x_t.shape[0]}, {spec.units})")
            return out.astype(np.float64), [s.astype(np.float64) for s in new_states]

        carried = None
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            trace = run_sequence_with_step(
                spec.kind, cell_step, data.x[:, a:b], spec.to_keras_config(),
                mask=None if data.mask is None else data.mask[:, a:b],
                initial_state=data.initial_state if k == 0 else None,
                carried_state=carried,
            )
            carried = trace.final_states if spec.stateful else None
            chunks.append(name_return(trace.layer_return(), spec, start=a, stop=b))
        return concat_chunks(chunks)

    return Port(name, "step", True, True, carries_state=True, _run=run, guard=guard,
                notes=["the time loop (masks, go_backwards, state carry) is the harness's, not the port's"])


def stepper_port(name: str, cls: type, method: str, guard: PortGuard | None = None) -> Port:
    if not hasattr(cls, method):
        raise PortError(f"PORT {name}: {cls.__name__} has no method {method!r} (choose it with --method)")
    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any]) -> dict[str, NamedTensor]:
        spec = data.spec.layer
        instance = _fresh_instance(cls, data, config, guard)
        fn = getattr(instance, method)
        outputs = []
        for a, b in data.chunk_bounds():
            # Keras reverses each call's chunk on its own, so a stateful go_backwards layer
            # fed in chunks reads each chunk backwards, chunk after chunk.
            order = range(b - 1, a - 1, -1) if spec.go_backwards else range(a, b)
            for t in order:
                out = checked_array(guard.call(fn, data.x[:, t].copy(), arg_names=("x_t",)), f"{method}() output")
                if out.ndim == 1:
                    out = out[None, :]
                if out.shape != (data.spec.batch, spec.units):
                    raise PortCallError(f"{method}() returned shape {out.shape}, expected (batch, units)=({data.spec.batch}, {spec.units})")
                outputs.append(out)
        values = np.stack(outputs, axis=1)
        return {"output": NamedTensor("output", values, np.arange(data.spec.timesteps))}

    return Port(name, "stepper", False, False, carries_state=True, _run=run, guard=guard,
                notes=["compared on the output sequence only (a per-step object returns no final states)"])


def load_port(
    reference: str, *, adapter: str = "auto", method: str = "step", timeout: float = 60.0,
    accepts: tuple[str, ...] = (),
) -> Port:
    """Load and wrap a port. ``reference`` is ``file.py:name``, ``module:name`` or, for
    ``adapter="subprocess"``, a command line."""
    if adapter not in ADAPTERS:
        raise PortError(f"--adapter {adapter!r} is not one of {', '.join(ADAPTERS)}")
    if adapter == "subprocess":
        from harness.subprocess_port import subprocess_port

        return subprocess_port(reference, timeout=timeout, accepts=accepts)
    return wrap_port(load_object(reference), name=reference, adapter=adapter, method=method, timeout=timeout)


def wrap_port(
    obj: Any, *, name: str | None = None, adapter: str = "auto", method: str = "step", timeout: float | None = 60.0,
) -> Port:
    """Wrap a Python callable or class already in hand (library use).

    ``timeout`` is the limit in seconds on each call into the port (None: none);
    see :mod:`harness.port_guard` for what happens when it is exceeded."""
    if adapter not in ADAPTERS or adapter == "subprocess":
        raise PortError(f"adapter {adapter!r} is not one of {', '.join(a for a in ADAPTERS if a != 'subprocess')}")
    if not callable(obj):
        raise PortError(f"port {obj!r} is not callable")
    reference = name or getattr(obj, "__qualname__", repr(obj))
    if adapter == "auto":
        adapter = "class" if inspect.isclass(obj) else "function"
    guard = PortGuard(timeout=timeout, source=source_file(obj))
    if adapter == "function":
        return function_port(reference, obj, guard)
    if adapter == "class":
        if not inspect.isclass(obj):
            raise PortError(f"PORT {reference} is not a class; use --adapter function")
        return class_port(reference, obj, guard)
    if adapter == "step":
        return step_port(reference, obj, guard)
    return stepper_port(reference, obj, method, guard)


def comparable_spec(port: Port, spec: LayerSpec) -> LayerSpec:
    """The spec a port is compared under (a stepper port returns the output sequence only)."""
    if port.adapter == "stepper":
        return spec.replace(return_sequences=True, return_state=False)
    return spec
