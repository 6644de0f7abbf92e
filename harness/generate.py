"""Drawing a fixed, reproducible list of cases from a Hypothesis strategy.

The sweep is not a pytest test, but it uses the same strategies. Hypothesis
runs a collector with ``@seed(S)`` and only the generate phase, so the same
seed and the same code give the same cases (principle: deterministic).
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

T = TypeVar("T")


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
        collect()
    return drawn
