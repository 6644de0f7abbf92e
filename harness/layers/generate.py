"""Drawing a fixed, reproducible list of cases from a Hypothesis strategy.

The sweep is not a pytest test, but it uses the same strategies. Hypothesis
runs a collector with ``@seed(S)`` and only the generate phase, so the same
seed and the same strategies give the same cases (principle: deterministic).

One more thing had to go for that: Hypothesis (6.13x+) mixes into its draws,
with probability 0.05, numeric literals it finds in the *local source modules
loaded so far* (``hypothesis.internal.conjecture.providers``). Which modules are
loaded differs between the CLI, a library call and a worker process, and any
edit to a literal anywhere in the project changed the sweep's cases. The
collector therefore draws with an empty local-constants pool
(:func:`_without_local_constants`): cases depend on the seed and the strategies only.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

T = TypeVar("T")


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """Hypothesis draws with no constants taken from local source code (see the module docstring)."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # a Hypothesis without the constants pool: nothing to do
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants = getattr(providers, "Constants", None)
    if getter is None or cache is None or constants is None:
        yield
        return
    # The cache keeps the local pool per (type, constraints) once asked: a private one for this run.
    providers.CONSTANTS_CACHE = {}  # type: ignore[attr-defined]
    providers._get_local_constants = constants  # type: ignore[attr-defined]  # an empty pool
    try:
        yield
    finally:
        providers._get_local_constants = getter  # type: ignore[attr-defined]
        providers.CONSTANTS_CACHE = cache  # type: ignore[attr-defined]


def draw_examples(strategy: st.SearchStrategy[T], *, count: int, seed: int) -> list[T]:
    """``count`` distinct examples of ``strategy``, the same for the same ``seed``."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    drawn: list[T] = []
    seen: set = set()

    @hypothesis_seed(seed)
    @settings(
        max_examples=max(count * 3, 10),
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: T) -> None:
        if len(drawn) < count and example not in seen:
            seen.add(example)
            drawn.append(example)

    if count:
        with _without_local_constants():
            collect()
    return drawn
