"""An exporter as a port: the layer exported with a real converter, the artifact run on each example.

``rnn-parity check --export onnx --layer LSTM`` checks what ONNX (or LiteRT)
really computes, per timestep, with the same drawn examples, tolerance and
diagnosis as a hand-written port. For each example the harness builds the Keras
layer with the example's weights, exports it for the example's static shapes
(:func:`harness.exports.export_layer`; conversions are cached by configuration,
weights and shapes, and the check draws :data:`DRAWS_PER_EXPORT` examples per such build,
so each conversion serves several data draws), runs the artifact on the example's inputs, mask and initial
state, and records what the artifact holds (a fused sequence op or a loop) in the
example's ``details``. What the converter refuses or the runtime cannot run is
``unsupported`` with the converter's own one-line reason
(:class:`~harness.errors.PortUnsupported`), never drift.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.errors import PortCallError, PortError, PortUnsupported
from harness.exports import EXPORTERS, ExportCache, ExportError, ExportUnsupported, export_layer
from harness.exports.forms import functions, parse_forms
from harness.layers.case import CaseData
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor, concat_chunks
from harness.ports.port import Expected, Port, _as_layer_return
from harness.target.keras_env import import_keras


#: Examples per conversion in ``check --export``: each build (configuration, weights, static shapes)
#: is exported once and runs this many data draws (see :attr:`harness.ports.port.Port.draws_per_build`).
DRAWS_PER_EXPORT = 4


def export_port(exporter: str, *, layer: Any = None, cache: ExportCache | None = None,
                forms: Mapping[str, str] | None = None) -> Port:
    """A :class:`~harness.ports.port.Port` that exports and runs the layer; PortError (one line) for an
    unknown exporter, a missing extra or an unknown form. ``layer``: a built Keras layer with its weights
    set to export (a layer of a saved model) instead of one built from each example's spec. ``forms``:
    ``{"hard_sigmoid": "clip"}``: the exported layer computes that named activation with that custom
    function (:mod:`harness.exports.forms`); Keras and the reference keep the named one."""
    chosen = EXPORTERS.get(exporter)
    if chosen is None:
        raise PortError(f"--export {exporter!r} is not one of {', '.join(EXPORTERS)}")
    missing = chosen.available()
    if missing:
        raise PortError(f"--export {exporter}: {missing}")
    cache = cache if cache is not None else ExportCache()  # an empty cache is falsy (len 0)
    forms = dict(forms or {})
    try:
        replaced = functions(parse_forms([f"{k}={v}" for k, v in forms.items()]))
    except ValueError as exc:
        raise PortError(str(exc)) from None

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        spec, case = data.spec.layer, data.spec
        exported = layer
        if exported is None and replaced:
            if not isinstance(spec, CellSpec):
                raise PortCallError(f"--export-activation applies to SimpleRNN/LSTM/GRU, not {spec.kind}")
            config = spec.to_keras_config()
            for key in ("activation", "recurrent_activation"):
                config[key] = replaced.get(config.get(key), config.get(key))
            config = {k: v for k, v in config.items() if v is not None}
            exported = getattr(import_keras().layers, spec.kind)(**config)
            exported.build((None, None, *spec.input_shape))
            exported.set_weights(data.weights)
        if exported is None:
            exported = spec.build(import_keras())
            exported.build((case.batch if spec.stateful else None, None, *spec.input_shape))
            exported.set_weights(data.weights)
        before = cache.conversions
        try:
            artifact = export_layer(
                exported, exporter, batch=case.batch, timesteps=case.timesteps, features_shape=spec.input_shape,
                with_mask=data.mask is not None,
                initial_state_shapes=None if data.initial_state is None else [s.shape for s in data.initial_state],
                cache=cache)
            port.details = {"artifact": f"{exporter} {_holds(artifact.contents)}", "contents": artifact.contents,
                            "export_seconds": round(artifact.seconds, 3), "converted": cache.conversions > before,
                            "versions": artifact.versions}
            returned = artifact.run(data.x, mask=data.mask, initial_state=data.initial_state)
        except ExportUnsupported as exc:
            raise PortUnsupported(f"{exporter} cannot export it: {exc}") from None
        except ExportError as exc:
            raise PortCallError(f"{exporter}: {exc}") from None
        value = returned if len(returned) > 1 else returned[0]
        return concat_chunks([_as_layer_return(value, spec, expected, start=0, stop=case.timesteps,
                                               batch=case.batch)])

    label = "".join(f"[{name}={form}]" for name, form in forms.items())
    port = Port(f"export:{exporter}{label}", "export", accepts_mask=True, accepts_initial_state=True, carries_state=False,
                _run=run, check_determinism=False, pins={"stateful": False}, draws_per_build=DRAWS_PER_EXPORT,
                notes=["stateful layers (an exported artifact keeps no state between calls; pinned stateful=false)"])
    return port


def _holds(contents: Mapping[str, Any]) -> str:
    """What the artifact runs the sequence with: a fused op (with its activations, when the exporter
    records them: ONNX), a loop op, or an unrolled graph."""
    if contents.get("fused"):
        fused = (contents.get("fused_activations") or [{}])[0]
        acts = fused.get("activations") or []
        if not acts:
            return f"fused {contents['fused']} op"
        # an activation that takes alpha/beta with none written runs with ONNX's defaults
        defaults = "" if fused.get("activation_alpha") or "HardSigmoid" not in acts else ", HardSigmoid with default alpha/beta"
        return f"fused {contents['fused']} op ({'/'.join(acts)}{defaults})"
    if contents.get("loop"):
        return f"{contents['loop']} loop"
    return "unrolled graph"
