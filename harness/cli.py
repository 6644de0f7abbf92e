"""``rnn-parity``: the command line.

Exit codes: 0 everything agreed, 1 a case drifted, 2 a usage or setup error
(one line on stderr; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


class UsageError(ValueError):
    """Bad command-line input; the message is shown as one line."""


def _cells(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 (principle: no walls of text)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rnn-parity",
        description="Per-timestep parity of Keras recurrent layers against NumPy references and ports.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    sweep = sub.add_parser("sweep", help="Hypothesis-drawn cases per cell: Keras against the reference")
    sweep.add_argument("--cells", type=_cells, default=("SimpleRNN", "LSTM", "GRU"), help="comma-separated: SimpleRNN,LSTM,GRU")
    sweep.add_argument("--examples", type=int, default=100, help="cases per cell (default 100)")
    sweep.add_argument("--seed", type=int, default=0, help="same seed, same cases and numbers (default 0)")
    sweep.add_argument("--max-timesteps", type=int, default=64, help="longest sequence drawn (default 64)")
    sweep.add_argument("--out", type=Path, default=None, help="write records.csv, cases.csv, summary.csv here")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")

    replay = sub.add_parser("replay", help="re-run one case from the token in a failure message")
    replay.add_argument("token")
    replay.add_argument("--steps", type=int, default=12, help="how many timesteps to print (default 12)")
    return parser


def _print_table(rows: list[dict], file=None) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    with pd.option_context("display.float_format", "{:.3g}".format, "display.width", 200):
        print(frame.to_string(index=False), file=file or sys.stdout)


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.failure import failure_message
    from harness.sweep import SweepOptions, run_sweep, summary_rows, write_outputs

    try:
        options = SweepOptions(cells=args.cells, examples=args.examples, seed=args.seed, max_timesteps=args.max_timesteps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    result = run_sweep(options, progress=not args.no_progress)
    for outcome in result.drifted + result.errors:
        print(failure_message(outcome.spec, outcome.result), end="\n\n")
    _print_table(summary_rows(result))
    n = len(result.outcomes)
    print(f"\n{n} cases in {result.seconds:.1f} s ({n / max(result.seconds, 1e-9):.1f} cases/s), seed {options.seed}")
    if args.out is not None:
        paths = write_outputs(result, args.out)
        print(f"records written to {paths[0].parent}/ ({', '.join(p.name for p in paths)})")
    if result.drifted:
        return EXIT_DRIFT
    return EXIT_ERROR if result.errors else EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from harness.case import CaseSpec
    from harness.compare import records_frame
    from harness.failure import failure_message
    from harness.parity import check_case
    from harness.runner import KerasRunner

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


COMMANDS = {"sweep": cmd_sweep, "replay": cmd_replay}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("rnn-parity: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into one line
        if args.debug:
            raise
        from harness.keras_env import SetupError

        kind = "setup error" if isinstance(exc, SetupError) else "error"
        print(f"rnn-parity: {kind}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
