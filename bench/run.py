"""``make bench``: the sweep against the naive loop, on the same cases.

(a) naive: a fresh Keras model and ``predict`` per case, plus the reference;
(b) the sweep's own path (built layers and traces reused, tolerance measured).
Also: diagnosis time for a broken port at T=128, 32 units, and the float64
reference against Keras's compiled float32 forward at a large shape.
Results go to ``bench-out/bench.json`` with provenance; the last line printed
is ``speedup: <ratio>x`` (sweep over naive).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def _cases(count: int, seed: int):
    from harness.generate import draw_examples
    from harness.strategies import case_specs

    per_cell = max(1, count // 3)
    out = []
    for cell in ("SimpleRNN", "LSTM", "GRU"):
        out += draw_examples(case_specs(kinds=[cell], max_timesteps=64, max_batch=8, max_units=64), count=per_cell, seed=seed)
    return out


def naive(cases) -> float:
    """A fresh model and predict() per case, plus the float64 reference (what most tools do)."""
    from harness.keras_env import import_keras
    from harness.reference import run_reference

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
        run_reference(data)
    return time.perf_counter() - start


def sweep(cases) -> float:
    from harness.parity import check_case
    from harness.runner import KerasRunner

    runner = KerasRunner()
    start = time.perf_counter()
    for spec in cases:
        check_case(spec, runner)
    return time.perf_counter() - start


def diagnosis_seconds() -> dict:
    from harness.api import check_port
    from reference_cells import Conventions, run_sequence

    def port(x, weights, config):
        return run_sequence("LSTM", x, weights, config, conventions=Conventions(gate_order="iofc"), dtype=np.float32).layer_return()

    report = check_port(port, layer="LSTM", units=32, timesteps=128, examples=10, activation="tanh",
                        recurrent_activation="sigmoid", go_backwards=False)
    return {"check_seconds": round(report.seconds, 3), "diagnosis_seconds": round(report.diagnosis_seconds, 3),
            "flags": report.flags, "hypotheses": report.diagnosis.searched if report.diagnosis else 0}


def large_shape() -> dict:
    from harness.keras_env import import_keras, import_tensorflow
    from reference_cells import run_sequence

    keras, tf = import_keras(), import_tensorflow()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 256, 64)).astype(np.float32)
    layer = keras.layers.LSTM(256, return_sequences=True)
    layer.build((None, None, 64))
    fn = tf.function(lambda v: layer(v), input_signature=[tf.TensorSpec((None, None, 64), tf.float32)])
    fn(x)  # trace once
    t = time.perf_counter(); fn(x); keras_s = time.perf_counter() - t
    t = time.perf_counter(); run_sequence("LSTM", x, layer.get_weights(), layer.get_config()); ref_s = time.perf_counter() - t
    return {"keras_compiled_float32_s": round(keras_s, 3), "reference_float64_s": round(ref_s, 3),
            "ratio": round(ref_s / keras_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args()
    from harness.storage import provenance, write_json

    cases = _cases(args.cases, args.seed)
    n = len(cases)
    t_naive, t_sweep = naive(cases), sweep(cases)
    result = {
        "cases": n,
        "naive_cases_per_s": round(n / t_naive, 2),
        "sweep_cases_per_s": round(n / t_sweep, 2),
        "speedup": round(t_naive / t_sweep, 2),
        "diagnosis_T128_U32": diagnosis_seconds(),
        "large_shape_B64_T256_F64_U256": large_shape(),
    }
    write_json({**result, "provenance": provenance(seed=args.seed)}, args.out / "bench.json")
    print(json.dumps(result, indent=2))
    print(f"naive: {result['naive_cases_per_s']} cases/s, sweep: {result['sweep_cases_per_s']} cases/s")
    print(f"speedup: {result['speedup']}x")


if __name__ == "__main__":
    main()
