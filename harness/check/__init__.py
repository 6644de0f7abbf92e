"""Check: run a port against Keras on many examples and name what it gets wrong.

One check loop for every layer kind (:mod:`~harness.check.check`), one
catalogue of named causes (:mod:`~harness.check.catalogue`), the search for the
cause (:mod:`~harness.check.diagnosis`), the answer a person reads
(:mod:`~harness.check.output`), case files in ``cases/``
(:mod:`~harness.check.case_files`) and saved models checked layer by layer
(:mod:`~harness.check.model`).
"""
