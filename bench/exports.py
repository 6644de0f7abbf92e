"""Benchmark of exported ports (``make bench`` runs it first when the onnx/litert extras are installed).

Measures a 10-example ``rnn-parity check --export EXPORTER --layer LSTM`` at default sizes
(target: <= 15 s on 2 cores, conversions reused) and the time per exported case, split
into conversion (each conversion counted once, though it serves several examples) and
the rest, with provenance.

    python bench/exports.py [--examples 10] [--exporters onnx,litert] [--if-installed]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--exporters", default="onnx,litert")
    parser.add_argument("--if-installed", action="store_true", help="exit 0 quietly when the extras are missing")
    args = parser.parse_args()
    needed = {"onnx": "tf2onnx", "litert": "ai_edge_litert"}
    exporters = [e for e in args.exporters.split(",") if e]
    missing = [e for e in exporters if importlib.util.find_spec(needed.get(e, e)) is None]
    if missing:
        message = f"exports bench: skipped ({', '.join(missing)} not installed: pip install -e '.[onnx,litert]')"
        print(message)
        return 0 if args.if_installed else 2

    from harness.target.keras_env import quiet_environment

    quiet_environment()
    from harness.check.check import CheckOptions, run_check
    from harness.exports.port import export_port
    from harness.target.keras_env import versions
    from harness.target.runner import KerasRunner

    runner = KerasRunner()
    rows = []
    for exporter in exporters:
        port = export_port(exporter)
        start = time.perf_counter()
        report = run_check(port, CheckOptions(kind="LSTM", examples=args.examples, seed=0), runner=runner)
        seconds = time.perf_counter() - start
        exported = [o for o in report.outcomes if o.details]
        # An artifact serves several examples (same configuration, weights, shapes): count each conversion once.
        converted = [o for o in exported if o.details.get("converted", True)]
        conversion = sum(o.details.get("export_seconds", 0.0) for o in converted)
        rows.append({"exporter": exporter, "verdict": report.verdict, "examples": len(report.outcomes),
                     "exported": len(exported), "conversions": len(converted), "check_seconds": round(seconds, 2),
                     "seconds_per_exported_case": round(seconds / max(1, len(exported)), 3),
                     "conversion_seconds_per_case": round(conversion / max(1, len(exported)), 3),
                     "seconds_per_conversion": round(conversion / max(1, len(converted)), 3)})
    print(f"exports bench ({platform.node()}, {json.dumps(versions())}):")
    for row in rows:
        print(f"  check --export {row['exporter']} --layer LSTM --examples {row['examples']}: {row['check_seconds']} s "
              f"({row['verdict']}); {row['seconds_per_exported_case']} s per exported case, of which conversion "
              f"{row['conversion_seconds_per_case']} s ({row['conversions']} conversions for {row['exported']} "
              f"exported cases, {row['seconds_per_conversion']} s each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
