"""Running one case through real Keras.

Like :func:`harness.reference.run_reference`, it returns ``{name: NamedTensor}`` for exactly what the Keras layer
returns (``output``, and ``h``/``c`` with ``return_state``), one entry per
call for stateful cases fed in chunks.

Speed: building a Keras layer and tracing its call costs far more than
running it, so :class:`KerasRunner` keeps one built layer and one
compiled call (``tf.function``, ``jax.jit``...: :mod:`harness.backends`) per
*signature* (the spec plus which optional inputs are passed) with dynamic batch and time dimensions, and swaps each case's
weights in with ``set_weights``. Only stateful layers (static batch) and
``unroll=True`` (static time) add the batch or time size to the keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harness.case import CaseData
from harness.backends import ArgSpec, compile_layer_call
from harness.lru import LRUCache
from harness.keras_env import import_keras
from harness.spec import LayerSpec
from harness.tensors import NamedTensor, concat_chunks, name_return


@dataclass
class _Compiled:
    layer: Any
    calls: dict[tuple, Callable] = field(default_factory=dict)  # keyed by (passes initial_state, static steps)


class KerasRunner:
    """Runs cases through real Keras layers, reusing built layers and traces."""

    def __init__(self, *, cache_size: int = 64) -> None:
        self._keras = import_keras()
        self._cache: LRUCache[_Compiled] = LRUCache(size=cache_size)

    def _key(self, data: CaseData) -> tuple:
        spec = data.spec.layer
        batch = data.spec.batch if spec.stateful else None
        return (spec, data.mask is not None, batch)

    @property
    def builds(self) -> int:
        """How many layers were built (for benchmarks and tests)."""
        return self._cache.misses

    def _compiled(self, data: CaseData) -> _Compiled:
        def build() -> _Compiled:
            spec = data.spec.layer
            layer = getattr(self._keras.layers, spec.kind)(**spec.to_keras_config())
            layer.build((data.spec.batch if spec.stateful else None, None, spec.features))
            return _Compiled(layer=layer)

        return self._cache.get(self._key(data), build)

    def _call(self, entry: _Compiled, data: CaseData, with_init: bool, chunk_steps: int) -> Callable:
        spec = data.spec.layer
        steps = chunk_steps if spec.unroll else None  # unroll needs a static time dimension
        fn = entry.calls.get((with_init, steps))
        if fn is not None:
            return fn
        batch = data.spec.batch if spec.stateful else None
        signature = [ArgSpec((batch, steps, spec.features), "float32")]
        if data.mask is not None:
            signature.append(ArgSpec((batch, steps), "bool"))
        n_states = 2 if spec.kind == "LSTM" else 1
        if with_init:
            signature += [ArgSpec((batch, spec.units), "float32")] * n_states
        has_mask = data.mask is not None

        def split(args):
            x, *rest = args
            mask = rest[0] if has_mask else None
            init = list(rest[1 if has_mask else 0 :]) or None
            return (x,), {"mask": mask, "initial_state": init, "training": False}

        # The compile step is the target's (harness/backends.py): tf.function, jax.jit or torch eager.
        fn = entry.calls[(with_init, steps)] = compile_layer_call(entry.layer, signature=signature, split=split)
        return fn

    def release(self) -> None:
        """Drop every cached layer and trace, and Keras's global naming state.

        Tracing leaves state behind that evicting a layer does not free (measured:
        RSS grew ~0.2-0.6 MiB per traced layer over a 3,000-case sweep, LRU or not);
        ``keras.backend.clear_session`` releases it. Long sweeps call this between
        compile groups (it resets Keras's layer-name counters, so only call it where
        no other Keras model of yours is being built)."""
        self._cache.clear()
        try:
            self._keras.backend.clear_session(free_memory=True)
        except TypeError:  # tf_keras (the keras2 target) has no free_memory argument
            self._keras.backend.clear_session()

    def layer_config(self, data: CaseData) -> dict:
        """``layer.get_config()`` of the Keras layer this case runs on (what ports receive)."""
        return self._compiled(data).layer.get_config()

    def run(self, data: CaseData) -> dict[str, NamedTensor]:
        """Keras's return for ``data``, with the case's weights loaded."""
        spec: LayerSpec = data.spec.layer
        entry = self._compiled(data)
        entry.layer.set_weights(data.weights)
        if spec.stateful:
            entry.layer.reset_states()
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            with_init = data.initial_state is not None and k == 0
            args = [data.x[:, a:b]]
            if data.mask is not None:
                args.append(data.mask[:, a:b])
            if with_init:
                args += list(data.initial_state)
            returned = self._call(entry, data, with_init, b - a)(*args)  # NumPy, same nesting
            chunks.append(name_return(returned, spec, start=a, stop=b))
        return concat_chunks(chunks)
