"""``rnn-parity check-model``: a user's saved model, checked layer by layer.

Every recurrent layer of the model (SimpleRNN/LSTM/GRU, Bidirectional,
RNN over cells, ConvLSTM) is fed the *real* inputs it
receives inside the model (and the real mask, e.g. from a ``Masking`` layer),
and its output is compared per timestep against the reference - or against
the user's port for that layer, with the diagnosis. Because each layer gets
Keras's own inputs, a divergence is localised to the layer that causes it.

Ports of every kind follow the one port protocol (:mod:`harness.ports.port`).

Models load with Keras ``safe_mode`` (no Lambda layers) unless ``unsafe``.
Stateful layers are checked on one call from reset states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.check.conditions import CauseGroup
from harness.check.diagnosis import Diagnosis, Example, diagnose
from harness.check.precision import undeclared_precision
from harness.errors import ModelError, PortCallError
from harness.layers.case import CaseData, CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.composite import CompositeSpec
from harness.oracle.compare import CaseResult, StepRecord, compare, error_result, summarize
from harness.oracle.reference import layer_reference, run_reference
from harness.oracle.references import _view as _renamed_view
from harness.oracle.references import flatten
from harness.oracle.tolerance import noise_floor
from reference_cells.precision import FLOAT32, Precision, parse_precision
from harness.ports.port import Port
from harness.target.backends import reset_states, to_numpy
from harness.target.keras_env import import_keras

RECURRENT_KINDS = ("SimpleRNN", "LSTM", "GRU")


@dataclass
class LayerCheck:
    name: str
    kind: str
    against: str  # "reference" or the port's name
    result: CaseResult | None
    records: list[StepRecord] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    skipped: str | None = None  # why the layer was not checked
    #: Keras 2 file, hard_sigmoid layer: per-timestep max |Keras 3 - Keras 2| of its outputs (harness/migration.py)
    migration_drift: list[float] | None = None
    precision_cause: str | None = None  # the undeclared lower precision the port computes in (flag ``precision``)

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        assert self.result is not None
        return {"pass": "match", "ill-conditioned": "match", "drift": "mismatch"}.get(self.result.status, "error")

    @property
    def flags(self) -> list[str]:
        if self.verdict != "mismatch" or self.diagnosis is None:
            return []
        if self.precision_cause:
            named = self.diagnosis.flags() if self.diagnosis.explained else []
            return sorted({"precision", *named})
        return self.diagnosis.flags()


@dataclass
class ModelReport:
    model: str
    layers: list[LayerCheck]
    notes: list[str] = field(default_factory=list)
    export: str | None = None  # the exporter checked (check-model --export)
    export_drift: list[float] | None = None  # whole model: per-timestep max |artifact - keras|

    @property
    def verdict(self) -> str:
        verdicts = [c.verdict for c in self.layers]
        if "error" in verdicts:
            return "error"
        if "mismatch" in verdicts:
            return "mismatch"
        return "match" if any(v == "match" for v in verdicts) else "error"

    @property
    def first_diverging(self) -> LayerCheck | None:
        return next((c for c in self.layers if c.verdict == "mismatch"), None)

    def to_json(self) -> dict[str, Any]:
        first = self.first_diverging
        return {
            "verdict": self.verdict,
            "model": self.model,
            "first_diverging_layer": None if first is None else {
                "layer": first.name, "t": first.result.first_t, "tensor": first.result.first_tensor,
                "flags": first.flags},
            "layers": [
                {"name": c.name, "kind": c.kind, "against": c.against, "verdict": c.verdict, "flags": c.flags,
                 "first_divergence": None if c.result is None or c.result.first_t is None
                 else {"t": c.result.first_t, "tensor": c.result.first_tensor},
                 "worst_error": None if c.result is None else c.result.worst_abs_err,
                 "diagnosis": [] if c.diagnosis is None else [
                     {"flag": p.flag, "detail": p.detail, "fix": p.fix, "residual": f.residual}
                     for f in c.diagnosis.explained for p in f.hypothesis.parts],
                 "skipped": c.skipped,
                 "keras2_to_keras3_drift": c.migration_drift}
                for c in self.layers
            ],
            "notes": self.notes,
            "export": None if self.export is None else {"exporter": self.export, "drift_per_timestep": self.export_drift},
        }


def load_model(path: Path, *, unsafe: bool = False):
    """Load a ``.keras``/``.h5`` model; ModelError with what to do on failure."""
    keras = import_keras()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"MODEL {path}: no such file")
    if path.suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelError(f"MODEL {path}: expected a .keras or .h5 file saved by Keras")
    try:
        return keras.saving.load_model(path, safe_mode=not unsafe, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types; each becomes one actionable line
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise ModelError(f"MODEL {path}: it contains a Lambda layer (arbitrary code); Keras safe_mode refuses it. "
                             "Rerun with --unsafe only if you trust the file") from None
        if "Unrecognized keyword arguments" in str(exc):
            raise ModelError(f"MODEL {path}: Keras {keras.__version__} cannot load it: {message}. The key comes from an "
                             "older Keras (e.g. tf-keras's time_major); remove it from the saved config, or load the "
                             "model with tf_keras and save it again as .keras") from None
        raise ModelError(f"MODEL {path}: not a model Keras {keras.__version__} can load ({type(exc).__name__}: "
                         f"{message[:200]}{'...' if len(message) > 200 else ''})") from None


def _is_stateful(model) -> bool:
    return any(getattr(layer, "stateful", False) for layer in model.layers)


def _reset(model) -> None:
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            reset_states(layer)


def _example_inputs(model, inputs: np.ndarray | None, *, seed: int, timesteps: int) -> np.ndarray:
    """The model's inputs. A stateful model with a fixed time dimension (e.g. batch_shape
    (1, 1, F), fed step by step) gets ``timesteps`` steps, fed as consecutive calls."""
    if inputs is not None:
        return np.asarray(inputs, dtype=np.float32)
    shape = list(model.inputs[0].shape)
    batch = shape[0] or 2
    steps = shape[1]
    if steps is None:
        steps = timesteps
    elif _is_stateful(model):
        steps = steps * max(1, -(-timesteps // steps))
    dims = [batch, steps] + [d if d is not None else timesteps for d in shape[2:]]
    x = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    # A Masking layer on the input: pad the end of the first row and the start of the last,
    # so the mask path is exercised (padding at the end and at the start).
    for layer in model.layers:
        if type(layer).__name__ == "Masking" and steps > 2:
            value = np.float32(layer.mask_value)
            x[0, steps - max(1, steps // 3):] = value
            if batch > 1:
                x[-1, : max(1, steps // 5)] = value
            break
    return x


def _capture(probe, model, x: np.ndarray) -> list[np.ndarray]:
    """Run ``probe`` (the model up to a layer) over ``x``, in consecutive calls of the
    model's fixed time length when it has one (stateful models carry state across them)."""
    _reset(model)
    step = model.inputs[0].shape[1] or x.shape[1]
    if x.shape[1] % step:
        raise ModelError(f"--inputs has {x.shape[1]} timesteps; the model takes calls of {step}")
    parts: list[list[np.ndarray]] = []
    for a in range(0, x.shape[1], step):
        got = probe([x[:, a:a + step]], training=False)  # a list, like model.inputs
        parts.append(to_numpy(list(got) if isinstance(got, (list, tuple)) else [got]))
    return [np.concatenate([p[k] for p in parts], axis=1) for k in range(len(parts[0]))]


def _node_inputs(layer) -> tuple[Any, Any, Any]:
    """The symbolic input, mask and initial_state of the layer's first call (Keras 3 or tf_keras nodes)."""
    node = layer._inbound_nodes[0]
    if hasattr(node, "arguments"):  # Keras 3
        kwargs = node.arguments.kwargs
        return node.input_tensors[0], kwargs.get("mask"), kwargs.get("initial_state")
    kwargs = node.call_kwargs  # tf_keras: the mask travels on the tensor
    x = node.call_args[0]
    return x, kwargs.get("mask", getattr(x, "_keras_mask", None)), kwargs.get("initial_state")


def _layer_data(layer, kind: str, x: np.ndarray, mask: np.ndarray | None) -> CaseData:
    if kind in RECURRENT_KINDS:
        spec = CellSpec.from_keras_config(kind, _target_config(layer.get_config()), features=int(x.shape[-1]))
    else:
        spec = CompositeSpec.from_layer(layer, input_shape=x.shape[2:])
    case = CaseSpec(layer=spec, batch=int(x.shape[0]), timesteps=int(x.shape[1]),
                    mask="mixed" if mask is not None else "none", seed=0)
    return CaseData(spec=case, weights=[np.asarray(w) for w in layer.get_weights()], x=x, mask=mask, initial_state=None)


def _target_renames() -> dict[str, str] | None:
    """Keras 2 target: its hard_sigmoid is the 0.2x+0.5 one (known behaviour keras2-hard-sigmoid)."""
    from harness.target.targets import active
    from reference_cells.activations import KERAS2_HARD_SIGMOID

    return {"hard_sigmoid": KERAS2_HARD_SIGMOID} if active().keras_major == 2 else None


def _target_config(config: dict) -> dict:
    renames = _target_renames() or {}
    # tf_keras writes time_major=False everywhere; it changes nothing (True would, and is kept so it is refused).
    return {k: (renames.get(v, v) if k in ("activation", "recurrent_activation") and isinstance(v, str) else v)
            for k, v in config.items() if not (k == "time_major" and v is False)}


def check_model(
    path: Path,
    *,
    inputs: np.ndarray | None = None,
    ports: Mapping[str, Port] | None = None,
    unsafe: bool = False,
    seed: int = 0,
    timesteps: int = 16,
    export: str | None = None,
    precision: Any = FLOAT32,
) -> ModelReport:
    """Check every recurrent layer of the model at ``path`` (see the module docstring).

    ``export`` (``"onnx"``, ``"litert"``): check what that exporter computes instead of a port: the
    whole model is exported and compared with Keras per timestep (:attr:`ModelReport.export_drift`),
    and every recurrent layer is exported alone, with the inputs it really receives, and checked
    like a port - which localises the first diverging layer and names the cause. ``precision``: the
    arithmetic the ports (or the export) compute in; each is judged against that precision's noise floor."""
    from harness.target.migration import hard_sigmoid_drift, is_keras2_file, load_keras2_h5
    from harness.target.targets import active

    keras = import_keras()
    migrating = active().keras_major == 3 and is_keras2_file(Path(path))
    migration_note = None
    try:
        model = load_model(path, unsafe=unsafe)
    except ModelError:
        if not (migrating and Path(path).suffix in (".h5", ".hdf5")):
            raise
        try:
            model = load_keras2_h5(keras, Path(path), safe_mode=not unsafe)
        except Exception as exc:  # noqa: BLE001 - one line, as load_model does
            raise ModelError(f"MODEL {path}: a Keras 2 file that Keras {keras.__version__} cannot rebuild "
                             f"({type(exc).__name__}: {str(exc).strip()[:200]})") from None
        migration_note = ("saved by Keras 2: rebuilt in Keras 3 from its config without the keys Keras 3 rejects "
                          "(time_major), then its weights - what a migration does")
    ports = dict(ports or {})
    names = {layer.name for layer in model.layers}
    unknown = sorted(set(ports) - names)
    if unknown:
        raise ModelError(f"--port: the model has no layer {', '.join(unknown)}; its layers: {', '.join(sorted(names))}")
    x = _example_inputs(model, inputs, seed=seed, timesteps=timesteps)
    report = ModelReport(model=str(path), layers=[])
    if export is not None:
        ports = {**_export_ports(model, keras, export), **ports}
        report.export, report.export_drift, note = _whole_model_export(model, x, export)
        report.notes.append(note)
    if migration_note:
        report.notes.append(migration_note)
    if inputs is None:
        report.notes.append(f"random inputs of shape {x.shape} (pass --inputs FILE.npy for real ones)")
    if _is_stateful(model):
        report.notes.append("stateful layers: the model was fed consecutive calls from reset states; each layer is "
                            "checked on the whole sequence, which a correct stateful layer computes identically")
    for layer in model.layers:
        kind = type(layer).__name__
        if not isinstance(layer, keras.layers.RNN) and kind != "Bidirectional":
            continue
        x_sym, mask_sym, init_sym = _node_inputs(layer)
        if init_sym is not None:
            report.layers.append(LayerCheck(layer.name, kind, "reference", None,
                                            skipped="called with initial_state tensors (not supported yet)"))
            continue
        outputs = [x_sym] + ([mask_sym] if mask_sym is not None else [])
        probe = keras.Model(model.inputs, outputs)
        got = _capture(probe, model, x)
        layer_x = got[0].astype(np.float32)
        layer_mask = got[1].astype(bool) if mask_sym is not None else None
        drift = hard_sigmoid_drift(layer, layer_x, layer_mask) if migrating else None
        check = _check_layer(layer, kind, layer_x, layer_mask, port=ports.get(layer.name), model=model,
                             precision=parse_precision(precision))
        check.migration_drift = None if drift is None else [float(v) for v in drift]
        report.layers.append(check)
    if not report.layers:
        report.notes.append("the model has no recurrent layers")
    return report


def _export_ports(model, keras, exporter: str) -> dict[str, Port]:
    """An export port for every recurrent layer, exporting that very layer."""
    from harness.exports.port import export_port

    return {layer.name: export_port(exporter, layer=layer) for layer in model.layers
            if isinstance(layer, keras.layers.RNN) or type(layer).__name__ == "Bidirectional"}


def _whole_model_export(model, x: np.ndarray, exporter: str) -> tuple[str, list[float] | None, str]:
    """Export the whole model and measure per timestep how far the artifact's first output is from Keras's."""
    from harness.exports import ExportFailure, export_layer

    _reset(model)
    try:
        artifact = export_layer(model, exporter, batch=x.shape[0], timesteps=x.shape[1], features_shape=x.shape[2:])
        got = artifact.run(x)[0].astype(np.float64)
    except ExportFailure as exc:
        return exporter, None, f"the whole model as {exporter}: {exc}"
    want = np.asarray(to_numpy(model(x, training=False)))
    want = (want[0] if isinstance(want, (list, tuple)) else want).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got - want)
    diff[~np.isfinite(diff)] = np.inf
    per_t = diff.reshape(diff.shape[0], diff.shape[1], -1).max(axis=(0, 2)) if diff.ndim >= 3 else diff.reshape(1, -1).max(axis=1)
    holds = artifact.contents.get("fused") or artifact.contents.get("loop") or "an unrolled graph"
    return exporter, [float(v) for v in per_t], (
        f"the whole model as {exporter} ({holds}): max |{exporter} - keras| = {float(np.max(per_t)):.2g} "
        f"over its first output; each recurrent layer is also exported alone and judged against its own tolerance (above)")


def _check_layer(layer, kind: str, x: np.ndarray, mask: np.ndarray | None, *, port: Port | None, model,
                 precision: Precision = FLOAT32) -> LayerCheck:
    """One recurrent layer of any kind against the reference, or against a port (at ``precision``) with the
    diagnosis."""
    data = _layer_data(layer, kind, x, mask)
    source = None if isinstance(data.spec.layer, CellSpec) else layer
    try:
        ref = layer_reference(data, source, renames=None if source is None else _target_renames())
    except ValueError:
        return LayerCheck(layer.name, kind, "reference", None, skipped=f"{kind} with these cells has no reference yet")
    name = kind if source is None else ref.kind
    reference, trace = run_reference(ref, data)
    noise = noise_floor(ref, data, reference, trace, precision=precision if port is not None else FLOAT32)
    _reset(model)
    returned = to_numpy(layer(x, mask=mask, training=False))  # any backend's tensors (torch: detached)
    keras_out = ref.named(returned, start=0, stop=data.spec.timesteps)
    if port is None:
        records = compare(layer.name, name, keras_out, reference, noise)
        return LayerCheck(layer.name, name, "reference", summarize(layer.name, name, records, noise), records)
    shapes = [(0, data.spec.timesteps, [tuple(np.shape(a)) for a in flatten(returned)])]
    try:
        port_out = port.run(data, layer.get_config(), (ref, shapes))
    except PortCallError as exc:
        return LayerCheck(layer.name, name, port.name, error_result(layer.name, name, str(exc)))
    records = compare(layer.name, name, port_out, keras_out, noise)
    check = LayerCheck(layer.name, name, port.name, summarize(layer.name, name, records, noise), records)
    if check.verdict == "mismatch":
        example_layer = None if source is None else _view_for_target(layer)
        example = Example(data=data, port=port_out, noise=noise, layer=example_layer, keras=keras_out)
        with_mask = port.accepts_mask and mask is not None
        check.diagnosis = diagnose([example], with_mask=with_mask, with_initial_state=False)
        if not check.diagnosis.explained:  # nothing names it at this precision: a lower one?
            found = undeclared_precision([example], [0], declared=precision, groups=[CauseGroup(check.diagnosis, [0])],
                                         with_mask=with_mask, with_initial_state=False)
            if found is not None:
                check.precision_cause = str(found[0])
                groups = found[3]
                check.diagnosis = groups[0].diagnosis if groups else Diagnosis()
    return check


def _view_for_target(layer):
    renames = _target_renames()
    return layer if not renames else _renamed_view(layer, renames)


def render_model_report(report: ModelReport) -> str:
    lines = [f"{report.verdict.upper()}  {report.model}  ({len(report.layers)} recurrent layer(s))"]
    for c in report.layers:
        if c.skipped:
            lines.append(f"  {c.name} ({c.kind}): skipped - {c.skipped}")
            continue
        r = c.result
        assert r is not None
        if c.verdict == "match":
            lines.append(f"  {c.name} ({c.kind}) vs {c.against}: match (worst error {r.worst_abs_err:.2g})")
        elif c.verdict == "error":
            lines.append(f"  {c.name} ({c.kind}) vs {c.against}: error - {r.error}")
        else:
            lines.append(f"  {c.name} ({c.kind}) vs {c.against}: MISMATCH, first at {r.first_tensor} t={r.first_t} "
                         f"(error {r.first_err:.2g} > tolerance {r.first_tolerance:.2g})")
            if c.precision_cause:
                lines.append(f"    cause [precision]: your port computes in {c.precision_cause}: its error is "
                             f"{c.precision_cause} round-off")
                lines.append(f"      fix: pass --precision {c.precision_cause} to check it at that precision")
            if c.diagnosis and c.diagnosis.explained:
                for finding in c.diagnosis.explained:
                    for part in finding.hypothesis.parts:
                        lines.append(f"    cause [{part.flag}]: {part.detail}")
                        lines.append(f"      fix: {part.fix}")
            elif c.diagnosis is not None and not c.precision_cause:
                lines.append("    cause [unexplained]: no catalogue cause reproduces the port")
    first = report.first_diverging
    if first is not None and first.result is not None:
        lines.append(f"  first diverging layer: {first.name} at t={first.result.first_t}")
    migrated = [c for c in report.layers if c.migration_drift]
    if migrated:
        lines.append("  KERAS 2 -> 3 MIGRATION DRIFT (silent): this model was saved by Keras 2 and uses hard_sigmoid, which "
                     "Keras 3 computes as clip(x/6+0.5) instead of clip(0.2x+0.5); nothing remaps it "
                     "[keras2-hard-sigmoid]. Outputs change by, per timestep (max |Keras 3 - Keras 2| of the layer alone):")
        for c in migrated:
            steps = ", ".join(f"t{t}={v:.2g}" for t, v in enumerate(c.migration_drift[:12]))
            more = " ..." if len(c.migration_drift) > 12 else ""
            lines.append(f"    {c.name}: max {max(c.migration_drift):.3g}; {steps}{more}")
        lines.append("    to keep Keras 2 numbers, use a custom activation clip(0.2*x+0.5, 0, 1) in place of 'hard_sigmoid'")
    lines += [f"  note: {n}" for n in report.notes]
    return "\n".join(lines)
