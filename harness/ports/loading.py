"""Finding and loading a port: ``path/to/file.py:name``, ``package.module:name`` or a command line.

A port file is code: loading it runs it, with the user's rights.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from harness.errors import PortError
from harness.ports.port import ADAPTERS, Port, wrap_port
from harness.ports.subprocess_port import subprocess_port


def load_object(reference: str) -> Any:
    """Import ``file.py:name`` or ``package.module:name`` and return the attribute."""
    if ":" not in reference:
        raise PortError(f"PORT {reference!r} must look like path/to/file.py:name or package.module:name")
    target, _, name = reference.rpartition(":")
    if not name.isidentifier():
        raise PortError(f"PORT {reference!r}: {name!r} is not a Python name")
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target)
        if not path.is_file():
            raise PortError(f"PORT file {target!r} does not exist")
        module_name = f"rnn_parity_port_{abs(hash(path.resolve()))}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise PortError(f"PORT file {target!r} cannot be imported as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        # Let the port import its neighbours (helpers next to the port file).
        sys.path.insert(0, str(path.resolve().parent))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - the port's own failure, reported in one line
            raise PortError(f"PORT file {target!r} failed to import: {type(exc).__name__}: {exc}") from exc
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise PortError(f"PORT module {target!r} cannot be imported ({exc})") from None
    if not hasattr(module, name):
        available = sorted(n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n)))
        raise PortError(f"PORT {reference!r}: {target} has no {name!r}; callables there: {', '.join(available) or 'none'}")
    obj = getattr(module, name)
    if not callable(obj):
        raise PortError(f"PORT {reference!r} is not callable (it is a {type(obj).__name__})")
    return obj


def load_port(
    reference: str, *, adapter: str = "auto", method: str = "step", timeout: float = 60.0,
    accepts: tuple[str, ...] = (),
) -> Port:
    """Load and wrap a port. ``reference`` is ``file.py:name``, ``module:name`` or, for
    ``adapter="subprocess"``, a command line."""
    if adapter not in ADAPTERS:
        raise PortError(f"--adapter {adapter!r} is not one of {', '.join(ADAPTERS)}")
    if adapter == "subprocess":
        return subprocess_port(reference, timeout=timeout, accepts=accepts)
    return wrap_port(load_object(reference), name=reference, adapter=adapter, method=method, timeout=timeout)
