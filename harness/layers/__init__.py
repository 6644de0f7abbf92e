"""Layers: what we test. Layer specs of every kind, cases, and how they are drawn.

Owns the *layer protocol*: a layer spec is a kind, the Keras layer it builds
and a per-step input shape. :mod:`~harness.layers.cell` has the leaf kinds
(SimpleRNN/LSTM/GRU, :class:`CellSpec`), :mod:`~harness.layers.composite` the
composites of cells (Bidirectional, RNN over stacked cells, ConvLSTM1D/2D/3D,
:class:`CompositeSpec`). A :class:`~harness.layers.case.CaseSpec` adds the data
(shape, mask, initial state, scales, seed) and one replay token for every kind;
:mod:`~harness.layers.strategies` draws cases with Hypothesis and
:mod:`~harness.layers.generate` turns a strategy into a reproducible list.
Imports nothing else of the harness: everything below builds on it.
"""
