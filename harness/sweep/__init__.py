"""Sweep: Hypothesis-drawn cases of every kind, Keras against the reference.

:mod:`~harness.sweep.parity` checks one case; :mod:`~harness.sweep.run` draws
the cases in compile groups and runs them (here, in worker processes,
:mod:`~harness.sweep.workers`, or on Dask, :mod:`~harness.sweep.dask_run`; the
cross-target matrix's Dask tasks run in a child process per target,
:mod:`~harness.sweep.dask_targets`), streaming records; :mod:`~harness.sweep.shard`
splits a sweep into shards and merges them back.
"""
