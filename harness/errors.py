"""One exception hierarchy: every error the harness raises on purpose derives from :class:`RnnParityError`.

The CLI maps any :class:`RnnParityError` to one line on stderr and exit status 2;
library users catch the root or one subclass. Nothing here imports anything,
so every layer of the package can raise these.
"""

from __future__ import annotations


class RnnParityError(Exception):
    """Root of the harness's own errors: the message is one actionable line."""


class UsageError(RnnParityError, ValueError):
    """A command-line or API argument is wrong (the message names the argument)."""


class SetupError(RnnParityError, RuntimeError):
    """The environment cannot run the harness (Keras, TensorFlow, a backend missing or broken)."""


class TargetError(RnnParityError, RuntimeError):
    """The chosen target (Keras backend or Keras 2) is not installed or cannot be selected."""


class PortError(RnnParityError, ValueError):
    """A port cannot be loaded or wrapped (bad reference, missing name, wrong adapter)."""


class PortCallError(RnnParityError, RuntimeError):
    """A call into a port misbehaved (exception, hang, wrong return): reported per example."""


class PortUnsupported(PortCallError):
    """The port cannot implement this configuration at all, for a named reason (an exporter refusing a layer)."""


class ModelError(RnnParityError, ValueError):
    """A saved model cannot be loaded or used."""


class WorkerError(RnnParityError, RuntimeError):
    """A Dask worker could not run a task (a target's child process died or failed there)."""
