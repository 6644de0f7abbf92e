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

from harness.check import CheckOptions, CheckReport, parse_layer_options, run_check
from harness.check_output import render
from harness.port import Port, load_port, wrap_port
from harness.family import FamilyRunner
from harness.family_check import CHECK_FAMILY_KINDS, FamilyCheckOptions, run_family_check
from harness.runner import KerasRunner

_RUNNERS: dict[str, KerasRunner] = {}
_FAMILY_RUNNERS: dict[str, FamilyRunner] = {}


def _shared_runner() -> KerasRunner:
    # One per process: building Keras layers is the expensive part, and tests call this repeatedly.
    if "default" not in _RUNNERS:
        _RUNNERS["default"] = KerasRunner()
    return _RUNNERS["default"]


def _shared_family_runner() -> FamilyRunner:
    if "default" not in _FAMILY_RUNNERS:
        _FAMILY_RUNNERS["default"] = FamilyRunner()
    return _FAMILY_RUNNERS["default"]


def check_port(
    port: Any,
    *,
    layer: str,
    examples: int = 10,
    seed: int = 0,
    max_timesteps: int = 32,
    adapter: str = "auto",
    method: str = "step",
    timeout: float = 60.0,
    runner: KerasRunner | FamilyRunner | None = None,
    **options: Any,
) -> CheckReport:
    """Run the port check and return the report (no assertion).

    ``port`` is a callable or class, or a ``"file.py:name"`` / ``"module:name"``
    string; ``timeout`` bounds every call into the port (seconds); ``options`` fix LayerSpec/CaseSpec fields (``units=32``,
    ``recurrent_activation="hard_sigmoid"``, ``mask="none"``...). For ``layer`` one of
    Bidirectional, StackedRNN, ConvLSTM1D/2D/3D the options are
    :data:`harness.family_check.OPTIONS` (``inner="LSTM"``, ``merge_mode="sum"``,
    ``filters=4``...) and ``runner`` is a :class:`~harness.family.FamilyRunner`.
    """
    if isinstance(port, Port):
        wrapped = port
    elif isinstance(port, str):
        wrapped = load_port(port, adapter=adapter, method=method, timeout=timeout)
    else:
        wrapped = wrap_port(port, adapter=adapter, method=method, timeout=timeout)
    if layer in CHECK_FAMILY_KINDS:
        fixed = {("units" if k == "filters" else k): v for k, v in options.items()}
        family_options = FamilyCheckOptions(kind=layer, fixed=fixed, examples=examples, seed=seed,
                                            max_timesteps=max_timesteps)
        if isinstance(fixed.get("cells"), str):
            fixed["cells"] = [c.strip() for c in fixed["cells"].split(",") if c.strip()]
        if runner is not None and not isinstance(runner, FamilyRunner):
            raise ValueError(f"runner: a {layer} port runs on a harness.family.FamilyRunner, not {type(runner).__name__}")
        return run_family_check(wrapped, family_options, runner=runner or _shared_family_runner())
    fixed = parse_layer_options(layer, [], None)
    fixed.update(options)
    check_options = CheckOptions(kind=layer, fixed=fixed, examples=examples, seed=seed, max_timesteps=max_timesteps)
    return run_check(wrapped, check_options, runner=runner or _shared_runner())


def assert_port_matches(port: Any, *, layer: str, **kwargs: Any) -> CheckReport:
    """Raise ``AssertionError`` (with the CLI's answer) unless ``port`` matches Keras."""
    report = check_port(port, layer=layer, **kwargs)
    if report.verdict != "match":
        raise AssertionError("\n" + render(report))
    return report
