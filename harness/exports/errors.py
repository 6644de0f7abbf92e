"""Export failures, and capturing everything a converter prints.

Converters talk on four channels: Python ``logging`` (tf2onnx, absl), Python
``warnings``, ``sys.stdout``/``sys.stderr`` writes, and C++ code (MLIR, the
TFLite converter, onnxruntime) that writes straight to file descriptors 1
and 2. :func:`capture` collects all four into one text so that nothing
reaches the user's terminal; the text is kept on the artifact
(``artifact.log``) or on the exception (``exc.log``) and shown only when it
is relevant.

File-descriptor capture is process-wide: while a conversion runs, output
written by other threads of the same process lands in the log too.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterator

from harness.errors import RnnParityError
from harness.messages import one_line, strip_locations  # noqa: F401 - re-exported: the exporters import them from here


class ExportFailure(RnnParityError):
    """Base of the two export failures. ``str(exc)`` is one line; ``exc.log`` holds what the tools printed."""

    def __init__(self, message: str, *, log: str = "", exporter: str = "") -> None:
        super().__init__(one_line(message))
        self.log = log
        self.exporter = exporter

    @property
    def reason(self) -> str:
        return str(self)


class ExportUnsupported(ExportFailure):
    """The converter refuses the layer, or the artifact holds something the runtime cannot run
    (Flex ops, an unsupported option, a backend other than TensorFlow, a stateful layer)."""


class ExportError(ExportFailure):
    """The converter crashed, the artifact failed to load, or running it failed."""


def with_exception(text: str, exc: BaseException) -> str:
    """A captured log with the exception that ended it appended (for ``exc.log``)."""
    return "\n".join(p for p in (text, f"{type(exc).__name__}: {exc}") if p)


class _ListHandler(logging.Handler):
    def __init__(self, sink: io.StringIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.sink = sink
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - a log line must never break a conversion
            pass


class Capture:
    """What :func:`capture` collected; ``text`` is complete once the ``with`` block has ended."""

    def __init__(self) -> None:
        self.text = ""


#: Loggers whose own handlers (or propagation) would print to the terminal.
_LOGGERS = ("", "tensorflow", "absl", "tf2onnx", "keras", "onnx", "onnxruntime")


@contextlib.contextmanager
def capture() -> Iterator[Capture]:
    """Collect Python logging, warnings, sys.stdout/stderr and fd-level 1/2 output.

    Nothing is printed; the text is on the yielded object after the block (also when it raises)."""
    result = Capture()
    py_sink = io.StringIO()
    handler = _ListHandler(py_sink)
    saved_loggers = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved_loggers.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [handler] if name == "" else []
        logger.propagate = name != ""
    with tempfile.TemporaryFile(mode="w+b") as fd_sink:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        saved_fds = []
        for fd in (1, 2):
            try:
                saved_fds.append((fd, os.dup(fd)))
                os.dup2(fd_sink.fileno(), fd)
            except OSError:  # no such descriptor (embedded interpreters): nothing to capture there
                pass
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stdout(py_sink), contextlib.redirect_stderr(py_sink):
                warnings.simplefilter("always")
                try:
                    yield result
                finally:
                    for w in caught:
                        py_sink.write(f"{w.category.__name__}: {w.message} ({os.path.basename(w.filename)}:{w.lineno})\n")
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd, saved in saved_fds:
                os.dup2(saved, fd)
                os.close(saved)
            for logger, handlers, propagate in saved_loggers:
                logger.handlers = handlers
                logger.propagate = propagate
            fd_sink.seek(0)
            native = fd_sink.read().decode("utf-8", "replace")
            parts = [p for p in (py_sink.getvalue().rstrip(), native.rstrip()) if p]
            result.text = "\n".join(parts)
