"""Measure what the real converters do with each recurrent configuration (the table in docs/exports.md).

``python -m harness.exports.measure [--exporters onnx,litert] [--json out.json]`` prints a
Markdown table: per configuration and exporter, does it convert, does it run, fused
op or loop, max |error| against Keras (over every output, batch, step and unit),
and the conversion time. Data are asymmetric: per-array random weights, non-zero
biases, inputs with std 2 (past the hard-sigmoid knees), a mask with a padded
row and a gap, random initial states.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

B, T, F, U = 2, 7, 3, 4


def hard_sigmoid_clip6(x: Any) -> Any:
    """Keras 3's hard_sigmoid written as ``clip(x/6 + 0.5, 0, 1)``: the graph shape tf2onnx fuses."""
    from harness.target.keras_env import import_keras

    ops = import_keras().ops
    return ops.clip(x / 6.0 + 0.5, 0.0, 1.0)


def hard_sigmoid_clip5(x: Any) -> Any:
    """Keras 2's hard_sigmoid ``clip(0.2x + 0.5, 0, 1)``, written constant-first (``Mul(0.2, x)``: tf2onnx does not fuse it)."""
    from harness.target.keras_env import import_keras

    ops = import_keras().ops
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


@dataclass
class Config:
    name: str
    make: Callable[[], Any]  # the (unbuilt) layer
    features_shape: tuple[int, ...] = (F,)
    mask: bool = False
    initial_state: bool = False
    overflow: bool = False  # a huge input at a masked step (the discarded branch overflows)
    state_shapes: Callable[[Any], list[tuple[int, ...]]] | None = None
    tags: dict[str, Any] = field(default_factory=dict)


def _rnn_configs(keras: Any) -> list[Config]:
    L = keras.layers
    cells = {
        "LSTM sigmoid": lambda **kw: L.LSTM(U, recurrent_activation="sigmoid", **kw),
        "LSTM hard_sigmoid": lambda **kw: L.LSTM(U, recurrent_activation="hard_sigmoid", **kw),
        "LSTM clip(x/6+0.5)": lambda **kw: L.LSTM(U, recurrent_activation=hard_sigmoid_clip6, **kw),
        "LSTM clip(0.2x+0.5)": lambda **kw: L.LSTM(U, recurrent_activation=hard_sigmoid_clip5, **kw),
        "GRU reset_after=True": lambda **kw: L.GRU(U, reset_after=True, **kw),
        "GRU reset_after=False": lambda **kw: L.GRU(U, reset_after=False, **kw),
        "SimpleRNN": lambda **kw: L.SimpleRNN(U, **kw),
    }
    variants = {
        "plain": ({}, False, False),
        "go_backwards": ({"go_backwards": True}, False, False),
        "mask": ({}, True, False),
        "return_sequences": ({"return_sequences": True}, False, False),
        "return_state": ({"return_state": True}, False, False),
        "initial_state": ({}, False, True),
    }
    out = []
    for cname, make in cells.items():
        n_states = 2 if cname.startswith("LSTM") else 1
        for vname, (kw, mask, init) in variants.items():
            out.append(Config(f"{cname} / {vname}", (lambda make=make, kw=kw: make(**kw)), mask=mask,
                              initial_state=init, state_shapes=(lambda _l, n=n_states: [(B, U)] * n),
                              tags={"cell": cname, "variant": vname}))
    return out


def _composite_configs(keras: Any) -> list[Config]:
    L = keras.layers
    return [
        Config("Bidirectional(LSTM sigmoid, concat) / return_sequences",
               lambda: L.Bidirectional(L.LSTM(U, return_sequences=True)), tags={"cell": "Bidirectional"}),
        Config("Bidirectional(GRU, sum) / return_state",
               lambda: L.Bidirectional(L.GRU(U, return_state=True), merge_mode="sum"), tags={"cell": "Bidirectional"}),
        Config("Bidirectional(LSTM sigmoid) / mask",
               lambda: L.Bidirectional(L.LSTM(U)), mask=True, tags={"cell": "Bidirectional"}),
        Config("RNN([LSTMCell, GRUCell]) / return_sequences",
               lambda: L.RNN([L.LSTMCell(U), L.GRUCell(3)], return_sequences=True), tags={"cell": "StackedRNN"}),
        Config("RNN([SimpleRNNCell, LSTMCell]) / go_backwards + return_state",
               lambda: L.RNN([L.SimpleRNNCell(U), L.LSTMCell(3)], go_backwards=True, return_state=True),
               tags={"cell": "StackedRNN"}),
        Config("ConvLSTM2D(2, 3, same) / return_sequences",
               lambda: L.ConvLSTM2D(2, 3, padding="same", return_sequences=True), features_shape=(5, 5, 2),
               tags={"cell": "ConvLSTM2D"}),
        Config("ConvLSTM2D(2, 3, valid) / mask",
               lambda: L.ConvLSTM2D(2, 3), features_shape=(5, 5, 2), mask=True, tags={"cell": "ConvLSTM2D"}),
        Config("ConvLSTM1D(2, 2) / plain",
               lambda: L.ConvLSTM1D(2, 2), features_shape=(6, 2), tags={"cell": "ConvLSTM1D"}),
    ]


def _overflow_configs(keras: Any) -> list[Config]:
    L = keras.layers
    return [
        Config("SimpleRNN(exponential) / mask, overflow at a masked step",
               lambda: L.SimpleRNN(U, activation="exponential", return_sequences=True), mask=True, overflow=True,
               tags={"cell": "overflow"}),
        Config("GRU(reset_after=False) / mask, overflow at a masked step",
               lambda: L.GRU(U, activation="exponential", reset_after=False, return_sequences=True), mask=True,
               overflow=True, tags={"cell": "overflow"}),
    ]


def _refusal_configs(keras: Any) -> list[Config]:
    L, ops = keras.layers, keras.ops
    return [Config("SimpleRNN(erfinv(tanh(x)/2)) / plain",
                   lambda: L.SimpleRNN(U, activation=lambda v: ops.erfinv(ops.tanh(v) * 0.5)), tags={"cell": "refusal"})]


def litert_default_signature(keras: Any) -> dict[str, Any]:
    """Keras's export(format="litert") with its own default signature (batch=None): what it leaves, whether it runs."""
    import os
    import tempfile

    from harness.exports.errors import capture, one_line
    from harness.exports.litert_export import contents

    L = keras.layers
    layer = L.LSTM(U)
    inp = keras.Input(shape=(T, F), name="x")  # batch None, as Keras's default signature has it
    model = keras.Model(inp, layer(inp))
    model(np.zeros((B, T, F), np.float32))
    row: dict[str, Any] = {"config": "LSTM sigmoid / plain, Keras default signature (batch=None)",
                           "exporter": "litert", "group": "default-signature"}
    with tempfile.TemporaryDirectory() as tmp, capture():
        path = os.path.join(tmp, "m.tflite")
        start = time.perf_counter()
        model.export(path, format="litert", verbose=False)
        row["seconds"] = round(time.perf_counter() - start, 2)
        blob = open(path, "rb").read()
    found = contents(blob)
    row.update(converts=True, loop=found["loop"], flex_ops=found["flex_ops"])
    try:
        with capture():
            from ai_edge_litert.interpreter import Interpreter

            it = Interpreter(model_content=blob)
            it.get_signature_runner()(x=np.zeros((B, T, F), np.float32))
        row["runs"] = True
    except Exception as exc:  # noqa: BLE001
        row.update(runs=False, failure="runtime", reason=f"Flex {', '.join(found['flex_ops'])}: {one_line(exc)}")
    return row


def _clip_x(a: float) -> Callable[[Any], Any]:
    def act(x: Any) -> Any:  # x first: Mul(x, a), the operand order tf2onnx's pattern needs
        from harness.target.keras_env import import_keras

        return import_keras().ops.clip(x * a + 0.5, 0.0, 1.0)

    act.__name__ = f"clip_x_times_{a:g}"
    return act


def _fusion_configs(keras: Any) -> list[Config]:
    """Which LSTM options keep tf2onnx's fusion (and hence its HardSigmoid slope)."""
    L = keras.layers
    out = [
        Config("LSTM clip(x*0.2+0.5)", lambda: L.LSTM(U, recurrent_activation=_clip_x(0.2)), tags={"cell": "fusion"}),
        Config("LSTM clip(x*0.25+0.5)", lambda: L.LSTM(U, recurrent_activation=_clip_x(0.25)), tags={"cell": "fusion"}),
        Config("LSTM clip(x/6+0.5) unroll=True", lambda: L.LSTM(U, unroll=True, recurrent_activation=hard_sigmoid_clip6),
               tags={"cell": "fusion"}),
    ]
    for act in ("tanh", "relu", "sigmoid", "softsign"):
        for seq in (False, True):
            for state in (False, True):
                for bias in (True, False):
                    kw = dict(activation=act, return_sequences=seq, return_state=state, use_bias=bias)
                    out.append(Config(
                        f"LSTM clip(x/6+0.5) act={act} seq={int(seq)} state={int(state)} bias={int(bias)}",
                        (lambda kw=kw: L.LSTM(U, recurrent_activation=hard_sigmoid_clip6, **kw)),
                        tags={"cell": "fusion", **kw}))
    return out


def draw(layer: Any, config: Config, seed: int) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray] | None]:
    """Set asymmetric weights on the built layer; return x, mask, initial state."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in layer.weights:
        path = getattr(w, "path", None) or w.name
        shape = tuple(w.shape)
        if "bias" in path:
            weights.append(rng.normal(0.0, 0.5, shape))
        else:
            weights.append(rng.normal(0.0, 1.0 / np.sqrt(max(1, int(np.prod(shape[:-1])))), shape))
    layer.set_weights([w.astype(np.float32) for w in weights])
    scale = 0.3 if config.overflow else 2.0  # overflow configs: Keras stays finite but for the planted step
    x = (rng.standard_normal((B, T, *config.features_shape)) * scale).astype(np.float32)
    mask = None
    if config.mask:
        mask = np.ones((B, T), bool)
        mask[0, :2] = False  # padded start
        mask[1, 3:5] = False  # a gap
    if config.overflow:
        x[1, 3] = 400.0  # masked step: Keras discards the overflowing candidate
    init = None
    if config.initial_state and config.state_shapes is not None:
        init = [rng.uniform(-0.9, 0.9, s).astype(np.float32) for s in config.state_shapes(layer)]
    return x, mask, init


def keras_return(layer: Any, x: np.ndarray, mask: np.ndarray | None, init: list[np.ndarray] | None) -> list[np.ndarray]:
    out = layer(x, mask=mask, initial_state=init, training=False) if init else layer(x, mask=mask, training=False)
    from harness.target.keras_env import import_keras

    return [np.asarray(o) for o in import_keras().tree.flatten(out)]


def compare(got: list[np.ndarray], want: list[np.ndarray]) -> dict[str, Any]:
    if len(got) != len(want):
        return {"error": f"{len(got)} outputs, Keras returns {len(want)}"}
    worst, nonfinite_got, nonfinite_want, first_bad = 0.0, 0, 0, None
    for g, w in zip(got, want):
        if g.shape != w.shape:
            return {"error": f"shape {g.shape} vs Keras {w.shape}"}
        nonfinite_got += int((~np.isfinite(g)).sum())
        nonfinite_want += int((~np.isfinite(w)).sum())
        both = np.isfinite(g) & np.isfinite(w)
        diff = np.abs(g.astype(np.float64) - w)
        if both.any():
            worst = max(worst, float(diff[both].max()))
        same_nonfinite = (~np.isfinite(g) & ~np.isfinite(w)) & ((g == w) | (np.isnan(g) & np.isnan(w)))
        bad = ~(both & (diff <= 1e-4 * np.maximum(1.0, np.abs(w)))) & ~same_nonfinite
        if bad.any() and g.ndim == 3 and first_bad is None:
            first_bad = int(np.argwhere(bad)[0][1])
    return {"max_error": worst, "nonfinite": nonfinite_got, "nonfinite_keras": nonfinite_want,
            "first_bad_step": first_bad}


def measure_one(config: Config, exporter: str, seed: int = 0) -> dict[str, Any]:
    from harness.exports import ExportFailure, ExportUnsupported, export_layer

    layer = config.make()
    layer.build((None, None, *config.features_shape))
    x, mask, init = draw(layer, config, seed)
    want = keras_return(layer, x, mask, init)
    row: dict[str, Any] = {"config": config.name, "exporter": exporter, **{k: str(v) for k, v in config.tags.items()}}
    try:
        art = export_layer(layer, exporter, batch=B, timesteps=T, features_shape=config.features_shape,
                           with_mask=mask is not None, initial_state_shapes=[a.shape for a in init] if init else None)
    except ExportFailure as exc:
        row.update(converts=isinstance(exc, ExportUnsupported) and "Flex" in str(exc), runs=False, seconds="-",
                   failure=type(exc).__name__, reason=str(exc))
        return row
    row.update(converts=True, seconds=round(art.seconds, 2), fused=art.contents["fused"], loop=art.contents["loop"],
               fused_activations=art.contents.get("fused_activations"), flex_ops=art.contents.get("flex_ops"))
    try:
        got = art.run(x, mask=mask, initial_state=init)
    except ExportFailure as exc:
        row.update(runs=False, failure=type(exc).__name__, reason=str(exc))
        return row
    row.update(runs=True, **compare(got, want))
    return row


def _fmt_err(row: dict[str, Any]) -> str:
    if "error" in row:
        return row["error"]
    if "max_error" not in row:
        return "-"
    text = f"{row['max_error']:.1e}"
    if row.get("first_bad_step") is not None:
        text += f" (from t={row['first_bad_step']})"
    if row.get("nonfinite") or row.get("nonfinite_keras"):
        text += f"; non-finite {row['nonfinite']} vs Keras {row['nonfinite_keras']}"
    return text


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| configuration | exporter | converts | runs | fused / loop | max abs error vs Keras | s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        shape = r.get("fused") or r.get("loop") or "-"
        if r.get("fused"):
            acts = (r.get("fused_activations") or [{}])[0]
            alpha = acts.get("activation_alpha")
            shape = f"fused {shape} ({','.join(acts.get('activations', []))}" + (f" alpha={alpha}" if alpha else "") + ")"
        if r.get("failure"):
            shape = f"{r['failure']}: {r['reason']}"
        lines.append(f"| {r['config']} | {r['exporter']} | {'yes' if r.get('converts') else 'no'} | "
                     f"{'yes' if r.get('runs') else 'no'} | {shape} | {_fmt_err(r)} | {r.get('seconds', '-')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.exports.measure", description=__doc__.splitlines()[0])
    parser.add_argument("--exporters", default="onnx,litert")
    parser.add_argument("--groups", default="rnn,composite,overflow,refusal,fusion,default-signature")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    from harness.target.keras_env import import_keras

    keras = import_keras()
    groups = {"rnn": _rnn_configs, "composite": _composite_configs, "overflow": _overflow_configs,
              "refusal": _refusal_configs, "fusion": _fusion_configs}
    rows = []
    start = time.perf_counter()
    for group in args.groups.split(","):
        if group == "default-signature":
            if "litert" in args.exporters:
                rows.append(litert_default_signature(keras))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
            continue
        for config in groups[group](keras):
            for exporter in args.exporters.split(","):
                if group == "fusion" and exporter != "onnx":
                    continue
                row = measure_one(config, exporter)
                row["group"] = group
                rows.append(row)
                print(table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(rows))
    print(f"\n{len(rows)} exports in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
