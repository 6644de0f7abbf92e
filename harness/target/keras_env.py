"""Importing Keras quietly and once.

TensorFlow prints start-up noise (oneDNN notices, CPU-feature guards, absl
warnings) on stderr before Python can stop it; the environment variables must
be set before the first import. ``TF_ENABLE_ONEDNN_OPTS=0`` also turns off
oneDNN's reordered float32 arithmetic, which keeps round-off repeatable from
run to run. Users may override any of these by setting them first.

The Keras imported is the active target's (:mod:`harness.target.targets`): Keras 3
with the chosen ``KERAS_BACKEND``, or tf_keras for ``keras2``. This module is
the only place that imports Keras, TensorFlow or tf_keras.
"""

from __future__ import annotations

from harness.errors import SetupError

import contextlib
import importlib
import logging
import os
import re
import sys
import tempfile
import warnings
from types import ModuleType
from typing import Iterator

_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


#: What TensorFlow's C++ start-up writes to stderr whatever TF_CPP_MIN_LOG_LEVEL says (absl logs
#: before its InitializeLog, the CUDA stub's notice, the CPU-feature guard).
_NATIVE_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} |"
                           r"To enable the following instructions|.*rebuild TensorFlow with the appropriate compiler)")


@contextlib.contextmanager
def _native_start_up_noise_dropped() -> Iterator[None]:
    """Collect what native code writes to file descriptor 2 meanwhile; write back all but the noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [ln for ln in sink.read().decode(errors="replace").splitlines() if not _NATIVE_NOISE.match(ln)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def quiet_environment() -> None:
    """Set the quiet defaults (without overriding what the user chose)."""
    from harness.target import targets

    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    # The target decides the backend (it is fixed once Keras is imported).
    os.environ["KERAS_BACKEND"] = targets.active().keras_backend


def import_keras() -> ModuleType:
    """The active target's Keras (``keras``, or ``tf_keras`` for keras2), imported quietly.

    One-line SetupError if it is missing, naming the extra to install."""
    from harness.target import targets

    quiet_environment()
    target = targets.active()
    try:
        targets.require(target.name)
    except targets.TargetError as exc:
        raise SetupError(str(exc)) from None
    module = "tf_keras" if target.keras_major == 2 else "keras"
    try:
        with warnings.catch_warnings(), _native_start_up_noise_dropped():
            warnings.simplefilter("ignore")
            keras = importlib.import_module(module)
    except ImportError as exc:
        raise SetupError(
            f"cannot import {module} ({exc}); install the project with `make test` or `{target.install_hint()}`"
        ) from None
    if target.keras_major == 2:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        return keras
    if int(keras.__version__.split(".")[0]) < 3:
        raise SetupError(f"Keras {keras.__version__} found; rnn-parity needs Keras >= 3 (pip install -U keras)")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    return keras


def import_tensorflow() -> ModuleType:
    import_keras()
    try:
        with _native_start_up_noise_dropped():  # on JAX/torch targets Keras did not import it
            return importlib.import_module("tensorflow")
    except ImportError as exc:
        raise SetupError(f"cannot import TensorFlow ({exc}); install it with `pip install -e .`") from None


def versions() -> dict[str, str]:
    """Versions of everything that affects the numbers (for provenance)."""
    import importlib.util
    import platform

    import numpy

    from harness.target import targets

    keras = import_keras()
    out = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "target": targets.active().name,
    }
    for name in ("tensorflow", "jax", "torch", "tf_keras", "hypothesis", "pandas"):
        if name in ("jax", "torch", "tf_keras") and importlib.util.find_spec(name) is None:
            continue
        try:
            with _native_start_up_noise_dropped():  # on JAX/torch targets TensorFlow is first imported here
                out[name] = importlib.import_module(name).__version__
        except ImportError:
            out[name] = "missing"
    return out
