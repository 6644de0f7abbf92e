"""Sweep: Hypothesis-drawn cases of every kind, Keras against the reference.

:mod:`~harness.sweep.parity` checks one case; :mod:`~harness.sweep.run` draws
the cases in compile groups and runs them (here or in worker processes,
:mod:`~harness.sweep.workers`), streaming records; :mod:`~harness.sweep.shard`
splits a sweep into shards and merges them back.
"""
