"""``make bench``: the sweep against the naive loop, on the same cases, and the other speed figures.

1. Cases: the sweep's own draw (seed 1; SimpleRNN, LSTM, GRU; batch <= 8,
   timesteps <= 64, units <= 64, every option), ``--per-cell`` cases per cell.
2. naive: a fresh Keras model and ``predict`` per case, plus the float64
   reference (what a hand-written parity script does). Its cost per case does
   not depend on what came before, so it is timed on a deterministic subset of
   the same cases (every k-th, ``--naive-cases`` of them) and reported per case.
3. sweep: ``run_sweep`` exactly as ``rnn-parity sweep --workers W`` runs it
   (compile groups, noise floor per case, worker start-up included), on all the
   cases, with 1 worker and with ``--workers``; the two must give the same records.
   The same with ``--scheduler local`` (a Dask LocalCluster of 2 worker processes,
   start-up included; skipped without the ``dask`` extra), records compared too.
   Then, for scale, 1 worker with ``--per-config 1`` (no groups, 100 cases per
   cell) and ``--per-config 32`` (other draws of the same size).
3b. the reference and noise floor alone on the sweep's cases: case by case against a
   compile group at once (:mod:`harness.oracle.group`).
3c. per target: the default sweep (``rnn-parity sweep --target T``: SimpleRNN, LSTM, GRU,
   ``--target-cases`` per cell, default sizes, 1 worker) on tensorflow, jax, torch and keras2,
   the same draw, one child process each (Keras imported before the clock starts); targets
   whose extra is not installed are listed as skipped.
4. diagnosis time for a broken port at T=128, 32 units (whole catalogue, pairs); the same for a
   float16 port with a gate-order bug checked without --precision (the precision ladder too).
5. the float64 reference against Keras's compiled float32 forward at batch 64,
   T 256, 64 features, 256 units (best of 3 each).
6. memory: a 10,002-case sweep in a child process, run as ``rnn-parity sweep
   --out DIR`` runs it (records streamed to disk; 1 worker; sequences <= 24
   steps so it fits the time budget), RSS sampled every 1,000 cases.

Results go to ``bench-out/bench.json`` with provenance and the machine's load;
the last line printed is ``speedup: <ratio>x`` (sweep with ``--workers`` over naive).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CELLS = ("SimpleRNN", "LSTM", "GRU")


def _options(per_cell: int, seed: int, **changes):
    from harness.sweep.run import SweepOptions

    base = SweepOptions(cells=CELLS, examples=per_cell, seed=seed, max_timesteps=64, max_batch=8, max_units=64)
    return dataclasses.replace(base, **changes)


def naive(cases) -> float:
    """Seconds for a fresh model and predict() per case, plus the float64 reference."""
    from harness.target.keras_env import import_keras
    from harness.oracle.reference import layer_reference, run_reference

    keras = import_keras()
    start = time.perf_counter()
    for spec in cases:
        data = spec.build()
        layer = getattr(keras.layers, spec.layer.kind)(**spec.layer.to_keras_config())
        batch = spec.batch if spec.layer.stateful else None
        inp = keras.Input(batch_shape=(batch, spec.timesteps, spec.layer.features))
        model = keras.Model(inp, layer(inp))
        layer.set_weights(data.weights)
        model.predict(data.x, verbose=0)
        run_reference(layer_reference(data), data)
    return time.perf_counter() - start


def sweep(options):
    from harness.sweep.run import run_sweep

    return run_sweep(options, progress=False)


def _same_records(a, b) -> bool:
    from harness.oracle.compare import records_frame

    return records_frame([r for o in a.outcomes for r in o.records]).to_csv(float_format="%.6g") == records_frame(
        [r for o in b.outcomes for r in o.records]).to_csv(float_format="%.6g")


def reference_rates(options) -> dict:
    """The reference and noise floor alone (no Keras) on the sweep's cases: case by case (4 passes,
    each its own time loop) against a compile group at once (harness.oracle.group)."""
    from harness.oracle.group import group_references
    from harness.oracle.reference import layer_reference, run_reference
    from harness.oracle.tolerance import noise_floor
    from harness.sweep.run import draw_groups

    groups = [[spec.build() for spec in group] for group in draw_groups(options)]
    count = sum(map(len, groups))
    start = time.perf_counter()
    for group in groups:
        for data in group:
            ref = layer_reference(data)
            returned, trace = run_reference(ref, data)
            noise_floor(ref, data, returned, trace)
    per_case = time.perf_counter() - start
    start = time.perf_counter()
    for group in groups:
        group_references(group)
    grouped = time.perf_counter() - start
    return {"cases": count, "per_case_cases_per_s": round(count / per_case, 1),
            "grouped_cases_per_s": round(count / grouped, 1), "ratio": round(per_case / grouped, 2)}


def target_child(name: str, per_cell: int, seed: int) -> None:
    """Run in a child process (a process runs one Keras backend): the default sweep (``rnn-parity sweep
    --target NAME --examples PER_CELL --seed SEED``) on ``name``, Keras imported and the runner made before
    the clock starts; prints one JSON line."""
    from harness.target.targets import use_target

    use_target(name)
    from harness.sweep.run import SweepOptions, run_sweep
    from harness.target.runner import KerasRunner

    result = run_sweep(SweepOptions(cells=CELLS, examples=per_cell, seed=seed), progress=False, runner=KerasRunner())
    errors = sum(o.result.status == "error" for o in result.outcomes)
    print(json.dumps({"cases": len(result.outcomes), "seconds": round(result.seconds, 2),
                      "cases_per_s": round(len(result.outcomes) / result.seconds, 1), "errors": errors}))


def target_rates(per_cell: int, seed: int) -> dict:
    """The sweep on every target, the same draw, one subprocess each (:func:`target_child`).
    Targets whose extra is not installed are reported as skipped."""
    from harness.target import targets

    rates = {}
    for name in targets.NAMES:
        if not targets.installed(name):
            rates[name] = {"skipped": f"not installed ({targets.get(name).install_hint()})"}
            continue
        run = subprocess.run([sys.executable, __file__, "--target-child", name, "--target-cases", str(per_cell),
                              "--seed", str(seed)], capture_output=True, text=True, cwd=ROOT)
        if run.returncode != 0:
            rates[name] = {"skipped": (run.stderr.strip().splitlines() or ["failed"])[-1]}
            continue
        rates[name] = json.loads(run.stdout.strip().splitlines()[-1])
    return rates


def diagnosis_seconds() -> dict:
    from harness.api import check_port
    from reference_cells import Conventions, run_sequence

    def port(x, weights, config):
        return run_sequence("LSTM", x, weights, config, conventions=Conventions(gate_order="iofc"), dtype=np.float32).layer_return()

    report = check_port(port, layer="LSTM", units=32, timesteps=128, examples=10, activation="tanh",
                        recurrent_activation="sigmoid", go_backwards=False)
    return {"check_seconds": round(report.seconds, 3), "diagnosis_seconds": round(report.diagnosis_seconds, 3),
            "flags": report.flags, "hypotheses": report.diagnosis.searched if report.diagnosis else 0}


#: Whole checks: case file -> examples (None: as the case file says; else the CLI's default sizes with
#: the case file's pinned options). One process, one runner, Keras already imported.
CHECKS = {"correct-lstm": 10, "correct-bidirectional": 10, "conditional-simplernn-zero-output": None}


def check_seconds() -> dict:
    """``rnn-parity check PORT --layer KIND`` at default sizes: drawing, Keras, the port, the noise
    floor, and for a mismatch the diagnosis and the condition tested on fresh examples."""
    import dataclasses

    from harness.check.case_files import CASES_DIR, load_case_file
    from harness.check.check import run_check
    from harness.ports.loading import load_port
    from harness.target.runner import KerasRunner

    runner = KerasRunner()
    out = {}
    for name, examples in CHECKS.items():
        case = load_case_file(CASES_DIR / f"{name}.json")
        options = case.options()
        if examples is not None:
            options = dataclasses.replace(options, examples=examples, max_timesteps=None, max_batch=None, max_units=None)
        report = run_check(load_port(case.port, adapter=case.adapter), options, runner=runner)
        out[name] = {"seconds": round(report.seconds, 2), "verdict": report.verdict, "flags": report.flags}
    return out


def diagnosis_precision_seconds() -> dict:
    """The same at T=128, 32 units for a port computing in float16 that also slices the gates i,f,o,c, checked
    without --precision: the float32 search, then the precision ladder and the catalogue at float16."""
    sys.path.insert(0, str(ROOT / "cases" / "ports"))
    from harness.api import check_port
    from low_precision import make_port

    report = check_port(make_port("LSTM", "float16", gate_order="ifoc"), layer="LSTM", units=32, timesteps=128,
                        examples=10, activation="tanh", recurrent_activation="sigmoid", go_backwards=False)
    return {"check_seconds": round(report.seconds, 3), "diagnosis_seconds": round(report.diagnosis_seconds, 3),
            "flags": report.flags, "hypotheses": report.diagnosis.searched if report.diagnosis else 0}


def large_shape() -> dict:
    from harness.target.keras_env import import_keras, import_tensorflow
    from reference_cells import run_sequence

    keras, tf = import_keras(), import_tensorflow()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 256, 64)).astype(np.float32)
    layer = keras.layers.LSTM(256, return_sequences=True)
    layer.build((None, None, 64))
    fn = tf.function(lambda v: layer(v), input_signature=[tf.TensorSpec((None, None, 64), tf.float32)])
    fn(x)  # trace and optimise once
    weights, config = layer.get_weights(), layer.get_config()

    def best(run) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        return min(times)

    keras_s = best(lambda: fn(x))
    ref_s = best(lambda: run_sequence("LSTM", x, weights, config))
    return {"keras_compiled_float32_s": round(keras_s, 3), "reference_float64_s": round(ref_s, 3),
            "ratio": round(ref_s / keras_s, 2), "timing": "best of 3 each"}


def memory_child(per_cell: int, seed: int) -> None:
    """Run in a child process: a long sweep, printing JSON lines of (cases, RSS MiB)."""
    import resource

    from harness.sweep.run import run_sweep

    def rss_mib() -> float:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    samples = []
    next_mark = [1000]

    def on_case(n: int) -> None:
        if n >= next_mark[0]:
            samples.append({"cases": n, "rss_mib": round(rss_mib(), 1), "t": round(time.perf_counter() - start, 1)})
            next_mark[0] += 1000

    import tempfile

    from harness.sweep.run import RecordStream

    options = _options(per_cell, seed, max_timesteps=24, max_units=32)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:  # as `rnn-parity sweep --out DIR` runs: records streamed to disk
        stream = RecordStream(Path(out))
        result = run_sweep(options, progress=False, on_case=on_case, on_outcome=stream.add, keep_records=False)
        stream.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cases": len(result.outcomes), "seconds": round(result.seconds, 1), "samples": samples,
                      "peak_rss_mib": round(peak, 1), "max_timesteps": 24, "max_units": 32, "workers": 1}))


def memory(cases: int, seed: int) -> dict:
    per_cell = -(-cases // len(CELLS))
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(per_cell), "--seed", str(seed)],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    samples = result["samples"]
    first = next((s for s in samples if s["cases"] >= 1000), samples[0])
    last = samples[-1]
    result["rss_at_1k_mib"], result["rss_at_end_mib"] = first["rss_mib"], last["rss_mib"]
    result["growth_1k_to_end_mib"] = round(last["rss_mib"] - first["rss_mib"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-cell", type=int, default=400, help="sweep cases per cell (default 400)")
    parser.add_argument("--naive-cases", type=int, default=60, help="naive loop on every k-th case, this many (default 60)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-cases", type=int, default=10_000)
    parser.add_argument("--target-cases", type=int, default=100,
                        help="cases per cell in the per-target table: the default sweep's (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--target-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import warnings

    # Keras's model-design advice (softmax over an axis of size 1) is drawn on purpose, as in the CLI.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")
    if args.memory_child is not None:
        memory_child(args.memory_child, args.seed)
        return
    if args.target_child is not None:
        target_child(args.target_child, args.target_cases, args.seed)
        return
    from harness.sweep.storage import provenance, write_json
    from harness.sweep.run import draw_cases

    load_before = os.getloadavg()
    options = _options(args.per_cell, args.seed)
    cases = draw_cases(options)
    step = max(1, len(cases) // args.naive_cases)
    subset = cases[::step][: args.naive_cases]
    t_naive = naive(subset)
    naive_rate = len(subset) / t_naive

    serial = sweep(options)
    parallel = sweep(dataclasses.replace(options, workers=args.workers))
    sweep_rate = len(parallel.outcomes) / parallel.seconds
    serial_rate = len(serial.outcomes) / serial.seconds
    try:
        import distributed  # noqa: F401

        on_dask = sweep(dataclasses.replace(options, scheduler="local"))
        dask_figure = {"seconds": round(on_dask.seconds, 2), "cases_per_s": round(len(on_dask.outcomes) / on_dask.seconds, 1),
                       "speedup": round(len(on_dask.outcomes) / on_dask.seconds / naive_rate, 2),
                       "records_identical_to_1_worker": _same_records(serial, on_dask),
                       "includes": "LocalCluster start-up (2 worker processes, TensorFlow import each)"}
    except ImportError:
        dask_figure = {"skipped": "the dask extra is not installed (pip install -e '.[dask]')"}
    # How the figure depends on --per-config (other draws of the same size; 1 worker).
    by_k = {}
    for k in (1, 32):
        other = sweep(dataclasses.replace(options, per_config=k, examples=min(args.per_cell, 100 if k == 1 else args.per_cell)))
        by_k[k] = {"cases": len(other.outcomes), "cases_per_s": round(len(other.outcomes) / other.seconds, 1),
                   "speedup": round(len(other.outcomes) / other.seconds / naive_rate, 2)}
    result = {
        "cases": len(cases),
        "per_config": options.per_config,
        "naive": {"cases": len(subset), "subset": f"every {step}th of the sweep's cases",
                  "seconds": round(t_naive, 2), "cases_per_s": round(naive_rate, 2)},
        "sweep_1_worker": {"seconds": round(serial.seconds, 2), "cases_per_s": round(serial_rate, 1)},
        f"sweep_{args.workers}_workers": {"seconds": round(parallel.seconds, 2), "cases_per_s": round(sweep_rate, 1),
                                          "includes": "worker start-up (spawn + TensorFlow import)"},
        "records_identical_1_vs_n_workers": _same_records(serial, parallel),
        "speedup_1_worker": round(serial_rate / naive_rate, 2),
        "per_config_1_worker": {str(k): v for k, v in by_k.items()},
        "sweep_scheduler_local": dask_figure,
        "speedup": round(sweep_rate / naive_rate, 2),
        "reference_and_floor": reference_rates(options),
        "targets": target_rates(args.target_cases, args.seed),
        "diagnosis_T128_U32": diagnosis_seconds(),
        "check_default_sizes": check_seconds(),
        "diagnosis_float16_undeclared_T128_U32": diagnosis_precision_seconds(),
        "large_shape_B64_T256_F64_U256": large_shape(),
        "memory": memory(args.memory_cases, args.seed + 1),
    }
    load = {"loadavg_before": [round(v, 2) for v in load_before], "loadavg_after": [round(v, 2) for v in os.getloadavg()]}
    write_json({**result, "load": load, "provenance": provenance(seed=args.seed)}, args.out / "bench.json")
    print(json.dumps({**result, "load": load}, indent=2))
    mem = result["memory"]
    print(f"naive: {naive_rate:.1f} cases/s ({len(subset)} of the {len(cases)} cases, every {step}th; constant cost per case)")
    print(f"sweep: {serial_rate:.1f} cases/s on 1 worker, {sweep_rate:.1f} cases/s on {args.workers} "
          f"(all {len(cases)} cases, {options.per_config} per layer configuration)")
    if "skipped" in dask_figure:
        print(f"sweep --scheduler local: skipped ({dask_figure['skipped']})")
    else:
        print(f"sweep --scheduler local: {dask_figure['cases_per_s']} cases/s = {dask_figure['speedup']}x naive "
              f"(records identical: {dask_figure['records_identical_to_1_worker']})")
    ref = result["reference_and_floor"]
    print(f"reference + noise floor alone: {ref['per_case_cases_per_s']} cases/s case by case, "
          f"{ref['grouped_cases_per_s']} cases/s a compile group at once ({ref['ratio']}x)")
    print("targets (rnn-parity sweep --target T, same draw): " + ", ".join(
        f"{name}: {v['cases_per_s']} cases/s" if "cases_per_s" in v else f"{name}: {v['skipped']}"
        for name, v in result["targets"].items()))
    print("per-config (1 worker): " + ", ".join(f"K={k}: {v['cases_per_s']} cases/s ({v['speedup']}x)" for k, v in by_k.items()))
    print(f"diagnosis: {result['diagnosis_T128_U32']['diagnosis_seconds']} s (float16 port, precision undeclared: "
          f"{result['diagnosis_float16_undeclared_T128_U32']['diagnosis_seconds']} s); reference/Keras at the large shape: "
          f"{result['large_shape_B64_T256_F64_U256']['ratio']}x")
    print("whole check (10 examples at default sizes; the conditional case file as written): " + ", ".join(
        f"{name} {v['seconds']} s ({v['verdict']}{' ' + ','.join(v['flags']) if v['flags'] else ''})"
        for name, v in result["check_default_sizes"].items()))
    print(f"memory: RSS {mem['rss_at_1k_mib']} MiB at 1k cases, {mem['rss_at_end_mib']} MiB at {mem['cases']} cases")
    print(f"load average before/after: {load['loadavg_before'][0]} / {load['loadavg_after'][0]} on {os.cpu_count()} cores")
    print(f"speedup: {result['speedup']}x")


if __name__ == "__main__":
    main()
