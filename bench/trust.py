"""``make trust``: the zero-false-alarm run - a long sweep of correct Keras against the reference.

Three ``rnn-parity sweep`` runs (each as a user would run it, records streamed to
``trust-out/<part>/``), then one summary:

- ``short``: SimpleRNN, LSTM, GRU, ``--examples`` cases per cell (default 3,000),
  T <= 64, every option, recurrent gains up to 5 (chaotic), inputs up to 10 sigma
  (saturating every gate activation);
- ``long``: the same cells and draws with T from 200 to 1,000 (default 334 per cell);
- ``composite``: Bidirectional, StackedRNN, ConvLSTM1D/2D/3D (default 200 per kind).

A correct port (Keras itself) must never drift: chaotic cases must come out as
ill-conditioned with their amplification. Prints a table, writes
``trust-out/trust.json`` with provenance, exits 1 if any case drifted or errored.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

CELLS = "SimpleRNN,LSTM,GRU"
COMPOSITE = "Bidirectional,StackedRNN,ConvLSTM1D,ConvLSTM2D,ConvLSTM3D"
GAINS = "0.5,1,1.5,3,5"
SCALES = "0.3,1,3,10"


def parts(args: argparse.Namespace) -> dict[str, list[str]]:
    common = ["--seed", str(args.seed), "--workers", str(args.workers), "--no-progress",
              *(["--scheduler", args.scheduler] if args.scheduler else [])]
    drawn = ["--recurrent-gains", GAINS, "--input-scales", SCALES]
    return {
        "short": ["--cells", CELLS, "--examples", str(args.short), "--max-timesteps", "64", *drawn, *common],
        "long": ["--cells", CELLS, "--examples", str(args.long), "--min-timesteps", "200", "--max-timesteps", "1000",
                 *drawn, *common],
        "composite": ["--cells", COMPOSITE, "--examples", str(args.composite), *common],
    }


def summarise(out: Path, names: list[str]) -> pd.DataFrame:
    frames = []
    for name in names:
        cases = pd.read_csv(out / name / "cases.csv")
        cases.insert(0, "part", name)
        frames.append(cases)
    cases = pd.concat(frames, ignore_index=True)
    judged = cases[cases.status.isin(["pass", "drift"])]
    rows = []
    for (part, cell), group in cases.groupby(["part", "cell"], sort=False):
        ok = judged[(judged.part == part) & (judged.cell == cell)]
        rows.append({
            "part": part, "cell": cell, "cases": len(group),
            "longest T": int(group.timesteps.max()) if "timesteps" in group else None,
            "passed": int((group.status == "pass").sum()),
            "drifted": int((group.status == "drift").sum()),
            "ill-conditioned": int((group.status == "ill-conditioned").sum()),
            "errors": int((group.status == "error").sum()),
            "worst err/tol (all judged steps)": float(group.worst_ratio.max()),
            "worst err/tol (passing cases)": float(ok.worst_ratio.max()) if len(ok) else float("nan"),
            "max amplification": float(group.amplification.replace([float("inf")], float("nan")).max()),
        })
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=3000, help="cases per cell with T <= 64")
    parser.add_argument("--long", type=int, default=334, help="cases per cell with T in [200, 1000]")
    parser.add_argument("--composite", type=int, default=200, help="cases per composite layer kind")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler address or `local` (rnn-parity sweep --scheduler)")
    parser.add_argument("--out", type=Path, default=Path("trust-out"))
    args = parser.parse_args()
    from harness.sweep.storage import provenance, write_json

    seconds, codes = {}, {}
    for name, argv in parts(args).items():
        start = time.perf_counter()
        command = [sys.executable, "-m", "harness.cli", "sweep", *argv, "--out", str(args.out / name)]
        print("$ rnn-parity sweep " + " ".join(argv + ["--out", str(args.out / name)]), flush=True)
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        seconds[name] = round(time.perf_counter() - start, 1)
        codes[name] = done.returncode
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "(no output)", flush=True)
    table = summarise(args.out, list(seconds))
    print()
    print(table.to_string(index=False))
    total = int(table.cases.sum())
    drifted, errors = int(table.drifted.sum()), int(table.errors.sum())
    print(f"\n{total} cases in {sum(seconds.values()):.0f} s: {drifted} drifted, {errors} errors, "
          f"{int(table['ill-conditioned'].sum())} ill-conditioned")
    write_json({"cases": total, "drifted": drifted, "errors": errors, "seconds": seconds, "exit_codes": codes,
                "table": table.to_dict("records"), "provenance": provenance(seed=args.seed)}, args.out / "trust.json")
    return 1 if drifted or errors else 0


if __name__ == "__main__":
    sys.exit(main())
