"""Compile groups, shards and merging: the sweep's structure, without Keras where possible."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.layers.case import CaseSpec
from harness.layers.generate import draw_examples
from harness.sweep.shard import order_shards, parse_shard, shard_slice
from harness.layers.strategies import case_groups, case_specs, compile_signature
from harness.sweep.run import SweepOptions, draw_cases, draw_groups


@settings(max_examples=20, deadline=None)
@given(case_groups(size=6, max_timesteps=30, max_batch=5))
def test_a_group_shares_one_compile_signature_and_varies_the_data(group):
    assert len(group) == 6
    assert len({compile_signature(c) for c in group}) == 1
    assert len({c.seed for c in group}) == 6  # distinct weights and inputs for every case


def test_compile_signature_matches_the_runners_chunking():
    from harness.layers.cell import CellSpec

    layer = CellSpec(kind="GRU", units=3, features=2, unroll=True, stateful=True)
    case = CaseSpec(layer=layer, batch=2, timesteps=7, chunks=3)
    bounds = case.build().chunk_bounds()
    assert compile_signature(case)[-1] == tuple(b - a for a, b in bounds)


def test_groups_are_deterministic_and_examples_counts_cases_per_cell():
    options = SweepOptions(cells=("SimpleRNN", "LSTM"), examples=11, seed=4, per_config=4)
    groups = draw_groups(options)
    assert [len(g) for g in groups] == [4, 4, 3, 4, 4, 3]
    assert draw_groups(options) == groups
    assert [c.token() for c in draw_cases(options)] == [c.token() for g in groups for c in g]
    assert all(CaseSpec.from_token(c.token()) == c for c in draw_cases(options))  # replay works per case


def test_per_config_1_is_the_sweep_without_groups():
    options = SweepOptions(cells=("GRU",), examples=5, seed=3, per_config=1)
    expected = draw_examples(case_specs(kinds=["GRU"], max_timesteps=64, max_batch=4, max_units=32), count=5, seed=3)
    assert draw_cases(options) == expected


@given(st.integers(0, 60), st.integers(1, 9))
def test_shards_partition_the_groups_in_order(groups, n):
    blocks = [list(range(groups))[shard_slice(groups, k, n)] for k in range(1, n + 1)]
    assert [i for block in blocks for i in block] == list(range(groups))
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_shards_of_a_sweep_concatenate_to_the_sweep():
    whole = SweepOptions(cells=("LSTM", "GRU"), examples=10, seed=5, per_config=3)
    parts = [draw_groups(SweepOptions(cells=whole.cells, examples=10, seed=5, per_config=3, shard=(k, 3))) for k in (1, 2, 3)]
    assert [g for part in parts for g in part] == draw_groups(whole)


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", ""])
def test_bad_shard_is_a_value_error_naming_the_option(text):
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)


def test_parse_shard():
    assert parse_shard(" 2/4 ") == (2, 4)


def _shard_dir(tmp_path, name, k, n, **options):
    d = tmp_path / name
    d.mkdir()
    (d / "provenance.json").write_text(json.dumps({"options": {"seed": 1, "examples": 3, **options, "shard": [k, n]}}))
    return d


def test_order_shards_sorts_and_checks_completeness(tmp_path):
    a, b = _shard_dir(tmp_path, "a", 2, 2), _shard_dir(tmp_path, "b", 1, 2)
    assert order_shards([a, b]) == [b, a]
    with pytest.raises(ValueError, match="2/2 missing"):
        order_shards([b])
    with pytest.raises(ValueError, match="given twice"):
        order_shards([b, b])
    other = _shard_dir(tmp_path, "c", 2, 2, seed=9)
    with pytest.raises(ValueError, match="different sweep"):
        order_shards([b, other])
    with pytest.raises(ValueError, match="not a sweep output"):
        order_shards([tmp_path])
