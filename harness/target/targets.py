"""Targets: which Keras the harness runs the layers on.

A *target* is one Keras implementation the real layers come from:

========== ============================ =====================================
target     layers from                  install
========== ============================ =====================================
tensorflow Keras 3, TensorFlow backend  (default, always installed)
jax        Keras 3, JAX backend         ``pip install -e '.[jax]'``
torch      Keras 3, PyTorch backend     ``pip install -e '.[torch]'``
keras2     tf_keras (Keras 2.x API)     ``pip install -e '.[keras2]'``
========== ============================ =====================================

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so a process
runs exactly one target: :func:`use_target` must be called before anything
imports Keras (the CLI does it first thing), and the cross-target matrix runs
each target in its own subprocess. The choice lives in the process
environment (``RNN_PARITY_TARGET``; ``KERAS_BACKEND`` for Keras 3), where
Keras itself keeps it and where subprocesses inherit it.
"""

from __future__ import annotations

from harness.errors import TargetError

import importlib.util
import os
import sys
from dataclasses import dataclass

ENV_VAR = "RNN_PARITY_TARGET"
DEFAULT = "tensorflow"


@dataclass(frozen=True)
class Target:
    name: str
    keras_backend: str  # KERAS_BACKEND for Keras 3 (keras2 runs tf_keras on TensorFlow)
    module: str  # the import that must work (the backend, or tf_keras)
    extra: str | None  # the pyproject extra that installs it (None: a core dependency)
    keras_major: int
    title: str

    def install_hint(self) -> str:
        return f"pip install -e '.[{self.extra}]'" if self.extra else "pip install -e ."


TARGETS: dict[str, Target] = {
    "tensorflow": Target("tensorflow", "tensorflow", "tensorflow", None, 3, "Keras 3 / TensorFlow"),
    "jax": Target("jax", "jax", "jax", "jax", 3, "Keras 3 / JAX"),
    "torch": Target("torch", "torch", "torch", "torch", 3, "Keras 3 / PyTorch"),
    "keras2": Target("keras2", "tensorflow", "tf_keras", "keras2", 2, "Keras 2 (tf_keras) / TensorFlow"),
}
NAMES = tuple(TARGETS)


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise TargetError(f"--target {name!r}: expected one of {', '.join(NAMES)}") from None


def installed(name: str) -> bool:
    """Whether ``name``'s backend module can be imported (without importing it)."""
    return importlib.util.find_spec(get(name).module) is not None


def available() -> tuple[str, ...]:
    """The targets whose extras are installed, in :data:`NAMES` order."""
    return tuple(n for n in NAMES if installed(n))


def require(name: str) -> Target:
    """``name``'s Target; TargetError naming the extra to install when it is missing."""
    target = get(name)
    if not installed(name):
        raise TargetError(f"--target {name}: {target.module} is not installed; install it with `{target.install_hint()}`")
    return target


def active() -> Target:
    """The target this process runs: ``RNN_PARITY_TARGET``, else a Keras 3 ``KERAS_BACKEND``
    the user set (tensorflow, jax or torch), else tensorflow."""
    name = os.environ.get(ENV_VAR)
    if name is None:
        backend = os.environ.get("KERAS_BACKEND", DEFAULT)
        name = backend if backend in TARGETS and TARGETS[backend].keras_major == 3 else DEFAULT
    return get(name)


def use_target(name: str) -> Target:
    """Select ``name`` for this process; must run before Keras is imported.

    Raises TargetError if the backend is missing (naming the extra) or if Keras
    was already imported with another backend (Keras cannot switch backends).
    """
    target = require(name)
    if "keras" in sys.modules and name != "keras2":
        loaded = os.environ.get("KERAS_BACKEND", "tensorflow")
        if loaded != target.keras_backend:
            raise TargetError(f"--target {name}: Keras was already imported with the {loaded} backend in this process")
    os.environ[ENV_VAR] = name
    os.environ["KERAS_BACKEND"] = target.keras_backend
    return target
