"""A small least-recently-used cache of built Keras layers (and their compiled calls).

A sweep draws many distinct layer configurations; each cached layer holds its
variables and traced graphs, so the cache is bounded to keep memory flat.
Used by :class:`harness.target.runner.KerasRunner` (built layers and their traces).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """``get(key, make)``: the cached value, or ``make()`` stored under ``key``; the oldest goes first."""

    def __init__(self, *, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._size = size
        self.misses = 0  # how many values were made (for benchmarks and tests)

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self._items[key] = make()
        self.misses += 1
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
