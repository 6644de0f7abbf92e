"""Parity in your own test suite: ``assert_port_matches``.

>>> from harness import assert_port_matches
>>> assert_port_matches(my_lstm, layer="LSTM", recurrent_activation="hard_sigmoid")  # doctest: +SKIP
>>> assert_port_matches(my_bidi, layer="Bidirectional", inner="LSTM", merge_mode="concat")  # doctest: +SKIP

On a mismatch it raises ``AssertionError`` whose message is exactly the CLI's
answer: verdict, first divergence, the named cause with its fix, and the
command that replays the first diverging example.
"""

from __future__ import annotations

from typing import Any

from harness.check.check import CheckOptions, CheckReport, run_check
from harness.check.output import render
from harness.ports.loading import load_port
from harness.ports.port import Port, wrap_port
from harness.target.runner import KerasRunner

_RUNNERS: dict[str, KerasRunner] = {}


def _shared_runner() -> KerasRunner:
    # One per process: building Keras layers is the expensive part, and tests call this repeatedly.
    if "default" not in _RUNNERS:
        _RUNNERS["default"] = KerasRunner()
    return _RUNNERS["default"]


def check_port(
    port: Any,
    *,
    layer: str,
    examples: int = 10,
    seed: int = 0,
    max_timesteps: int | None = None,
    adapter: str = "auto",
    method: str = "step",
    timeout: float = 60.0,
    runner: KerasRunner | None = None,
    precision: Any = "float32",
    **options: Any,
) -> CheckReport:
    """Run the port check and return the report (no assertion).

    ``port`` is a callable or class, or a ``"file.py:name"`` / ``"module:name"``
    string; ``timeout`` bounds every call into the port (seconds); ``options`` fix
    what the check would otherwise draw (:func:`harness.check.check.option_names`):
    ``units=32``, ``recurrent_activation="hard_sigmoid"``, ``mask="none"``... and
    for composite layers ``inner="LSTM"``, ``merge_mode="sum"``, ``cells="LSTM,GRU"``,
    ``filters=4``... ``precision`` is the arithmetic the port computes in (``"float32"``,
    ``"float16"``, ``"bfloat16"``, ``"fixed<16,6>"``): the tolerance is that arithmetic's
    noise floor (docs/ports.md, "Reduced-precision ports").
    """
    if isinstance(port, Port):
        wrapped = port
    elif isinstance(port, str):
        wrapped = load_port(port, adapter=adapter, method=method, timeout=timeout)
    else:
        wrapped = wrap_port(port, adapter=adapter, method=method, timeout=timeout)
    fixed = {("units" if k == "filters" else k): v for k, v in options.items()}
    if isinstance(fixed.get("cells"), str):
        fixed["cells"] = [c.strip() for c in fixed["cells"].split(",") if c.strip()]
    check_options = CheckOptions(kind=layer, fixed=fixed, examples=examples, seed=seed, max_timesteps=max_timesteps,
                                 precision=precision)
    if runner is not None and not isinstance(runner, KerasRunner):
        raise ValueError(f"runner: expected a harness.target.runner.KerasRunner, not {type(runner).__name__}")
    return run_check(wrapped, check_options, runner=runner or _shared_runner())


def assert_port_matches(port: Any, *, layer: str, **kwargs: Any) -> CheckReport:
    """Raise ``AssertionError`` (with the CLI's answer) unless ``port`` matches Keras."""
    report = check_port(port, layer=layer, **kwargs)
    if report.verdict != "match":
        raise AssertionError("\n" + render(report))
    return report
