"""Running one case through real Keras, for every kind of layer.

Like :func:`harness.oracle.reference.run_reference`, :meth:`KerasRunner.run`
returns ``{name: NamedTensor}`` for exactly what the Keras layer returns
(``output``, and the states with ``return_state``), one entry per call for
stateful cases fed in chunks, named by the layer's reference.

Speed: building a Keras layer and tracing its call costs far more than
running it, so the runner keeps one built layer and one compiled call
(``tf.function``, ``jax.jit``...: :mod:`harness.target.backends`) per
*signature* (the layer spec plus which optional inputs are passed) with dynamic
batch and time dimensions, and swaps each case's weights in with
``set_weights``. Only stateful layers (static batch) and ``unroll=True``
(static time) add the batch or time size to the keys. On JAX, whose jit still
compiles per concrete shape, a SimpleRNN/LSTM/GRU call is padded to a shape
bucket first (:mod:`harness.target.buckets`): one compile per configuration
and bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harness.layers.case import CaseData, CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.composite import CompositeSpec
from harness.layers.tensors import NamedTensor, concat_chunks
from harness.oracle.references import LayerReference
from harness.target import targets
from harness.target.backends import ArgSpec, build_layer, clear_session, compile_layer_call, reset_states
from harness.target.buckets import pad_call, unpad_return
from harness.target.keras_env import import_keras
from harness.target.lru import LRUCache


@dataclass
class _Compiled:
    layer: Any
    calls: dict[tuple, Callable] = field(default_factory=dict)  # keyed by (passes initial_state, static steps)


class KerasRunner:
    """Runs cases through real Keras layers, reusing built layers and traces."""

    def __init__(self, *, cache_size: int = 64) -> None:
        self._keras = import_keras()
        self._cache: LRUCache[_Compiled] = LRUCache(size=cache_size)

    @property
    def builds(self) -> int:
        """How many layers were built (for benchmarks and tests)."""
        return self._cache.misses

    def _compiled(self, spec: CaseSpec, with_mask: bool) -> _Compiled:
        layer_spec = spec.layer
        batch = spec.batch if layer_spec.stateful else None
        with_mask = with_mask or self._bucketed(spec)  # a padded call always passes a mask: one layer for both

        def build() -> _Compiled:
            layer = layer_spec.build(self._keras)
            build_layer(layer, (batch, None, *layer_spec.input_shape))
            return _Compiled(layer=layer)

        return self._cache.get((layer_spec, with_mask, batch), build)

    def variables(self, spec: CaseSpec) -> list[tuple[tuple[int, ...], str]]:
        """The layer's ``(shape, path)`` pairs in ``get_weights()`` order (what composite weights are drawn for)."""
        layer = self._compiled(spec, spec.mask != "none").layer
        return [(tuple(v.shape), getattr(v, "path", None) or v.name) for v in layer.weights]

    def data(self, spec: CaseSpec) -> CaseData:
        """``spec``'s arrays (a composite layer's weights follow its built variables)."""
        return spec.build(self.variables(spec) if isinstance(spec.layer, CompositeSpec) else None)

    def layer(self, data: CaseData) -> Any:
        """The built Keras layer this case runs on: its structure and configs (what the reference and the
        catalogue read). Its weights are the case's only once :meth:`run` / :meth:`run_raw` loaded them;
        loading them here too cost a second ``set_weights`` per case."""
        return self._compiled(data.spec, data.mask is not None).layer

    def layer_config(self, data: CaseData) -> dict:
        """``layer.get_config()`` of the Keras layer this case runs on (what ports receive)."""
        return self._compiled(data.spec, data.mask is not None).layer.get_config()

    def _call(self, entry: _Compiled, data: CaseData, with_init: bool, chunk_steps: int,
              has_mask: bool | None = None) -> Callable:
        spec = data.spec.layer
        steps = chunk_steps if spec.unroll else None  # unroll needs a static time dimension
        has_mask = data.mask is not None if has_mask is None else has_mask
        fn = entry.calls.get((with_init, steps, has_mask))
        if fn is not None:
            return fn
        batch = data.spec.batch if spec.stateful else None
        signature = [ArgSpec((batch, steps, *spec.input_shape), "float32")]
        if has_mask:
            signature.append(ArgSpec((batch, steps), "bool"))
        if with_init:
            signature += [ArgSpec((batch, *s.shape[1:]), "float32") for s in data.initial_state or ()]

        def split(args):
            x, *rest = args
            mask = rest[0] if has_mask else None
            init = list(rest[1 if has_mask else 0 :])
            return (x,), {"mask": mask, "initial_state": spec.pack_initial_state(init) if init else None,
                          "training": False}

        # The compile step is the target's (harness/target/backends.py): tf.function, jax.jit or torch eager.
        fn = entry.calls[(with_init, steps, has_mask)] = compile_layer_call(entry.layer, signature=signature, split=split)
        return fn

    @staticmethod
    def _bucketed(spec: CaseSpec) -> bool:
        """Pad this case's calls to shape buckets (:mod:`harness.target.buckets`): on JAX, whose
        jit compiles per concrete shape, for a SimpleRNN/LSTM/GRU layer (a stateful one chunk by chunk)."""
        return targets.active().name == "jax" and isinstance(spec.layer, CellSpec)

    def release(self) -> None:
        """Drop every cached layer and trace, and Keras's global naming state.

        Tracing leaves state behind that evicting a layer does not free (measured:
        RSS grew ~0.2-0.6 MiB per traced layer over a 3,000-case sweep, LRU or not);
        ``keras.backend.clear_session`` releases it. Long sweeps call this between
        compile groups (it resets Keras's layer-name counters, so only call it where
        no other Keras model of yours is being built)."""
        self._cache.clear()
        clear_session(self._keras)

    def run_raw(self, data: CaseData) -> list[tuple[int, int, Any]]:
        """Keras's return of every call, ``[(start, stop, returned), ...]`` (NumPy, Keras's nesting)."""
        entry = self._compiled(data.spec, data.mask is not None)
        entry.layer.set_weights(data.weights)
        if data.spec.layer.stateful:
            reset_states(entry.layer)
        layer = data.spec.layer
        bucketed = self._bucketed(data.spec)
        calls = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            with_init = data.initial_state is not None and k == 0
            mask = None if data.mask is None else data.mask[:, a:b]
            init = list(data.initial_state) if with_init else []
            if bucketed:
                args, padding = pad_call(data.x[:, a:b], mask, init, static_time=layer.unroll,
                                         backwards=layer.go_backwards, static_rows=layer.stateful)
                fn = self._call(entry, data, with_init, args[0].shape[1], has_mask=True)
                calls.append((a, b, unpad_return(fn(*args), padding, sequences=layer.return_sequences)))
            else:
                args = [data.x[:, a:b], *([] if mask is None else [mask]), *init]
                calls.append((a, b, self._call(entry, data, with_init, b - a)(*args)))
        return calls

    def run(self, data: CaseData, ref: LayerReference) -> dict[str, NamedTensor]:
        """Keras's return for ``data``, with the case's weights loaded, named by ``ref``."""
        return concat_chunks([ref.named(returned, start=a, stop=b).values() for a, b, returned in self.run_raw(data)])
