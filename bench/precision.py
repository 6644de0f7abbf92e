"""Calibration of the reduced-precision tolerance: correct low-precision ports, checked at their precision.

For each precision (float16, bfloat16, fixed<16,6>), each cell (SimpleRNN, LSTM, GRU) and each
way of accumulating a matmul (``wide``: NumPy's float16 matmul / a float32 accumulator, one
rounding; ``narrow``: every product and partial sum rounded to the precision - floats only), the
correct port of ``cases/ports/low_precision.py`` is checked

* **declared** (``--precision P``): it must MATCH; the figure is the worst error / noise floor over
  every judged step of every example (the tolerance is 32 floors: a ratio under 32 is a match);
* **undeclared** (no ``--precision``, ``--undeclared``): it must be a MISMATCH whose only flag is
  ``precision``, naming P.

Every check draws its own examples (``--examples`` per seed, seeds ``--seeds``): masks, initial
states, go_backwards, return_sequences/state, units up to 16, T up to ``--max-timesteps``;
``activation=tanh`` and ``recurrent_activation`` sigmoid on even seeds, hard_sigmoid on odd ones
(the activations the ports implement). Prints a Markdown table (docs/tolerance.md) and writes
``bench-out/precision.json``.

    .venv/bin/python bench/precision.py --seeds 0,1,2 --examples 12 --undeclared
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "cases" / "ports"))

PRECISIONS = ("float16", "bfloat16", "fixed<16,6>")
CELLS = ("SimpleRNN", "LSTM", "GRU")


def _options(kind: str, seed: int) -> dict:
    fixed = {"activation": "tanh"}
    if kind != "SimpleRNN":
        fixed["recurrent_activation"] = "sigmoid" if seed % 2 == 0 else "hard_sigmoid"
    return fixed


def calibrate(*, seeds: list[int], examples: int, max_timesteps: int, undeclared: bool,
              precisions: tuple[str, ...] = PRECISIONS) -> list[dict]:
    from harness.api import check_port
    from harness.oracle.tolerance import MULTIPLIER
    from low_precision import make_port

    rows = []
    for precision in precisions:
        for accumulate in (("wide", "narrow") if not precision.startswith("fixed") else ("wide",)):
            for kind in CELLS:
                port = make_port(kind, precision, accumulate=accumulate)
                row = {"precision": precision, "accumulate": accumulate, "cell": kind, "examples": 0,
                       "mismatches": 0, "ill_conditioned": 0, "worst_err_over_floor": 0.0, "worst_abs_err": 0.0,
                       "undeclared_flags": [], "seconds": 0.0}
                for seed in seeds:
                    start = time.perf_counter()
                    report = check_port(port, layer=kind, examples=examples, seed=seed, max_timesteps=max_timesteps,
                                        precision=precision, **_options(kind, seed))
                    row["seconds"] += time.perf_counter() - start
                    row["examples"] += len(report.outcomes)
                    row["mismatches"] += sum(o.result.status == "drift" for o in report.outcomes)
                    row["ill_conditioned"] += sum(o.result.status == "ill-conditioned" for o in report.outcomes)
                    if report.verdict == "error":
                        raise RuntimeError(f"{precision} {kind}: {report.error}")
                    judged = [o.result for o in report.outcomes if o.result.status in ("pass", "drift")]
                    row["worst_err_over_floor"] = max([row["worst_err_over_floor"],
                                                       *(r.worst_ratio * MULTIPLIER for r in judged)])
                    row["worst_abs_err"] = max(row["worst_abs_err"], report.base_error)
                    if undeclared:
                        plain = check_port(port, layer=kind, examples=examples, seed=seed,
                                           max_timesteps=max_timesteps, **_options(kind, seed))
                        detected = plain.to_json()["detected_precision"]
                        row["undeclared_flags"].append(f"{','.join(plain.flags) or plain.verdict}"
                                                       + (f" ({detected})" if detected else ""))
                row["seconds"] = round(row["seconds"], 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| precision | matmul accumulation | cell | examples | mismatches | ill-conditioned | "
             "worst err / floor | worst abs error | undeclared: flags |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        flags = sorted(set(r["undeclared_flags"]))
        lines.append(f"| {r['precision']} | {r['accumulate']} | {r['cell']} | {r['examples']} | {r['mismatches']} | "
                     f"{r['ill_conditioned']} | {r['worst_err_over_floor']:.2g} | {r['worst_abs_err']:.2g} | "
                     f"{'; '.join(flags) if flags else '-'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated check seeds (default 0,1,2)")
    parser.add_argument("--examples", type=int, default=12, help="examples per check (default 12)")
    parser.add_argument("--max-timesteps", type=int, default=48, help="longest sequence drawn (default 48)")
    parser.add_argument("--undeclared", action="store_true", help="also check each port without --precision")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "precision.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    rows = calibrate(seeds=seeds, examples=args.examples, max_timesteps=args.max_timesteps,
                     undeclared=args.undeclared, precisions=tuple(_split(args.precisions)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"seeds": seeds, "examples": args.examples, "max_timesteps": args.max_timesteps,
                                    "rows": rows}, indent=2))
    print(table(rows))
    false_alarms = sum(r["mismatches"] for r in rows)
    print(f"false alarms: {false_alarms} of {sum(r['examples'] for r in rows)} examples")


def _split(text: str) -> list[str]:
    """``float16,fixed<16,6>`` -> the names (commas inside <> are not separators)."""
    out, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current.strip())
    return out


if __name__ == "__main__":
    main()
