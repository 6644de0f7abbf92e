"""Naming what a layer returns: ``output``, ``h``, ``c`` with their timesteps.

Keras returns ``output`` or ``[output, *states]``; the comparison wants named
tensors with a time axis. :class:`NamedTensor` holds ``values (B, n, U)`` and
the ``n`` timestep labels they belong to. Timesteps are *processing* steps:
with ``go_backwards`` step 0 is the one that read the last input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.spec import LayerSpec

STATE_NAMES = {"SimpleRNN": ("h",), "LSTM": ("h", "c"), "GRU": ("h",)}


@dataclass(frozen=True)
class NamedTensor:
    name: str
    values: np.ndarray  # (B, n, U)
    steps: np.ndarray  # (n,) int timestep labels


def expected_return_len(spec: LayerSpec) -> int:
    return 1 + len(STATE_NAMES[spec.kind]) if spec.return_state else 1


def name_return(
    returned: np.ndarray | Sequence[np.ndarray], spec: LayerSpec, *, start: int, stop: int
) -> list[NamedTensor]:
    """Split one call's return value (covering timesteps ``[start, stop)``) into named tensors.

    Raises ValueError with expected-vs-got shapes when the return does not fit the spec.
    """
    parts = list(returned) if spec.return_state else [returned]
    n_expected = expected_return_len(spec)
    if spec.return_state and len(parts) != n_expected:
        raise ValueError(f"expected a list of {n_expected} arrays [output, *states], got {len(parts)}")
    names = ["output", *STATE_NAMES[spec.kind]] if spec.return_state else ["output"]
    out = []
    for name, value in zip(names, parts):
        value = np.asarray(value)
        if name == "output" and spec.return_sequences:
            expected = (None, stop - start, spec.units)
            steps = np.arange(start, stop)
            if value.ndim != 3 or value.shape[1:] != expected[1:]:
                raise ValueError(f"{name}: expected shape (batch, {stop - start}, {spec.units}), got {value.shape}")
        else:
            steps = np.array([stop - 1])
            if value.ndim != 2 or value.shape[1] != spec.units:
                raise ValueError(f"{name}: expected shape (batch, {spec.units}), got {value.shape}")
            value = value[:, None, :]
        out.append(NamedTensor(name=name, values=value, steps=steps))
    return out


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
