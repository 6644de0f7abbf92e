"""Shape buckets: one JAX compile per layer configuration and bucket, not per batch and length.

``jax.jit`` compiles once per concrete input shape, and a compile group's draws
have different batches and lengths, so the JAX target compiled almost every case.
For a SimpleRNN/LSTM/GRU call the runner pads the call to a bucket instead:

* batch ``B`` -> :func:`rows_bucket` ``(B)`` rows (at least :data:`MIN_ROWS`; a stateful
  layer's batch is fixed, so its rows are not padded); the added rows are zeros, fully
  masked (an RNN's rows never mix), and dropped from the return;
* timesteps ``T`` -> :func:`steps_bucket` ``(T)`` steps (at least :data:`MIN_STEPS`, then
  powers of four; not with ``unroll=True``, whose length is static anyway),
  ``P = steps_bucket(T) - T`` masked steps placed so that the layer
  *processes them first*: before the sequence for a forward layer, after it for
  ``go_backwards`` (which processes the reversed sequence). A masked step carries every
  state, so the real steps start from the real starting state, and the final states
  and last output are the real last step's. Returned sequences are in processing
  order, so the real steps are ``[P:]`` either way.

The padded call always passes a mask (all True on the real steps when the case has
none; ``jnp.where(True, new, old)`` is ``new``). A stateful layer's chunks are padded
the same way, each on its own: the masked steps carry its states unchanged.

Why the buckets are coarse: a compile costs ~0.1-0.4 s and a padded step a few
microseconds, so the default sweep's draws (batch <= 8, T <= 64) fall in one row
bucket and one step bucket, instead of up to 4 x 7 power-of-two buckets.
The bucket depends on the case alone, so the numbers are the same whatever ran before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


#: The smallest padded batch and sequence length.
MIN_ROWS = 8
MIN_STEPS = 64


def bucket(n: int) -> int:
    """The smallest power of two >= ``n`` (``n >= 1``)."""
    return 1 << max(0, int(n) - 1).bit_length()


def rows_bucket(n: int) -> int:
    """Padded batch: the smallest power of two >= ``n``, at least :data:`MIN_ROWS`."""
    return max(MIN_ROWS, bucket(n))


def steps_bucket(n: int) -> int:
    """Padded length: the smallest power of four >= ``n``, at least :data:`MIN_STEPS`."""
    steps = MIN_STEPS
    while steps < n:
        steps *= 4
    return steps


@dataclass(frozen=True)
class Padding:
    """How one call was padded: real ``rows`` and ``steps``, ``lead`` masked steps processed first."""

    rows: int
    steps: int
    lead: int
    backwards: bool


def pad_call(x: np.ndarray, mask: np.ndarray | None, initial_state: list | None, *, static_time: bool,
             backwards: bool, static_rows: bool = False) -> tuple[list[np.ndarray], Padding]:
    """``[x, mask, *initial_state]`` padded to the buckets (see the module docstring);
    ``static_rows`` (a stateful layer) keeps the batch as it is."""
    rows, steps = x.shape[:2]
    padded_steps = steps if static_time else steps_bucket(steps)
    lead = padded_steps - steps
    at = slice(0, steps) if backwards else slice(lead, padded_steps)
    big_x = np.zeros((rows if static_rows else rows_bucket(rows), padded_steps, *x.shape[2:]), dtype=x.dtype)
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
