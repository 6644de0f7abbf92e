"""Shape buckets: one JAX compile per layer configuration and bucket, not per batch and length.

``jax.jit`` compiles once per concrete input shape, and a compile group's draws
have different batches and lengths, so the JAX target compiled almost every case.
For a SimpleRNN/LSTM/GRU case run in one call (not stateful), the runner pads the
call to a bucket instead:

* batch ``B`` -> :func:`bucket` ``(B)`` rows; the added rows are zeros, fully masked
  (an RNN's rows never mix), and dropped from the return;
* timesteps ``T`` -> ``bucket(T)`` steps (not with ``unroll=True``, whose length is
  static anyway), ``P = bucket(T) - T`` masked steps placed so that the layer
  *processes them first*: before the sequence for a forward layer, after it for
  ``go_backwards`` (which processes the reversed sequence). A masked step carries every
  state, so the real steps start from the real starting state, and the final states
  and last output are the real last step's. Returned sequences are in processing
  order, so the real steps are ``[P:]`` either way.

The padded call always passes a mask (all True on the real steps when the case has
none; ``jnp.where(True, new, old)`` is ``new``). Buckets are powers of two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def bucket(n: int) -> int:
    """The smallest power of two >= ``n`` (``n >= 1``)."""
    return 1 << max(0, int(n) - 1).bit_length()


@dataclass(frozen=True)
class Padding:
    """How one call was padded: real ``rows`` and ``steps``, ``lead`` masked steps processed first."""

    rows: int
    steps: int
    lead: int
    backwards: bool


def pad_call(x: np.ndarray, mask: np.ndarray | None, initial_state: list | None, *, static_time: bool,
             backwards: bool) -> tuple[list[np.ndarray], Padding]:
    """``[x, mask, *initial_state]`` padded to the buckets (see the module docstring)."""
    rows, steps = x.shape[:2]
    padded_steps = steps if static_time else bucket(steps)
    lead = padded_steps - steps
    at = slice(0, steps) if backwards else slice(lead, padded_steps)
    big_x = np.zeros((bucket(rows), padded_steps, *x.shape[2:]), dtype=x.dtype)
    big_x[:rows, at] = x
    big_mask = np.zeros(big_x.shape[:2], dtype=bool)
    big_mask[:rows, at] = True if mask is None else mask
    states = []
    for s in initial_state or ():
        big = np.zeros((big_x.shape[0], *np.shape(s)[1:]), dtype=np.asarray(s).dtype)
        big[:rows] = s
        states.append(big)
    return [big_x, big_mask, *states], Padding(rows, steps, lead, backwards)


def unpad_return(returned: Any, padding: Padding, *, sequences: bool) -> Any:
    """The real rows (and, for a returned sequence, the real steps) of a padded call's return."""
    arrays = returned if isinstance(returned, list) else [returned]
    out = [np.asarray(a)[: padding.rows] for a in arrays]
    if sequences:
        out[0] = out[0][:, padding.lead : padding.lead + padding.steps]
    return out if isinstance(returned, list) else out[0]
