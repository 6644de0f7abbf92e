"""``rnn-parity``: the command line.

Exit codes: 0 everything agreed, 1 a case drifted, 2 a usage or setup error
(one line on stderr; ``--debug`` shows the traceback). Every error the harness
raises on purpose is a :class:`harness.errors.RnnParityError`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from harness.errors import SetupError, UsageError

EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def _cells(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _numbers(text: str) -> tuple[float, ...]:
    """Comma-separated numbers, e.g. ``1,3,5``."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _seconds(text: str) -> float:
    """A positive number of seconds (argparse names the option when this raises)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def _shard(text: str) -> tuple[int, int]:
    from harness.sweep.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"--shard {text!r}: ")) from None


def _precision(text: str):
    """``--precision``: float32, float16, bfloat16 or fixed<W,I> (argparse names the option when this raises)."""
    from reference_cells.precision import parse_precision

    try:
        return parse_precision(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_PRECISION_HELP = ("the arithmetic the port computes in: float32 (default), float16, bfloat16 or fixed<W,I> "
                   "(hls4ml ap_fixed: truncation, wrap-around); the tolerance is that arithmetic's noise floor")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 (principle: no walls of text)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_target(sub: argparse.ArgumentParser) -> None:
    from harness.target.targets import DEFAULT, NAMES

    sub.add_argument("--target", "--backend", dest="target", choices=NAMES, default=DEFAULT,
                     help="which Keras runs the layers: Keras 3 on tensorflow (default), jax or torch, or keras2 "
                          "(tf_keras); the non-default ones are extras: pip install -e '.[jax]' / '.[torch]' / '.[keras2]'")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnn-parity",
        description="Per-timestep parity of Keras recurrent layers against NumPy references and ports.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    sweep = sub.add_parser("sweep", help="Hypothesis-drawn cases per cell: Keras against the reference")
    sweep.add_argument("--cells", type=_cells, default=("SimpleRNN", "LSTM", "GRU"),
                       help="comma-separated: SimpleRNN,LSTM,GRU and Bidirectional,StackedRNN,ConvLSTM1D,ConvLSTM2D,ConvLSTM3D")
    sweep.add_argument("--examples", type=int, default=100,
                       help="cases per cell (default 100), drawn as ceil(N / --per-config) layer configurations")
    sweep.add_argument("--per-config", type=int, default=8, metavar="K",
                       help="cases per layer configuration: K data draws share one traced Keras graph (default 8; "
                            "1 = every case its own configuration)")
    sweep.add_argument("--workers", type=int, default=1, help="worker processes (default 1; 2 on a 2-core machine)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the compile groups as tasks on a Dask cluster: tcp://HOST:PORT of a `dask scheduler`, "
                            "or `local` (a LocalCluster on this machine); needs pip install -e '.[dask]'")
    sweep.add_argument("--shard", type=_shard, default=(1, 1), metavar="K/N",
                       help="run only the K-th of N deterministic blocks of the sweep (merge with `rnn-parity merge`)")
    sweep.add_argument("--seed", type=int, default=0, help="same seed, same cases and numbers (default 0)")
    sweep.add_argument("--max-timesteps", type=int, default=64, help="longest sequence drawn (default 64)")
    sweep.add_argument("--min-timesteps", type=int, default=1, help="shortest sequence drawn (default 1)")
    sweep.add_argument("--recurrent-gains", type=_numbers, default=None, metavar="G,G,...",
                       help="recurrent-kernel gains to draw from (default 1,0.5,1.5,3; 3 and above are chaotic)")
    sweep.add_argument("--input-scales", type=_numbers, default=None, metavar="S,S,...",
                       help="input standard deviations to draw from (default 1,0.3,3; 3 passes the hard_sigmoid knees)")
    sweep.add_argument("--out", type=Path, default=None, help="write records.csv, cases.csv, summary.csv here")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_target(sweep)

    check = sub.add_parser("check", help="run a port against Keras and name the convention it gets wrong")
    check.add_argument("port", metavar="PORT", nargs="?", default=None,
                       help="path/to/file.py:name, package.module:name, a command (--adapter subprocess), or a case file "
                            "cases/NAME.json (none with --export)")
    check.add_argument("--export", default=None, metavar="EXPORTER",
                       help="no port file: export each example's layer with a real converter (onnx, litert) and check "
                            "the artifact (extras: pip install -e '.[onnx]' / '.[litert]')")
    check.add_argument("--export-activation", action="append", default=[], metavar="NAME=FORM",
                       help="with --export: the exported layer computes activation NAME with a custom function of "
                            "the same maths (hard_sigmoid=clip: clip(x/6 + 0.5, 0, 1); hard_sigmoid=clip-constant-first); "
                            "Keras keeps NAME. SimpleRNN/LSTM/GRU")
    check.add_argument("--layer", choices=("SimpleRNN", "LSTM", "GRU", "Bidirectional", "StackedRNN", "ConvLSTM1D", "ConvLSTM2D",
                                           "ConvLSTM3D"),
                       help="the Keras layer the port implements (StackedRNN = keras.layers.RNN over cells)")
    check.add_argument("--units", type=int, default=None, help="fix the number of units / ConvLSTM filters (default: drawn)")
    check.add_argument("--features", type=int, default=None, help="fix the number of input features / channels (default: drawn)")
    check.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                       help="fix a layer or case option, e.g. --set recurrent_activation=hard_sigmoid --set return_sequences=true")
    check.add_argument("--config", type=Path, default=None, help="a layer config (JSON, as layer.get_config() returns)")
    check.add_argument("--examples", type=int, default=10, help="examples to run (default 10)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--max-timesteps", type=int, default=None,
                       help="longest sequence drawn (default 32; Bidirectional/StackedRNN/ConvLSTM 24)")
    check.add_argument("--adapter", default="auto", choices=("auto", "function", "class", "step", "stepper", "subprocess"))
    check.add_argument("--method", default="step", help="the per-timestep method of a --adapter stepper port")
    check.add_argument("--port-accepts", default="", help="subprocess ports: comma-separated features, e.g. mask,initial_state")
    check.add_argument("--timeout", type=_seconds, default=60.0, help="seconds per call into the port, Python or subprocess (default 60)")
    check.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the answer as JSON")
    check.add_argument("--replay", action="append", default=[], metavar="TOKEN",
                       help="run exactly this example (a token from a previous answer) instead of drawing")
    check.add_argument("--precision", type=_precision, default=None, metavar="{float32,float16,bfloat16,fixed<W,I>}",
                       help=_PRECISION_HELP)
    _add_target(check)

    model = sub.add_parser("check-model", help="check every recurrent layer of a saved model, localising divergence")
    model.add_argument("model", type=Path, metavar="MODEL", help="a .keras or .h5 file")
    model.add_argument("--inputs", type=Path, default=None, help="a .npy array fed to the model (default: random)")
    model.add_argument("--port", action="append", default=[], metavar="LAYER_NAME=PORT",
                       help="check this layer against your port instead of the reference (repeatable)")
    model.add_argument("--adapter", default="auto", choices=("auto", "function", "class", "step", "stepper"))
    model.add_argument("--method", default="step")
    model.add_argument("--timeout", type=_seconds, default=60.0, help="seconds per call into a port (default 60)")
    model.add_argument("--timesteps", type=int, default=16, help="timesteps of random inputs (default 16)")
    model.add_argument("--seed", type=int, default=0)
    model.add_argument("--unsafe", action="store_true", help="allow Lambda layers (runs code from the file)")
    model.add_argument("--export", default=None, metavar="EXPORTER",
                       help="check what a real exporter computes (onnx, litert): the whole model and each recurrent "
                            "layer alone, exported and compared per timestep")
    model.add_argument("--json", type=Path, default=None, metavar="FILE")
    model.add_argument("--precision", type=_precision, default=None, metavar="{float32,float16,bfloat16,fixed<W,I>}",
                       help="the arithmetic every --port (or --export) computes in; " + _PRECISION_HELP.split("; ")[1])
    _add_target(model)

    report = sub.add_parser("report", help="run the sweep and every case in cases/, write an HTML drift report")
    report.add_argument("--examples", type=int, default=100, help="sweep cases per cell (default 100)")
    report.add_argument("--seed", type=int, default=7, help="default 7")
    report.add_argument("--cells", type=_cells,
                        default=("SimpleRNN", "LSTM", "GRU", "Bidirectional", "StackedRNN", "ConvLSTM1D", "ConvLSTM2D",
                                 "ConvLSTM3D"))
    report.add_argument("--max-timesteps", type=int, default=64)
    report.add_argument("--cases", type=Path, default=None, help="case files directory (default: the repository's cases/)")
    report.add_argument("--no-cases", action="store_true", help="sweep only")
    report.add_argument("--no-core-grid", action="store_true",
                        help="leave out the core grid (the configurations people ship, one case each per kind)")
    report.add_argument("--out", type=Path, default=Path("reports"), help="reports root (default reports/)")
    report.add_argument("--no-progress", action="store_true")
    report.add_argument("--per-config", type=int, default=8, metavar="K", help="sweep cases per layer configuration (default 8)")
    report.add_argument("--workers", type=int, default=1, help="sweep worker processes (default 1)")
    report.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the sweep's compile groups (and --targets' matrix) on a Dask cluster "
                             "(tcp://HOST:PORT or `local`; extra .[dask])")
    report.add_argument("--merge", nargs="+", type=Path, default=None, metavar="SHARD_DIR",
                        help="report on these `sweep --shard K/N --out DIR` outputs instead of running the sweep")
    report.add_argument("--exports", type=_cells, default=None, metavar="EXPORTERS",
                        help="also export every kind with these converters (onnx,litert) and add the export matrix")
    report.add_argument("--export-examples", type=int, default=20, metavar="N",
                        help="examples per kind and exporter for --exports (default 20)")
    report.add_argument("--targets", type=_cells, default=None,
                        help="also run the sweep on these targets (comma-separated, or 'all' = every installed one) "
                             "and add the cross-target matrix to the report")
    report.add_argument("--compare", nargs=2, type=Path, metavar=("RUN_A", "RUN_B"),
                        help="only compare two existing runs (e.g. reports/<id> reports/latest)")
    _add_target(report)

    matrix = sub.add_parser("matrix", help="the same sweep on every target (each in a subprocess, or on Dask): "
                                           "matrix.csv/.html")
    matrix.add_argument("--targets", type=_cells, default=None,
                        help="comma-separated targets, or 'all' (default: every installed one)")
    matrix.add_argument("--cells", type=_cells, default=("SimpleRNN", "LSTM", "GRU", "Bidirectional", "StackedRNN",
                                                          "ConvLSTM1D", "ConvLSTM2D"))
    matrix.add_argument("--examples", type=int, default=50, help="cases per cell and target (default 50)")
    matrix.add_argument("--seed", type=int, default=7)
    matrix.add_argument("--max-timesteps", type=int, default=64)
    matrix.add_argument("--out", type=Path, default=Path("matrix-out"), help="output directory (default matrix-out/)")
    matrix.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run every target's compile groups as tasks on a Dask cluster (tcp://HOST:PORT or `local`; "
                             "each worker runs a target in a child process it keeps); needs pip install -e '.[dask]'")

    merge = sub.add_parser("merge", help="merge `sweep --shard K/N --out DIR` outputs into one sweep output")
    merge.add_argument("shards", nargs="+", type=Path, metavar="SHARD_DIR", help="every shard's --out directory")
    merge.add_argument("--out", type=Path, required=True, help="write the merged records.csv, cases.csv, summary.csv here")

    replay = sub.add_parser("replay", help="re-run one case from the token in a failure message")
    replay.add_argument("token")
    replay.add_argument("--steps", type=int, default=12, help="how many timesteps to print (default 12)")
    _add_target(replay)
    return parser


def _print_table(rows: list[dict], file=None) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    with pd.option_context("display.float_format", "{:.3g}".format, "display.width", 200):
        print(frame.to_string(index=False), file=file or sys.stdout)


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.sweep.run import RecordStream, SweepOptions, run_sweep

    try:
        drawn = {name: getattr(args, name) for name in ("recurrent_gains", "input_scales") if getattr(args, name)}
        options = SweepOptions(cells=args.cells, examples=args.examples, seed=args.seed, max_timesteps=args.max_timesteps,
                               min_timesteps=args.min_timesteps, per_config=args.per_config, workers=args.workers,
                               shard=args.shard, scheduler=args.scheduler, **drawn)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # Records go to disk as cases finish (or nowhere without --out): memory stays flat on long sweeps.
    stream = RecordStream(args.out) if args.out is not None else None
    try:
        result = run_sweep(options, progress=not args.no_progress, keep_records=False,
                           on_outcome=stream.add if stream is not None else None)
    except BaseException:
        if stream is not None:
            stream.abort()
        raise
    return _finish_sweep(result, args.out, seed=options.seed, stream=stream)


def _finish_sweep(result, out: Path | None, *, seed: int, stream=None) -> int:
    """Print failures and the summary, write the outputs; the exit code of a sweep."""
    from collections import Counter

    from harness.oracle.failure import failure_message
    from harness.sweep.run import summary_rows, write_outputs

    for outcome in result.drifted + result.errors:
        print(failure_message(outcome.spec, outcome.result), end="\n\n")
    _print_table(summary_rows(result))
    labelled = Counter(o.result.behaviour for o in result.outcomes if o.result.behaviour)
    if labelled:
        from harness.target.targets import active

        print(f"\nknown {active().name} behaviours (not failures; see docs/known-differences.md): "
              + ", ".join(f"{name} x{count}" for name, count in sorted(labelled.items())))
    n = len(result.outcomes)
    print(f"\n{n} cases in {result.seconds:.1f} s ({n / max(result.seconds, 1e-9):.1f} cases/s), seed {seed}")
    if out is not None:
        paths = write_outputs(result, out, stream=stream)
        print(f"records written to {paths[0].parent}/ ({', '.join(p.name for p in paths)})")
    if result.interrupted:
        print(f"rnn-parity: interrupted after {n} cases: the records cover only those "
              "(provenance.json says complete: false)", file=sys.stderr)
        return 130
    if result.drifted:
        return EXIT_DRIFT
    return EXIT_ERROR if result.errors else EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.sweep.merge import load_sweep

    try:
        result = load_sweep(args.shards)
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    print(f"merged {len(args.shards)} shard(s)")
    return _finish_sweep(result, args.out, seed=result.options.seed)


def cmd_replay(args: argparse.Namespace) -> int:
    from harness.layers.case import CaseSpec
    from harness.oracle.compare import records_frame
    from harness.oracle.failure import failure_message
    from harness.sweep.parity import check_case
    from harness.target.runner import KerasRunner

    try:
        spec = CaseSpec.from_token(args.token)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"token: {exc}") from None
    outcome = check_case(spec, KerasRunner())
    result = outcome.result
    if outcome.records:
        frame = records_frame(outcome.records)
        shown = frame.sort_values(["t", "tensor"]).head(args.steps) if result.status != "drift" else frame[
            frame.t >= (result.first_t or 0) - 2].sort_values(["t", "tensor"]).head(args.steps)
        cols = ["tensor", "t", "max_abs_err", "tolerance", "floor", "index", "within"]
        _print_table(shown[cols].to_dict("records"))
    if result.status in ("drift", "error"):
        print(failure_message(spec, result))
    else:
        print(f"{result.case_id}: {result.status} (worst error {result.worst_abs_err:.3g}, "
              f"amplification {result.amplification:.3g})")
    return {"pass": EXIT_OK, "ill-conditioned": EXIT_OK, "drift": EXIT_DRIFT}.get(result.status, EXIT_ERROR)


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from harness.check.check import CheckOptions, parse_options, run_check
    from harness.layers.case import CaseSpec
    from harness.ports.loading import load_port

    if args.port is not None and args.export is not None:
        raise UsageError(f"give a PORT or --export {args.export}, not both")
    if args.port is None and args.export is None:
        raise UsageError("give a PORT (file.py:name, a command or a case file) or --export onnx|litert")
    if args.port is not None and args.port.endswith(".json") and args.layer is None:
        return _check_case_file(args)
    if args.layer is None:
        raise UsageError("--layer is required (or pass a case file: rnn-parity check cases/NAME.json)")
    try:
        config = None
        if args.config is not None:
            try:
                config = json.loads(args.config.read_text())
            except OSError as exc:
                raise UsageError(f"--config {args.config}: {exc.strerror or exc}") from None
            except json.JSONDecodeError as exc:
                raise UsageError(f"--config {args.config}: not JSON ({exc}); expected a layer config as "
                                 "json.dumps(layer.get_config()) writes it") from None
            if isinstance(config, dict) and "config" in config and isinstance(config["config"], dict):
                config = config["config"]  # a serialized layer {"class_name": ..., "config": {...}}
            if not isinstance(config, dict):
                raise UsageError(f"--config {args.config}: expected a JSON object (a layer config)")
        fixed = parse_options(args.layer, args.set, config)
        fixed.update(_sizes(args))
        options = CheckOptions(kind=args.layer, fixed=fixed, examples=args.examples, seed=args.seed,
                               max_timesteps=args.max_timesteps, replay=tuple(args.replay),
                               **({"precision": args.precision} if args.precision is not None else {}))
        for token in options.replay:
            CaseSpec.from_token(token)  # validate early: one line, not a traceback
        if args.export_activation and args.export is None:
            raise UsageError("--export-activation needs --export onnx|litert")
        if args.export is not None:
            from harness.exports.forms import parse_forms
            from harness.exports.port import export_port

            forms = parse_forms(args.export_activation)
            if forms and args.layer not in ("SimpleRNN", "LSTM", "GRU"):
                raise UsageError(f"--export-activation applies to SimpleRNN/LSTM/GRU, not {args.layer}")
            port = export_port(args.export, forms=forms)
        else:
            accepts = tuple(a.strip() for a in args.port_accepts.split(",") if a.strip())
            port = load_port(args.port, adapter=args.adapter, method=args.method, timeout=args.timeout,
                             accepts=accepts)
    except ValueError as exc:  # UsageError and PortError are ValueErrors too
        raise UsageError(str(exc)) from None
    return _answer(run_check(port, options), args)


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    """``--units`` / ``--features`` when given (each at least 1)."""
    sizes = {name: getattr(args, name) for name in ("units", "features") if getattr(args, name) is not None}
    for name, value in sizes.items():
        if value < 1:
            raise UsageError(f"--{name} must be >= 1, got {value}")
    return sizes


def _answer(report, args: argparse.Namespace, *, command: str | None = None, expected: str | None = None) -> int:
    """Print a check's answer (then ``expected``, a case file's line; JSON with ``--json``): the exit code of its verdict."""
    from harness.check.output import render
    from harness.sweep.storage import write_json

    report.command = command or _command_line(args)
    print(render(report))
    if expected is not None:
        print(expected)
    if args.json is not None:
        write_json(report.to_json(), args.json)
    return {"match": EXIT_OK, "mismatch": EXIT_DRIFT}.get(report.verdict, EXIT_ERROR)


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this check (without --replay/--json)."""
    import shlex

    parts = ["rnn-parity", "check", *([args.port] if args.port else ["--export", args.export])]
    for pair in getattr(args, "export_activation", None) or []:
        parts += ["--export-activation", pair]
    if args.layer:
        parts += ["--layer", args.layer]
    for flag in ("units", "features"):
        if getattr(args, flag) is not None:
            parts += [f"--{flag}", str(getattr(args, flag))]
    for pair in args.set:
        parts += ["--set", pair]
    if args.config is not None:
        parts += ["--config", str(args.config)]
    if args.adapter != "auto":
        parts += ["--adapter", args.adapter]
    if args.adapter == "stepper":
        parts += ["--method", args.method]
    if args.port_accepts:
        parts += ["--port-accepts", args.port_accepts]
    if getattr(args, "precision", None) is not None:
        parts += ["--precision", str(args.precision)]
    return " ".join(shlex.quote(p) for p in parts)


def _check_case_file(args: argparse.Namespace) -> int:
    from harness.check.case_files import load_case_file, run_case_file
    from harness.errors import PortError

    try:
        case = load_case_file(Path(args.port))
        if args.precision is not None:
            import dataclasses

            case = dataclasses.replace(case, precision=str(args.precision))
        report = run_case_file(case, replay=tuple(args.replay))
    except (ValueError, PortError) as exc:
        raise UsageError(str(exc)) from None
    expected = None
    if case.expected_verdict is not None:
        from harness.check.case_files import condition_mismatches

        wrong = condition_mismatches(case, report)
        agrees = report.verdict == case.expected_verdict and tuple(report.flags) == case.expected_flags and not wrong
        when = f" when {case.expected_when}" if case.expected_when else ""
        expected = (f"  expected: {case.expected_verdict} {list(case.expected_flags)}{when} -> "
                    f"{'as expected' if agrees else 'NOT as expected'}" + (f" ({'; '.join(wrong)})" if wrong else ""))
    return _answer(report, args, command=case.command(), expected=expected)


def cmd_report(args: argparse.Namespace) -> int:
    if args.compare:
        from harness.reporting.diff import compare_runs, has_regressions

        try:
            print(compare_runs(*args.compare))
        except (ValueError, OSError) as exc:
            raise UsageError(f"--compare: {exc}") from None
        return EXIT_DRIFT if has_regressions(*args.compare) else EXIT_OK

    from harness.check.case_files import CASES_DIR
    from harness.reporting.collect import collect
    from harness.reporting.runs import write_report
    from harness.sweep.run import SweepOptions

    merged = None
    try:
        if args.merge:
            from harness.sweep.merge import load_sweep

            merged = load_sweep(args.merge)
            options = merged.options
        else:
            options = SweepOptions(cells=args.cells, examples=args.examples, seed=args.seed,
                                   max_timesteps=args.max_timesteps, per_config=args.per_config, workers=args.workers,
                                   core_grid=not args.no_core_grid, scheduler=args.scheduler)
    except (ValueError, OSError) as exc:
        raise UsageError(f"--merge: {exc}" if args.merge else str(exc)) from None
    if args.exports is not None:  # an unknown exporter or a missing extra: one line, before any work
        from harness.exports.port import export_port

        if args.export_examples < 1:
            raise UsageError(f"--export-examples must be >= 1, got {args.export_examples}")
        try:
            for name in args.exports:
                export_port(name)
        except ValueError as exc:
            raise UsageError(str(exc).replace("--export ", "--exports ")) from None
    cases_dir = None if args.no_cases else (args.cases or CASES_DIR)
    if cases_dir is None and not args.merge and options.examples == 0 and not options.core_grid:
        raise UsageError("nothing to report: --examples 0 with --no-cases and --no-core-grid (give sweep examples, the core grid or case files)")
    if cases_dir is not None and not Path(cases_dir).is_dir():
        raise UsageError(f"--cases {cases_dir}: not a directory")
    data = collect(options, cases_dir=cases_dir, progress=not args.no_progress, sweep=merged)
    run = write_report(data, root=args.out, seed=options.seed, cells=list(options.cells),
                       extra={"options": {"examples": options.examples, "max_timesteps": options.max_timesteps,
                                          "per_config": options.per_config,
                                          "merged_from": [str(d) for d in args.merge or []]},
                              "seconds": round(data.sweep.seconds if data.sweep else 0.0, 2)})
    sweep = data.cases[data.cases["source"] == "sweep"] if not data.cases.empty else data.cases
    from harness.reporting.render import summary_by

    _print_table(summary_by(sweep, ["cell"]).to_dict("records"))
    if not data.ports.empty:
        _print_table(data.ports[["case", "verdict", "flags", "agrees"]].to_dict("records"))
    if args.exports is not None:
        from harness.reporting.exports_matrix import attach_to_report as attach_exports
        from harness.reporting.exports_matrix import run_exports

        exports = run_exports(args.exports, options.cells, examples=args.export_examples, seed=args.seed,
                              progress=not args.no_progress)
        attach_exports(run, exports)
        print(f"exports: {len(exports.cases)} exported examples in {exports.seconds:.0f} s -> {run / 'exports'}")
    if args.targets is not None:
        from harness.reporting.matrix import attach_to_report

        matrix_run, _ = _run_matrix(args, run / "targets")
        attach_to_report(run, matrix_run)
        for name, why in matrix_run.skipped.items():
            print(f"targets: {name} skipped - {why}")
    print(f"\nreport: {run / 'index.html'}  (also {args.out / 'latest'})")
    if not data.complete:
        print("the run was interrupted: the report is marked incomplete", file=sys.stderr)
        return 130
    drifted = (sweep["status"] == "drift").any() if not sweep.empty else False
    wrong_ports = (not data.ports.empty) and not bool(data.ports["agrees"].fillna(True).all())
    if drifted or wrong_ports:
        return EXIT_DRIFT
    return EXIT_ERROR if (not sweep.empty and (sweep["status"] == "error").any()) else EXIT_OK


def _resolve_targets(names: tuple[str, ...] | None) -> tuple[str, ...]:
    from harness.target import targets

    if names is None or names == ("all",):
        return targets.NAMES if names == ("all",) else targets.available()
    for name in names:
        try:
            targets.get(name)
        except targets.TargetError as exc:
            raise UsageError(str(exc).replace("--target", "--targets")) from None
    return names


def _run_matrix(args: argparse.Namespace, out: Path):
    from harness.reporting.matrix import run_targets, run_targets_on_dask, write_matrix
    from harness.sweep.run import SweepOptions

    try:
        SweepOptions(cells=args.cells, examples=args.examples, seed=args.seed, max_timesteps=args.max_timesteps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    sweep = dict(out=out, cells=args.cells, examples=args.examples, seed=args.seed, max_timesteps=args.max_timesteps)
    if args.scheduler:
        run = run_targets_on_dask(_resolve_targets(args.targets), address=args.scheduler, **sweep)
    else:
        run = run_targets(_resolve_targets(args.targets), **sweep)
    return run, write_matrix(run, out)


def cmd_matrix(args: argparse.Namespace) -> int:
    from harness.reporting.matrix import matrix_frame

    run, paths = _run_matrix(args, args.out)
    frame = matrix_frame(run.cases)
    differing = frame[(frame["worst_ratio"] > 1) | (frame["unsupported"] + frame["error"] > 0)] if not frame.empty else frame
    if not differing.empty:
        _print_table(differing[["target", "cell", "group", "cases", "drift", "explained", "unsupported", "error",
                                "worst_ratio", "worst_abs_err", "behaviours"]].to_dict("records"))
    for name, why in run.skipped.items():
        print(f"{name}: skipped - {why}")
    print(f"\nseconds per target: {run.seconds}")
    print(f"matrix written to {args.out}/ ({', '.join(p.name for p in paths)})")
    if frame.empty:
        return EXIT_ERROR
    if frame["drift"].sum():
        return EXIT_DRIFT
    return EXIT_ERROR if frame["error"].sum() else EXIT_OK


def cmd_check_model(args: argparse.Namespace) -> int:
    import numpy as np

    from harness.check.model import check_model, render_model_report
    from harness.errors import ModelError
    from harness.ports.loading import load_port
    from harness.errors import PortError
    from harness.sweep.storage import write_json

    try:
        inputs = None
        if args.inputs is not None:
            try:
                inputs = np.load(args.inputs, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise UsageError(f"--inputs {args.inputs}: {exc}") from None
        ports = {}
        for pair in args.port:
            name, sep, ref = pair.partition("=")
            if not sep or not name or not ref:
                raise UsageError(f"--port {pair!r}: expected LAYER_NAME=PORT")
            ports[name] = load_port(ref, adapter=args.adapter, method=args.method, timeout=args.timeout)
        if args.timesteps < 1:
            raise UsageError(f"--timesteps must be >= 1, got {args.timesteps}")
        if args.export is not None:
            from harness.exports.port import export_port

            export_port(args.export)  # an unknown exporter or a missing extra: one line, before loading the model
        if args.precision is not None and not ports and args.export is None:
            raise UsageError("--precision applies to the layers checked against a --port or an --export; give one")
        report = check_model(args.model, inputs=inputs, ports=ports, unsafe=args.unsafe, seed=args.seed,
                             export=args.export, timesteps=args.timesteps,
                             **({"precision": args.precision} if args.precision is not None else {}))
    except (ModelError, PortError) as exc:
        raise UsageError(str(exc)) from None
    print(render_model_report(report))
    if args.json is not None:
        write_json(report.to_json(), args.json)
    return {"match": EXIT_OK, "mismatch": EXIT_DRIFT}.get(report.verdict, EXIT_ERROR)


COMMANDS = {"matrix": cmd_matrix, "sweep": cmd_sweep, "merge": cmd_merge, "replay": cmd_replay, "check": cmd_check, "report": cmd_report,
            "check-model": cmd_check_model}


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    # Keras's advice (e.g. "softmax over an axis of size 1") is about model design,
    # not parity; the strategies draw such layers on purpose.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "target", None) is not None:
            from harness.target.targets import TargetError, use_target

            try:
                use_target(args.target)  # before anything imports Keras: the backend is fixed at import
            except TargetError as exc:
                raise UsageError(str(exc)) from None
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("rnn-parity: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into one line
        if args.debug:
            raise
        if isinstance(exc, UsageError):
            print(f"rnn-parity: error: {exc}", file=sys.stderr)
        else:
            kind = "setup error" if isinstance(exc, SetupError) else "error"
            print(f"rnn-parity: {kind}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
