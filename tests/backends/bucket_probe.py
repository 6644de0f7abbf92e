"""On JAX, in this process: padded-to-bucket calls against exact-shape calls, printed as JSON.

    python -m tests.backends.bucket_probe

For drawn sweep groups of every cell kind (masks, go_backwards, unroll, initial states,
return_sequences, zero_output_for_mask), the runner's return with shape buckets against
the same runner with them off: the largest difference relative to the values' magnitude,
and how many compiled calls each way. Used by test_jax_buckets.py.
"""

from __future__ import annotations

import json

import numpy as np

from harness.target.targets import use_target


def main() -> dict:
    use_target("jax")
    from harness.layers.generate import draw_examples
    from harness.layers.strategies import case_groups
    from harness.target.runner import KerasRunner

    import jax

    compiles = {"count": 0}

    def on_event(name: str, seconds: float, **_: object) -> None:
        if name == "/jax/core/compile/backend_compile_duration":
            compiles["count"] += 1

    jax.monitoring.register_event_duration_secs_listener(on_event)
    datas = [spec.build() for kind in ("SimpleRNN", "LSTM", "GRU")
             for group in draw_examples(case_groups(size=6, kinds=[kind], max_timesteps=20), count=5, seed=13)
             for spec in group]

    def returns(runner: KerasRunner) -> tuple[list[np.ndarray], int]:
        before = compiles["count"]
        flat = []
        for data in datas:
            arrays = [a for _, _, r in runner.run_raw(data) for a in (r if isinstance(r, list) else [r])]
            flat.append(np.concatenate([np.ravel(a) for a in arrays]))
        return flat, compiles["count"] - before

    exact = KerasRunner()
    exact._bucketed = lambda data: False  # type: ignore[method-assign]
    want, compiled_exact = returns(exact)
    got, compiled_bucketed = returns(KerasRunner())
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        finite = np.isfinite(w)
        assert (np.isfinite(g) == finite).all()
        scale = max(1.0, float(np.max(np.abs(w[finite]), initial=0.0)))
        worst = max(worst, float(np.max(np.abs(g[finite] - w[finite]), initial=0.0)) / scale)
    return {"cases": len(datas), "worst_relative_difference": worst, "compiles_exact": compiled_exact,
            "compiles_bucketed": compiled_bucketed}


if __name__ == "__main__":
    print(json.dumps(main()))
