"""Case files: a port with the options to check it under and the answer expected.

``cases/*.json`` (paths inside are relative to the file's directory's parent,
i.e. the repository root for files in ``cases/``)::

    {
      "name": "seed-000-lstm-sigmoid",
      "description": "one paragraph: what the port gets wrong and where it comes from",
      "port": "cases/ports/seed_000_lstm_sigmoid.py:lstm",
      "layer": "LSTM",
      "adapter": "auto",            # optional: auto | function | class | step | stepper | subprocess
      "method": "step",             # optional: stepper ports' per-timestep method
      "port_accepts": [],           # optional: subprocess ports' features (mask, initial_state)
      "set": {"recurrent_activation": "hard_sigmoid"},   # fixed options (harness.check.check.option_names;
                                    # composite layers e.g. {"inner": "LSTM"})
      "examples": 8, "seed": 0, "max_timesteps": 24,     # optional
      "precision": "float16",       # optional: the arithmetic the port computes in (float32 default,
                                    # float16, bfloat16, fixed<W,I>), as --precision
      "build": ["cc", "-O2", "-o", "cases/ports/c/prog", "cases/ports/c/prog.c", "-lm"]  # optional, run
                                    # from the repository root (no shell) before the check
      "expected": {"verdict": "mismatch", "flags": ["activation"]}
                                    # optional "when": {flag: {option: value}}: the condition each
                                    # flag must be named with ({} = everywhere)
    }

``rnn-parity check cases/NAME.json`` runs one; the drift reports run them all.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.check.check import CheckOptions, CheckReport, parse_options, run_check
from harness.ports.loading import load_port
from harness.ports.port import ADAPTERS
from harness.errors import PortError
from harness.target.runner import KerasRunner

CASES_DIR = Path(__file__).resolve().parents[2] / "cases"
_KEYS = {"name", "description", "port", "layer", "adapter", "method", "port_accepts", "set", "examples", "seed",
         "max_timesteps", "expected", "timeout", "build", "precision"}


@dataclass(frozen=True)
class CaseFile:
    path: Path
    name: str
    port: str  # resolved: absolute file path for file ports
    layer: str
    description: str = ""
    adapter: str = "auto"
    method: str = "step"
    port_accepts: tuple[str, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    examples: int = 8
    seed: int = 0
    max_timesteps: int = 24
    timeout: float = 60.0
    expected_verdict: str | None = None
    expected_flags: tuple[str, ...] = ()
    expected_when: dict[str, dict[str, Any]] = field(default_factory=dict)  # flag -> condition
    build: tuple[str, ...] = ()  # argv run from ``root`` before the check (compiling a non-Python port)
    root: Path = Path(".")
    precision: str = "float32"  # the arithmetic the port declares (``--precision``)

    def options(self, *, replay: tuple[str, ...] = ()) -> CheckOptions:
        return CheckOptions(kind=self.layer, fixed=dict(self.fixed), examples=self.examples, seed=self.seed,
                            max_timesteps=self.max_timesteps, replay=replay, precision=self.precision)

    def command(self) -> str:
        """The one-line command that runs this case."""
        return f"rnn-parity check {shlex.quote(str(self.path))}"


def _resolve_port(raw: str, root: Path, adapter: str) -> str:
    if adapter == "subprocess":
        # The program path is relative to the repository root, like file ports.
        argv = shlex.split(raw)
        if argv and "/" in argv[0] and not Path(argv[0]).is_absolute():
            argv[0] = str(root / argv[0])
        return shlex.join(argv)
    target, sep, name = raw.rpartition(":")
    if sep and (target.endswith(".py") or "/" in target):
        path = Path(target)
        if not path.is_absolute():
            path = root / path
        return f"{path}:{name}"
    return raw


def load_case_file(path: Path) -> CaseFile:
    """Parse and validate a case file; ValueError with a one-line message on any problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"case file {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"case file {path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"case file {path}: expected a JSON object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ValueError(f"case file {path}: unknown key(s) {', '.join(unknown)}")
    for key in ("port", "layer"):
        if key not in data:
            raise ValueError(f"case file {path}: missing {key!r}")
    adapter = data.get("adapter", "auto")
    if adapter not in ADAPTERS:
        raise ValueError(f"case file {path}: adapter {adapter!r} is not one of {', '.join(ADAPTERS)}")
    root = path.resolve().parent.parent
    pairs = [f"{k}={json.dumps(v)}" for k, v in data.get("set", {}).items()]
    try:
        fixed = parse_options(data["layer"], pairs)
        CheckOptions(kind=data["layer"], fixed=fixed, precision=data.get("precision", "float32"))  # validates early
    except ValueError as exc:
        raise ValueError(f"case file {path}: {exc}") from None
    expected = data.get("expected", {})
    return CaseFile(
        path=path,
        name=data.get("name", path.stem),
        port=_resolve_port(data["port"], root, adapter),
        layer=data["layer"],
        description=data.get("description", ""),
        adapter=adapter,
        method=data.get("method", "step"),
        port_accepts=tuple(data.get("port_accepts", ())),
        fixed=fixed,
        examples=int(data.get("examples", 8)),
        seed=int(data.get("seed", 0)),
        max_timesteps=int(data.get("max_timesteps", 24)),
        timeout=float(data.get("timeout", 60.0)),
        expected_verdict=expected.get("verdict"),
        expected_flags=tuple(sorted(expected.get("flags", ()))),
        expected_when=dict(expected.get("when", {})),
        build=tuple(data.get("build", ())),
        root=root,
        precision=str(data.get("precision", "float32")),
    )


def case_files(directory: Path = CASES_DIR) -> list[CaseFile]:
    return [load_case_file(p) for p in sorted(Path(directory).glob("*.json"))]


def build_port(case: CaseFile) -> None:
    """Run the case's build command (no shell); PortError with its output if it fails."""
    if not case.build:
        return
    try:
        done = subprocess.run(list(case.build), cwd=case.root, capture_output=True, text=True, timeout=300, check=False)
    except FileNotFoundError:
        raise PortError(f"{case.name}: cannot build the port: {case.build[0]!r} not found (install a C compiler)") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise PortError(f"{case.name}: building the port failed ({' '.join(case.build)}): {tail}")


def run_case_file(case: CaseFile, *, runner: KerasRunner | None = None, replay: tuple[str, ...] = ()) -> CheckReport:
    build_port(case)
    port = load_port(case.port, adapter=case.adapter, method=case.method, timeout=case.timeout, accepts=case.port_accepts)
    report = run_check(port, case.options(replay=replay), runner=runner)
    report.command = case.command()
    return report


def condition_mismatches(case: CaseFile, report: CheckReport) -> list[str]:
    """How the conditions the check named differ from the case's expected ``when`` (empty: as expected)."""
    named = {c["flag"]: c["when"] for c in report.causes()}
    return [f"{flag}: expected when {want}, got {named.get(flag)}" for flag, want in case.expected_when.items()
            if named.get(flag) != want]
