"""A small cache of exported artifacts, so several data draws go through one conversion.

Converting costs 1.5-4 s; running an artifact costs milliseconds. The key is
(exporter, layer class + config without its name, SHA-256 of the weights,
static signature). Failures are cached too: a configuration the converter
refuses is refused once, not once per draw.

Limitation: a custom activation function is keyed by its serialized config
(its registered name), not its code; two different functions registered
under one name would share an entry. Call :meth:`ExportCache.clear` after
re-registering.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

from harness.exports.artifact import Artifact
from harness.exports.errors import ExportFailure
from harness.target.lru import LRUCache


class ExportCache:
    """``get(key, make)``: the cached artifact (or re-raised cached failure), else ``make()``."""

    def __init__(self, *, size: int = 16) -> None:
        self._lru: LRUCache[Artifact | ExportFailure] = LRUCache(size=size)
        self.hits = 0

    @property
    def conversions(self) -> int:
        """How many exports were really run (cache misses)."""
        return self._lru.misses

    def get(self, key: Hashable, make: Callable[[], Artifact]) -> Artifact:
        before = self._lru.misses

        def attempt() -> Artifact | ExportFailure:
            try:
                return make()
            except ExportFailure as exc:
                return exc

        value = self._lru.get(key, attempt)
        if self._lru.misses == before:
            self.hits += 1
        if isinstance(value, ExportFailure):
            raise value.with_traceback(None)
        return value

    def clear(self) -> None:
        self._lru.clear()

    def __len__(self) -> int:
        return len(self._lru)

    def stats(self) -> dict[str, Any]:
        return {"conversions": self.conversions, "hits": self.hits, "entries": len(self)}
