"""Naming what a layer returns: ``output``, ``h``, ``c`` with their timesteps.

Keras returns ``output`` or ``[output, *states]``; the comparison wants named
tensors with a time axis (:meth:`harness.oracle.references.LayerReference.named`
names a return). :class:`NamedTensor` holds ``values (B, n, U)`` and
the ``n`` timestep labels they belong to. Timesteps are *processing* steps:
with ``go_backwards`` step 0 is the one that read the last input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

STATE_NAMES = {"SimpleRNN": ("h",), "LSTM": ("h", "c"), "GRU": ("h",)}


@dataclass(frozen=True)
class NamedTensor:
    name: str
    values: np.ndarray  # (B, n, U)
    steps: np.ndarray  # (n,) int timestep labels


def concat_chunks(chunks: Sequence[Sequence[NamedTensor]]) -> dict[str, NamedTensor]:
    """Join the named tensors of consecutive calls (stateful) along time."""
    joined: dict[str, NamedTensor] = {}
    for tensors in chunks:
        for t in tensors:
            if t.name in joined:
                prev = joined[t.name]
                joined[t.name] = NamedTensor(
                    t.name, np.concatenate([prev.values, t.values], axis=1), np.concatenate([prev.steps, t.steps])
                )
            else:
                joined[t.name] = t
    return joined
