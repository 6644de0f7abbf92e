"""One line from a multi-line message (a TensorFlow traceback, a converter's log).

Failure messages, record files and tables hold one line per case; TensorFlow and
the converters raise exceptions whose text is a whole traceback (``in user code:``
frames, MLIR locations, log chatter). :func:`one_line` picks the line that says why.
"""

from __future__ import annotations

import re

_NOISE = re.compile(r"^(\s*$|Traceback|\s+File |WARNING: All log messages|I0000|W0000|.*in user code:\s*$)")
_EXC_LINE = re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception): (.+)$")


def one_line(message: object, limit: int = 300) -> str:
    """The most informative single line of a (possibly multi-line) message: a converter's log, a TensorFlow error.

    MLIR's ``...: error: <reason>`` first, then the innermost ``SomeError: <reason>`` of a chained
    TensorFlow message (``in user code:`` wrappers are skipped), else the first meaningful line."""
    lines = [strip_locations(ln).strip() for ln in str(message).splitlines() if not _NOISE.match(ln)]
    if not lines:
        return _clip(str(message).strip(), limit) or "no message"
    for ln in lines:
        if "error:" in ln:
            return _clip(ln[ln.index("error:") + len("error:"):].strip(" :"), limit)
    for ln in reversed(lines):
        m = _EXC_LINE.match(ln)
        if m:
            return _clip(m.group(1).strip(), limit)
    return _clip(lines[0], limit)


def strip_locations(text: str) -> str:
    """Remove MLIR source locations ``loc(callsite(fused[...] at ...))``, which bury the reason."""
    out, i = [], 0
    while True:
        j = text.find("loc(", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        depth, k, quoted = 0, j + 3, False
        while k < len(text):
            ch = text[k]
            if ch == '"' and text[k - 1] != "\\":
                quoted = not quoted
            elif not quoted and ch == "(":
                depth += 1
            elif not quoted and ch == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
