"""Sharding a sweep across machines: which contiguous block of compile groups a shard runs.

``rnn-parity sweep --shard K/N`` keeps the K-th of N *contiguous* blocks of
the sweep's compile groups (a group is never split, so each shard pays a
trace once per group it owns). Block boundaries are
``floor(i * G / N)`` for G groups, so the shards partition the sweep and,
read back in shard order, give the unsharded sweep's cases in its order:
``rnn-parity merge`` and ``rnn-parity report --merge`` rebuild the whole
sweep from the shards' output directories (each holds ``provenance.json``
naming its shard and options).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; ValueError naming ``--shard`` otherwise."""
    match = SHARD_PATTERN.match(text)
    if not match:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 2/4 (shard 2 of 4)")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text!r}: expected 1 <= K <= N, got K={k}, N={n}")
    return k, n


def shard_slice(groups: int, k: int, n: int) -> slice:
    """The groups of shard ``k`` of ``n`` (1-based) among ``groups`` groups: a contiguous block."""
    if not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n}: expected 1 <= K <= N")
    return slice((k - 1) * groups // n, k * groups // n)


def provenance_of(directory: Path) -> dict:
    path = Path(directory) / "provenance.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{directory}: not a sweep output directory (cannot read provenance.json: {exc})") from None


def order_shards(directories: Sequence[Path]) -> list[Path]:
    """The shard directories in shard order; ValueError unless they are exactly shards 1..N of one sweep."""
    if not directories:
        raise ValueError("merge: give the shard output directories")
    found: dict[int, Path] = {}
    reference_options, total = None, None
    for directory in directories:
        options = dict(provenance_of(directory).get("options") or {})
        k, n = options.pop("shard", (1, 1))
        options.pop("workers", None)  # how a shard ran does not change its cases
        if reference_options is None:
            reference_options, total = options, n
        elif options != reference_options or n != total:
            raise ValueError(f"{directory}: a different sweep (options {options}, {n} shards) than {directories[0]}")
        if k in found:
            raise ValueError(f"{directory}: shard {k}/{n} given twice (also {found[k]})")
        found[k] = Path(directory)
    missing = sorted(set(range(1, (total or 0) + 1)) - set(found))
    if missing:
        raise ValueError(f"merge: shard(s) {', '.join(f'{k}/{total}' for k in missing)} missing")
    return [found[k] for k in sorted(found)]
