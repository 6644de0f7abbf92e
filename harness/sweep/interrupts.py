"""Telling a Ctrl-C from a failed case when TensorFlow has mangled it.

A SIGINT that lands while TensorFlow traces a layer does not always come out as
``KeyboardInterrupt``: the interrupt is raised inside TensorFlow's graph-building
code, which re-raises what it finds with ``from None`` or is left in a broken state
(measured, ``report --examples 40 --cells LSTM --seed 3`` interrupted under load:
``StagingError: Exception encountered when calling LSTM.call()``, ``TypeError:
Expected int32, but got None``, ``SystemError: bad argument to internal function``).
The sweep then recorded an ``error`` case and went on, ignoring the user's Ctrl-C.

:func:`watching` records that a SIGINT arrived (and raises ``KeyboardInterrupt``
as Python's own handler does); a case that fails meanwhile asks :func:`raise_if_received`
first, so the interrupt wins over the error it caused.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_RECEIVED = threading.Event()


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """Within: a SIGINT is remembered, then raised as ``KeyboardInterrupt`` as usual (main thread only:
    elsewhere Python cannot install signal handlers, and the caller's handling stays as it is)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return

    def on_interrupt(signum, frame):
        _RECEIVED.set()
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    _RECEIVED.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _RECEIVED.clear()


def raise_if_received(cause: BaseException | None = None) -> None:
    """Raise ``KeyboardInterrupt`` if a SIGINT arrived while :func:`watching`."""
    if _RECEIVED.is_set():
        raise KeyboardInterrupt from cause
