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
              go_backwards, initial state, stateful carry), so only the cell
              maths are checked. Bidirectional: the step runs each half with
              that half's weights and config; a stack of cells: every cell,
              with that cell's weights and ``cell.get_config()``.
``stepper``   ``name(weights, config)`` builds an object whose method (``--method``,
              default ``step``) takes one timestep ``x_t (B, F)`` and returns
              ``output_t (B, U)``, keeping its own state (the shape of a typical
              hand port). Compared on the output sequence; fed in processing order.
``subprocess`` any program, in any language: see :mod:`harness.ports.subprocess_port`.

Optional features are declared by keyword parameters: a port whose signature
accepts ``mask`` gets a bool ``(B, T)`` mask (True = use the step) and is
exercised on masked inputs; one that accepts ``initial_state`` gets the list of
initial states in Keras order. Ports that accept neither are checked without
them, and the answer says what was not exercised.

Every layer kind takes the same protocol with its own arrays: ``x`` is
``(B, T, *input_shape)`` (ConvLSTM: channels last), ``weights`` and ``config``
are the layer's, ``initial_state`` the flat list of states in Keras order
(Bidirectional: forward then backward; a stack of cells: cell after cell), and
the return is what the Keras layer returns (Bidirectional with
``merge_mode=None``: ``[y_fwd, y_bwd, *states]``; nested lists are flattened).
``step`` ports implement the SimpleRNN/LSTM/GRU or ConvLSTM cell of any kind
(the wrappers around it are the harness's); ``stepper`` ports any layer but
Bidirectional (a per-step object cannot read the future).

Every call into the port goes through a :class:`~harness.ports.guard.PortGuard`
(time limit, captured prints, exceptions, ``sys.exit``, inputs modified in
place), and the first example is run twice to catch nondeterminism; a
misbehaving port is an ``error`` for that example, with a one-line reason.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from harness.errors import PortCallError, PortError
from harness.layers.case import CaseData
from harness.layers.cell import CellSpec
from harness.layers.tensors import STATE_NAMES, NamedTensor, concat_chunks
from harness.oracle.references import LayerReference, flatten
from harness.ports.guard import HUNG, PortGuard, checked_array, first_difference, source_file

#: What a port's return is checked against: the reference that names it, and Keras's
#: returned shapes per call (``[(start, stop, [shape, ...]), ...]``).
Expected = tuple[LayerReference, list[tuple[int, int, list[tuple[int, ...]]]]]

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


def _shape_hint(got: tuple, spec: CellSpec, batch: int | None, steps: int) -> str:
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


def _as_layer_return(value: Any, spec: Any, expected: Expected, *, start: int, stop: int,
                     batch: int) -> list[NamedTensor]:
    """Check one call's return against what Keras returned and name its tensors; explain mismatches."""
    ref, calls = expected
    shapes = next(s for a, b, s in calls if (a, b) == (start, stop))
    names = list(ref.names)
    if len(names) > 1:
        arrays = flatten(value) if isinstance(value, (list, tuple)) else [value]
        if not isinstance(value, (list, tuple)) or len(arrays) != len(names):
            what = "return_state=True" if spec.return_state else "this layer returns several arrays"
            raise PortCallError(f"{what}: expected a list [{', '.join(names)}], got {describe_return(value)}")
    else:
        if isinstance(value, (list, tuple)) and value and all(_is_array_like(v) for v in value):
            raise PortCallError(f"return_state=False: expected one array, got {describe_return(value)}")
        arrays = [value]
    checked = [checked_array(v, name) for v, name in zip(arrays, names)]
    for k, (name, array, want) in enumerate(zip(names, checked, shapes)):
        if array.shape != tuple(want):
            sequence = k < ref.n_sequences
            hint = _shape_hint(array.shape, spec, batch, stop - start) if k == 0 and isinstance(spec, CellSpec) else ""
            layout = "batch, timesteps, units" if sequence else "batch, units"
            raise PortCallError(
                f"the port returned {name} of shape {array.shape}, expected {tuple(want)}"
                + (f" = ({layout})" if isinstance(spec, CellSpec) else " (as Keras returns it)")
                + (f"; likely cause: {hint}" if hint else "")
            )
    return list(ref.named(checked, start=start, stop=stop).values())


@dataclass
class Port:
    """A loaded port, ready to run examples."""

    name: str
    adapter: str
    accepts_mask: bool
    accepts_initial_state: bool
    carries_state: bool  # can it be checked on stateful chunked calls?
    _run: Callable[[CaseData, Mapping[str, Any], Expected], dict[str, NamedTensor]] = field(repr=False)
    notes: list[str] = field(default_factory=list)  # what the adapter cannot exercise
    guard: PortGuard = field(default_factory=PortGuard, repr=False)  # how the port's code is called
    check_determinism: bool = True  # run the first example twice and compare bitwise
    target: Any = field(default=None, repr=False)  # the loaded function or class
    details: dict | None = field(default=None, repr=False)  # what the last run used (an export: its artifact)
    pins: dict = field(default_factory=dict)  # options the port cannot vary (an export: stateful=False)
    #: Examples drawn per layer build (same configuration, weights and static shapes; only the data
    #: differ): an export converts once per build, so its check draws several examples per build.
    draws_per_build: int = 1
    _determinism_checked: bool = field(default=False, init=False, repr=False)

    def run(self, data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        """The port's return for ``data``, named like the reference's (``expected``: see :data:`Expected`).

        Raises :class:`PortCallError` (one line) if the port misbehaves: see
        :mod:`harness.ports.guard`.
        """
        if self.guard.hung:
            raise PortCallError(HUNG)
        try:
            out = self._run(data, config, expected)
            if self.check_determinism and not self._determinism_checked:
                self._determinism_checked = True
                printed = self.guard.printed_lines
                again = self._run(data, config, expected)
                self.guard.printed_lines = printed  # the same prints again: count them once
                difference = first_difference(out, again)
                if difference:
                    raise PortCallError(f"the port is nondeterministic: two runs on the same input differ {difference}")
            return out
        except (PortCallError, PortError):  # PortUnsupported too
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

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        T = data.spec.timesteps
        value = guard.call(fn, data.x.copy(), [w.copy() for w in data.weights], dict(config),
                           arg_names=("x", "weights", "config"),
                           **_kwargs(data, mask=mask, initial_state=init, first_chunk=True, a=0, b=T))
        return concat_chunks([_as_layer_return(value, data.spec.layer, expected, start=0, stop=T,
                                               batch=data.spec.batch)])

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

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        instance = _fresh_instance(cls, data, config, guard)
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            value = guard.call(instance, data.x[:, a:b].copy(), arg_names=("x",),
                               **_kwargs(data, mask=mask, initial_state=init, first_chunk=k == 0, a=a, b=b))
            chunks.append(_as_layer_return(value, data.spec.layer, expected, start=a, stop=b, batch=data.spec.batch))
        return concat_chunks(chunks)

    return Port(name, "class", mask, init, carries_state=True, _run=run, guard=guard, target=cls)


def step_port(name: str, step: Callable, guard: PortGuard | None = None) -> Port:
    """The harness runs Keras's time loop around the port's step function
    (``step(x_t, states, weights, config) -> (output_t, new_states)``): one SimpleRNN/LSTM/GRU or ConvLSTM
    cell; for a Bidirectional layer the step runs each half (with that half's weights and config), for a
    stack of cells it runs every cell (with that cell's weights and config, ``config`` of a cell as
    ``cell.get_config()``). The loop, the stacking, the merge and the stateful carry are the reference's."""
    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        ref = expected[0]
        if ref.with_step is None:
            raise PortCallError(f"a step port cannot implement this {data.spec.layer.kind} layer; "
                                "use a function, class, stepper or subprocess port")
        is_cell = isinstance(data.spec.layer, CellSpec)

        def step_for(kind: str, weights: Sequence[np.ndarray], cell_config: Mapping[str, Any]):
            # A cell layer's step sees the config the port was given; a composite's the half's / cell's own.
            return _checked_step(step, guard, kind, [np.array(w, dtype=np.float32) for w in weights],
                                 dict(config if is_cell else cell_config))

        session = ref.with_step(step_for)(data.weights, np.dtype(np.float64))
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            returned, _ = session(data.x[:, a:b], None if data.mask is None else data.mask[:, a:b],
                                  data.initial_state if k == 0 else None)
            chunks.append(ref.named(returned, start=a, stop=b).values())
        return concat_chunks(chunks)

    return Port(name, "step", True, True, carries_state=True, _run=run, guard=guard,
                notes=["the time loop (masks, go_backwards, state carry) is the harness's, not the port's"])


def _checked_step(step: Callable, guard: PortGuard, kind: str, weights: list[np.ndarray],
                  config: dict[str, Any]) -> Callable:
    """One cell's step as the reference's loop calls it, every return checked (count, shapes, finite)."""
    state_names = STATE_NAMES.get(kind, ("h", "c"))  # ConvLSTM: [h, c]
    layout = "(batch, units)" if kind in STATE_NAMES else "(batch, *spatial, filters)"

    def cell_step(x_t: np.ndarray, states: Sequence[np.ndarray]):
        value = guard.call(step, x_t.astype(np.float32), [s.astype(np.float32) for s in states], weights, config,
                           arg_names=("x_t", "states", "weights", "config"))
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise PortCallError(f"step() must return (output_t, new_states), got {describe_return(value)}")
        out, new_states = value
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        if len(new_states) != len(state_names):
            raise PortCallError(f"step() of a {kind} cell returned {len(new_states)} state(s), "
                                f"expected [{', '.join(state_names)}]")
        out = checked_array(out, "output_t")
        new_states = [checked_array(s, f"new state {n}") for s, n in zip(new_states, state_names)]
        want = states[0].shape
        for what, array in [("output_t", out), *zip(state_names, new_states)]:
            if array.shape != want:
                raise PortCallError(f"step() of a {kind} cell returned {what} of shape {array.shape}, "
                                    f"expected {layout}={want}")
        return out.astype(np.float64), [s.astype(np.float64) for s in new_states]

    return cell_step


def stepper_port(name: str, cls: type, method: str, guard: PortGuard | None = None) -> Port:
    if not hasattr(cls, method):
        raise PortError(f"PORT {name}: {cls.__name__} has no method {method!r} (choose it with --method)")
    guard = guard or PortGuard()

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        spec = data.spec.layer
        if spec.kind == "Bidirectional":
            raise PortCallError("a stepper port cannot implement a Bidirectional layer (its backward half reads the "
                                "sequence from the end); use a function, class or subprocess port")
        shape = tuple(expected[1][0][2][0])[2:]  # one step of Keras's output sequence
        instance = _fresh_instance(cls, data, config, guard)
        fn = getattr(instance, method)
        outputs = []
        for a, b in data.chunk_bounds():
            # Keras reverses each call's chunk on its own, so a stateful go_backwards layer
            # fed in chunks reads each chunk backwards, chunk after chunk.
            order = range(b - 1, a - 1, -1) if spec.go_backwards else range(a, b)
            for t in order:
                out = checked_array(guard.call(fn, data.x[:, t].copy(), arg_names=("x_t",)), f"{method}() output")
                if out.ndim == len(shape):
                    out = out[None]
                if out.shape != (data.spec.batch, *shape):
                    want = f"(batch, units)=({data.spec.batch}, {spec.units})" if isinstance(spec, CellSpec) else \
                        f"{(data.spec.batch, *shape)} (one step of Keras's output)"
                    raise PortCallError(f"{method}() returned shape {out.shape}, expected {want}")
                outputs.append(out.reshape(out.shape[0], -1))
        values = np.stack(outputs, axis=1)
        return {"output": NamedTensor("output", values, np.arange(data.spec.timesteps))}

    return Port(name, "stepper", False, False, carries_state=True, _run=run, guard=guard,
                notes=["compared on the output sequence only (a per-step object returns no final states)"])


def wrap_port(
    obj: Any, *, name: str | None = None, adapter: str = "auto", method: str = "step", timeout: float | None = 60.0,
) -> Port:
    """Wrap a Python callable or class already in hand (library use).

    ``timeout`` is the limit in seconds on each call into the port (None: none);
    see :mod:`harness.ports.guard` for what happens when it is exceeded."""
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


def comparable_spec(port: Port, spec: Any) -> Any:
    """The layer spec a port is compared under (a stepper port returns the output sequence only)."""
    if port.adapter == "stepper":
        return spec.with_loop(return_sequences=True, return_state=False)
    return spec
