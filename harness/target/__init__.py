"""Target: real Keras on the chosen backend.

:mod:`~harness.target.targets` selects TensorFlow, JAX, PyTorch or Keras 2
(tf_keras) before Keras is imported; :mod:`~harness.target.backends` compiles a
layer call for that backend; :class:`~harness.target.runner.KerasRunner`
builds each layer spec once and runs cases through it;
:mod:`~harness.target.behaviours` names the ways a target legitimately differs
from the reference; :mod:`~harness.target.migration` measures Keras 2 -> 3 drift.
"""
