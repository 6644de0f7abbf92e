"""JAX shape buckets on real JAX: the same return as exact shapes, and fewer compiles."""

from __future__ import annotations

import pytest

from .conftest import need, run_json

pytestmark = pytest.mark.backends


def test_bucketed_jax_calls_return_what_exact_shapes_return_with_fewer_compiles():
    need("jax")
    got = run_json("-m", "tests.backends.bucket_probe")
    assert got["cases"] == 90
    # float32 XLA: padded rows can change a matmul's kernel (the last bits), never more.
    assert got["worst_relative_difference"] <= 1e-6, got
    assert got["compiles_bucketed"] < got["compiles_exact"] / 2, got
