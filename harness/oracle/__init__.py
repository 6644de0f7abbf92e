"""Oracle: the reference entry, the calibrated tolerance and the comparator.

:func:`~harness.oracle.references.reference_for` says which ``reference_cells``
computation stands for a layer of any kind (and how to run it the way a buggy
port or another target would: :class:`~harness.oracle.conventions.LayerConventions`);
:func:`~harness.oracle.reference.run_reference` runs a case through it (returned
tensors and the per-step trace), :func:`~harness.oracle.tolerance.noise_floor`
measures the case's float32 noise floor on that trace, and
:mod:`~harness.oracle.compare` turns two sets of tensors into per-timestep
records. Never imports Keras.
"""
