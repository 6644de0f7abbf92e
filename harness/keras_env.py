"""Importing Keras quietly and once.

TensorFlow prints start-up noise (oneDNN notices, CPU-feature guards, absl
warnings) on stderr before Python can stop it; the environment variables must
be set before the first import. ``TF_ENABLE_ONEDNN_OPTS=0`` also turns off
oneDNN's reordered float32 arithmetic, which keeps round-off repeatable from
run to run. Users may override any of these by setting them first.
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from types import ModuleType

_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
}


class SetupError(RuntimeError):
    """Keras or its backend cannot be used; the message says what to install."""


def quiet_environment() -> None:
    """Set the quiet defaults (without overriding what the user chose)."""
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)


def import_keras() -> ModuleType:
    """Return the ``keras`` module, imported quietly; one-line SetupError if missing."""
    quiet_environment()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras = importlib.import_module("keras")
    except ImportError as exc:
        raise SetupError(
            f"cannot import Keras ({exc}); install the project with `make test` or `pip install -e .`"
        ) from None
    if int(keras.__version__.split(".")[0]) < 3:
        raise SetupError(f"Keras {keras.__version__} found; rnn-parity needs Keras >= 3 (pip install -U keras)")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    return keras


def import_tensorflow() -> ModuleType:
    import_keras()
    try:
        return importlib.import_module("tensorflow")
    except ImportError as exc:
        raise SetupError(f"cannot import TensorFlow ({exc}); install it with `pip install -e .`") from None


def versions() -> dict[str, str]:
    """Versions of everything that affects the numbers (for provenance)."""
    import platform

    import numpy

    keras = import_keras()
    out = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    for name in ("tensorflow", "hypothesis", "pandas"):
        try:
            out[name] = importlib.import_module(name).__version__
        except ImportError:
            out[name] = "missing"
    return out
