"""Compiling a layer call for the active target, and turning its results into NumPy.

Tracing costs far more than running, so each runner builds a layer once
(:func:`build_layer`) and compiles one call per signature, and reuses them with
new weights (``set_weights``). How to compile depends on the backend:

* **tensorflow** and **keras2** (tf_keras): ``tf.function`` with an input
  signature whose ``None`` dimensions (batch, time) stay dynamic, so one
  trace serves every case of the signature.
* **jax**: ``jax.jit`` over the layer's ``__call__`` in a ``StatelessScope``
  (what ``Layer.stateless_call`` does with ``call``), with the variables as *arguments*.
  Jitting ``layer(x)`` itself would bake the weights in as constants at trace
  time, so later ``set_weights`` would be silently ignored. A stateful RNN's
  states are variables Keras does not track (``rnn.py``
  ``_create_state_variables`` is ``no_automatic_dependency_tracking``), so
  ``stateless_call`` cannot feed or return them; they are arguments and
  results here too, and are written back after the call, as Keras does
  eagerly. JAX retraces per concrete shape, so the runner pads
  SimpleRNN/LSTM/GRU calls to shape buckets first
  (:mod:`harness.target.buckets`): one compile per configuration and bucket.
* **torch**: eager under ``torch.no_grad()``; ``torch.compile`` costs seconds
  per shape, more than a whole case's eager run at these sizes.

Every compiled call takes NumPy arrays and returns the layer's return with
each tensor converted to a NumPy array (same nesting).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from harness.target import targets
from harness.target.keras_env import import_keras

#: split(args) -> (positional args, keyword args) of ``layer.__call__``.
Split = Callable[[tuple], "tuple[tuple, dict]"]


@dataclass(frozen=True)
class ArgSpec:
    """One compiled-call argument: shape (``None`` = dynamic) and NumPy dtype name."""

    shape: tuple[int | None, ...]
    dtype: str  # "float32" or "bool"


def to_numpy(structure: Any) -> Any:
    """Every tensor in a (nested list/tuple) return as a NumPy array."""
    if isinstance(structure, (list, tuple)):
        return [to_numpy(item) for item in structure]
    if hasattr(structure, "detach"):  # torch.Tensor (possibly requiring grad)
        return structure.detach().cpu().numpy()
    return np.asarray(structure)


def clear_session(keras: Any) -> None:
    """Free Keras's global state and traces (tf_keras, the keras2 target, has no ``free_memory``)."""
    try:
        keras.backend.clear_session(free_memory=True)
    except TypeError:
        keras.backend.clear_session()
    if targets.active().keras_backend == "tensorflow":
        forget_custom_gradients()


def forget_custom_gradients() -> None:
    """Drop the gradient functions TensorFlow registered while tracing ``tf.custom_gradient`` ops.

    Tracing a ``tf.custom_gradient`` function in graph mode (``tf.nn.silu`` is one, so every
    layer with a silu activation) registers its gradient under a fresh name
    (``CustomGradient-<uid>``, tensorflow/python/ops/custom_gradient.py ``generate_name``) in
    TensorFlow's global gradient registry, and nothing ever removes it: the closure holds the
    whole traced graph. Measured on a 6,000-case sweep: ~10,000 graph operations kept alive
    (RSS +73 MiB between 1k and 5k cases), none after this. The harness never takes gradients,
    so the entries of the traces it has released are dead weight."""
    from tensorflow.python.framework import ops  # private: the registry has no public removal

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if isinstance(registry, dict):
        for name in [n for n in registry if n.startswith("CustomGradient-")]:
            del registry[name]


def reset_states(layer: Any) -> None:
    """Zero a stateful layer's states, as ``layer.reset_states()`` does.

    Keras 3.15.1 ``RNN.reset_state`` (rnn.py l.326-328) calls ``v.assign`` on each
    entry of ``layer.states``; for ``RNN([cell, cell, ...], stateful=True)`` those
    entries are per-cell lists, so it raises ``AttributeError: 'ListWrapper' object
    has no attribute 'assign'`` (measured). The layer still runs and carries its
    states; only the reset fails, so the harness zeroes every state variable itself."""
    try:
        layer.reset_states()
    except AttributeError:
        keras = import_keras()
        for variable in keras.tree.flatten(layer.states):
            variable.assign(np.zeros(tuple(variable.shape), dtype=np.dtype(variable.dtype)))  # JAX: no zeros_like(Variable)


def build_layer(layer: Any, input_shape: tuple) -> None:
    """``layer.build(input_shape)`` for the active target. On JAX without running the weight
    initializers (:mod:`harness.target.fast_build`): each is an XLA compile there, and every case
    loads its own weights anyway; elsewhere a build costs ~5 ms either way."""
    if targets.active().name == "jax":
        from harness.target.fast_build import build_skipping_initializers

        build_skipping_initializers(layer, input_shape, keras=import_keras())
    else:
        layer.build(input_shape)


def compile_layer_call(layer: Any, *, signature: Sequence[ArgSpec], split: Split) -> Callable[..., Any]:
    """A callable ``(*numpy_args) -> numpy return`` running ``layer(*split(args))``."""
    backend = targets.active().name
    if backend in ("tensorflow", "keras2"):
        return _tf_call(layer, signature, split)
    if backend == "jax":
        return _jax_call(layer, split)
    if backend == "torch":
        return _eager_call(layer, split)
    raise ValueError(f"no compile rule for target {backend!r}")  # pragma: no cover - TARGETS is closed


def _tf_call(layer: Any, signature: Sequence[ArgSpec], split: Split) -> Callable[..., Any]:
    import tensorflow as tf  # only reached on TF targets; keras_env has imported it quietly

    def call(*args):
        positional, keywords = split(args)
        return layer(*positional, **keywords)

    specs = [tf.TensorSpec(a.shape, getattr(tf, a.dtype)) for a in signature]
    fn = tf.function(call, input_signature=specs, reduce_retracing=True)
    return lambda *args: to_numpy(fn(*args))


def _jax_call(layer: Any, split: Split) -> Callable[..., Any]:
    import jax

    keras = import_keras()
    trainable, non_trainable, states = layer.trainable_variables, layer.non_trainable_variables, _states(layer)

    def pure(trainable_values, non_trainable_values, state_values, *args):
        positional, keywords = split(args)
        mapping = [*zip(trainable, trainable_values), *zip(non_trainable, non_trainable_values),
                   *zip(states, state_values)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = layer(*positional, **keywords)  # __call__, as a user calls it (masks, compute_mask...)
        return (out, [scope.get_current_value(v) for v in non_trainable],
                [scope.get_current_value(v) for v in states])

    jitted = jax.jit(pure)

    def run(*args):
        out, new_non_trainable, new_states = jitted([v.value for v in trainable], [v.value for v in non_trainable],
                                                    [v.value for v in states], *args)
        for variable, value in zip([*non_trainable, *states], [*new_non_trainable, *new_states]):
            variable.assign(value)
        return to_numpy(out)

    return run


def _states(layer: Any) -> list:
    """A stateful RNN's state variables (its own, or each Bidirectional half's), which Keras does not track."""
    keras = import_keras()
    parts = [layer, getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None)]
    found: dict[int, Any] = {}
    for part in parts:
        if part is not None and getattr(part, "stateful", False) and getattr(part, "states", None) is not None:
            found.update((id(v), v) for v in keras.tree.flatten(part.states))
    return list(found.values())


def _eager_call(layer: Any, split: Split) -> Callable[..., Any]:
    keras = import_keras()
    if targets.active().name == "torch":
        import torch

        no_grad = torch.no_grad
    else:
        no_grad = contextlib.nullcontext

    def run(*args):
        tensors = tuple(keras.ops.convert_to_tensor(a) for a in args)
        positional, keywords = split(tensors)
        with no_grad():
            return to_numpy(layer(*positional, **keywords))

    return run
