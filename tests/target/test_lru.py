"""The layer cache: reuse, least-recently-used eviction, bad size."""

import pytest

from harness.target.lru import LRUCache


def test_reuses_and_evicts_the_least_recently_used():
    cache: LRUCache[str] = LRUCache(size=2)
    made = []

    def make(key):
        return lambda: made.append(key) or f"value-{key}"

    assert cache.get("a", make("a")) == "value-a"
    cache.get("b", make("b"))
    assert cache.get("a", make("a")) == "value-a"  # a hit: nothing made, "a" becomes the newest
    cache.get("c", make("c"))  # evicts "b", the least recently used
    cache.get("a", make("a"))
    cache.get("b", make("b"))
    assert made == ["a", "b", "c", "b"] and cache.misses == 4 and len(cache) == 2


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="size"):
        LRUCache(size=0)
