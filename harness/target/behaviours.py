"""Named Keras behaviours that make a target differ from the reference, and proof that they do.

The reference (``reference_cells``, conventions :data:`~reference_cells.KERAS`)
is Keras 3 on TensorFlow. Another target can legitimately compute something
else; such a difference must be *named*, never a silent false alarm. Each
:class:`KnownBehaviour` says on which targets and for which cases it applies,
where in Keras it comes from, and how the reference reproduces it (a changed
case spec and/or reference conventions). A drifting case is *explained* by a
behaviour only if Keras matches the reference with that behaviour applied,
within the case's own calibrated tolerance (:func:`explain_drift`): the label
is a measurement, not a guess. Behaviours that make Keras *fail* on a case
(an error, an activation the target lacks) label the error instead
(:func:`explain_error`, status ``unsupported``).

``tests/backends/test_known_behaviours.py`` shows each entry is real on the
installed versions (it fails if a Keras release removes the behaviour).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from harness.layers.case import CaseData, CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.tensors import NamedTensor
from harness.oracle.compare import CaseResult, compare, summarize
from harness.oracle.conventions import LayerConventions
from reference_cells import KERAS, Conventions
from reference_cells.activations import KERAS2_HARD_SIGMOID


@dataclass(frozen=True)
class KnownBehaviour:
    """One named way a target differs from Keras 3 on TensorFlow.

    Attributes:
        name: stable label used in records, reports and the matrix.
        targets: the targets it occurs on.
        summary: what happens, in one sentence.
        source: where it comes from (installed Keras source, with lines).
        applies: whether a case can show it (cheap, from the spec only); ``None`` = any case.
        spec_change: how a SimpleRNN/LSTM/GRU case must change for the reference to reproduce it.
        conventions: reference conventions that reproduce it.
        renames: activation renames (in every config of the layer) that reproduce it.
        error_match: for behaviours that make Keras fail: a substring of the error.
    """

    name: str
    targets: tuple[str, ...]
    summary: str
    source: str
    applies: Callable[[Any], bool] | None = None  # None: any case (error behaviours matched by message)
    spec_change: Callable[[CaseSpec], CaseSpec] | None = None
    conventions: Conventions = KERAS
    renames: Mapping[str, str] | None = None  # activation names, in every config of the layer
    error_match: str | None = None


def _layer(spec: Any) -> CellSpec | None:
    """The SimpleRNN/LSTM/GRU layer of a case (None for composite layers)."""
    layer = getattr(spec, "layer", None) if isinstance(spec, CaseSpec) else None
    return layer if isinstance(layer, CellSpec) else None


def _uses_hard_sigmoid(spec: Any) -> bool:
    return isinstance(spec, CaseSpec) and "hard_sigmoid" in spec.layer.activations()


#: Activation names Keras 3 has and tf_keras 2.21 does not (measured: tf_keras.activations.get
#: raises for each; tests/backends/test_known_behaviours.py re-measures it).
KERAS3_ONLY_ACTIVATIONS = frozenset({
    "celu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "soft_shrink", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink",
})


def _keras3_only_activation(spec: Any) -> bool:
    return isinstance(spec, CaseSpec) and bool(spec.layer.activations() & KERAS3_ONLY_ACTIVATIONS)


def _without_zero_output(spec: CaseSpec) -> CaseSpec:
    return dataclasses.replace(spec, layer=dataclasses.replace(spec.layer, zero_output_for_mask=False))


BEHAVIOURS: Mapping[str, KnownBehaviour] = {
    b.name: b
    for b in (
        KnownBehaviour(
            name="jax-masked-output-is-state",
            targets=("jax",),
            summary="JAX (lax.scan, unroll=False): a masked step outputs states[0] of the previous step (h), "
                    "TensorFlow the previous emitted output (0 before any). They differ only before a row's first "
                    "valid step when the starting state is non-zero (initial_state, a stateful carry).",
            source="keras/src/backend/jax/rnn.py l.165-170 ('Assume the first state is the previous output') vs "
                   "backend/tensorflow/rnn.py l.174-178; ../shared/keras-rnn-semantics.md §3.4",
            applies=lambda s: _layer(s) is not None and s.mask != "none" and not s.layer.unroll
            and not s.layer.zero_output_for_mask and (s.initial_state or s.layer.stateful),
            conventions=Conventions(mask="state"),
        ),
        KnownBehaviour(
            name="jax-unroll-ignores-zero-output-for-mask",
            targets=("jax",),
            summary="JAX with unroll=True never zeroes masked outputs: zero_output_for_mask is ignored and masked "
                    "steps carry the previous output.",
            source="keras/src/backend/jax/rnn.py l.90-131 (the unrolled masked loop has no zero_output_for_mask "
                   "branch; TensorFlow's has, tensorflow/rnn.py l.203-213)",
            applies=lambda s: _layer(s) is not None and s.mask != "none" and s.layer.unroll
            and s.layer.zero_output_for_mask,
            spec_change=_without_zero_output,
        ),
        KnownBehaviour(
            name="keras2-hard-sigmoid",
            targets=("keras2",),
            summary="Keras 2 (tf_keras) hard_sigmoid is clip(0.2x + 0.5, 0, 1); Keras 3's is clip(x/6 + 0.5, 0, 1). "
                    "A model moved from Keras 2 to Keras 3 changes its outputs silently.",
            source="tf_keras/backend.py l.5926-5944 vs keras/src/backend/tensorflow/nn.py l.110; "
                   "../shared/keras-rnn-semantics.md §2.1",
            applies=_uses_hard_sigmoid,
            renames={"hard_sigmoid": KERAS2_HARD_SIGMOID},
        ),
        KnownBehaviour(
            name="keras2-missing-activation",
            targets=("keras2",),
            summary="Activations added in Keras 3 (celu, squareplus, sparse_sigmoid, sparsemax, tanh_shrink, ...) "
                    "do not exist in Keras 2: the layer cannot be built there.",
            source="tf_keras/activations.py (no such functions)",
            applies=_keras3_only_activation,
            error_match="Unknown activation function",
        ),
        KnownBehaviour(
            name="keras2-unroll-zero-output-last-crash",
            targets=("keras2",),
            summary="tf_keras with unroll=True, zero_output_for_mask=True, a mask and return_sequences=False fails: "
                    "it keeps only the last output, then masks it with the whole (T, B) mask.",
            source="tf_keras/src/backend.py l.4920-4937 (successive_outputs = [output]; outputs = tf.where(mask, "
                   "outputs, 0))",
            applies=lambda s: _layer(s) is not None and s.mask != "none" and s.layer.unroll
            and s.layer.zero_output_for_mask and not s.layer.return_sequences,
            error_match="Dimension 0 in both shapes must be equal",
        ),
        KnownBehaviour(
            name="torch-unroll-mask-backwards-crash",
            targets=("torch",),
            summary="PyTorch backend with unroll=True, a mask and go_backwards=True fails: it calls torch.flip on a "
                    "tuple of per-step masks.",
            source="keras/src/backend/torch/rnn.py l.93-95 (mask_list = torch.flip(mask_list, ...))",
            applies=lambda s: _layer(s) is not None and s.mask != "none" and s.layer.unroll and s.layer.go_backwards,
            error_match="'tuple' object has no attribute 'shape'",
        ),
        KnownBehaviour(
            name="bidirectional-stateful-return-state-crash",
            targets=("tensorflow", "jax", "torch"),
            summary="Bidirectional around a stateful layer with return_state=True fails on every Keras 3 backend: "
                    "its compute_mask multiplies a generator by 2 once the layer has states.",
            source="keras/src/layers/rnn/bidirectional.py l.514-518 (state_mask = (None for _ in self.states); "
                   "... + state_mask * 2)",
            applies=lambda s: isinstance(s, CaseSpec) and s.layer.kind == "Bidirectional" and s.layer.stateful
            and s.layer.return_state,
            error_match="unsupported operand type(s) for *: 'generator' and 'int'",
        ),
        KnownBehaviour(
            name="jax-convlstm-mask-broadcast",
            targets=("jax",),
            summary="JAX backend, ConvLSTM with a mask and batch == width: the per-step mask (B, 1) broadcasts "
                    "along the state's width axis, so width position w of every sample follows sample w's mask "
                    "(and masked positions output states[0]). Wrong numbers, no error.",
            source="keras/src/backend/jax/rnn.py l.154-176 (is_masked keepdims (B, 1) against a (B, *S, F) state)",
            applies=lambda s: getattr(s, "kind", "").startswith("ConvLSTM") and s.mask != "none",
            conventions=Conventions(mask="jax-spatial"),
        ),
        KnownBehaviour(
            name="jax-convlstm-mask-crash",
            targets=("jax",),
            summary="JAX backend: ConvLSTM with a mask fails; the scan's per-step mask (B, 1) does not broadcast "
                    "against the spatial state (B, *S, F).",
            source="keras/src/backend/jax/rnn.py l.154-156 (is_masked = all(not mask, axis=-1, keepdims=True)) "
                   "with the ConvLSTM state's rank",
            applies=lambda s: getattr(s, "kind", "").startswith("ConvLSTM") and s.mask != "none",
            error_match="Incompatible shapes for broadcasting",
        ),
    )
}


def for_target(target: str) -> list[KnownBehaviour]:
    return [b for b in BEHAVIOURS.values() if target in b.targets]


def known_crashes(spec: Any, target: str) -> list[KnownBehaviour]:
    """The behaviours that make Keras on ``target`` fail on ``spec``."""
    return [b for b in for_target(target) if b.error_match and b.applies is not None and b.applies(spec)]


def drop_known_crashes(specs: list, target: str) -> list:
    """``specs`` without the cases the target is known to fail on (a port check needs Keras's answer).

    Raises ValueError, naming the behaviour, when that leaves nothing of a non-empty draw."""
    kept = [s for s in specs if not known_crashes(s, target)]
    if specs and not kept:
        crash = known_crashes(specs[0], target)[0]
        raise ValueError(f"Keras on {target} cannot run any drawn example ({crash.name}: {crash.summary.rstrip('.')}); "
                         "fix other options with --set")
    return kept


def explain_error(result: CaseResult, target: str, spec: Any = None) -> CaseResult:
    """An ``error`` the target is known to raise (message and, given ``spec``, the case's options)
    becomes ``unsupported`` with the behaviour's name."""
    if result.status != "error" or not result.error:
        return result
    for b in for_target(target):
        fits = spec is None or b.applies is None or b.applies(spec)
        if b.error_match and b.error_match in result.error and fits:
            return dataclasses.replace(result, status="unsupported", behaviour=b.name)
    return result


def explain_drift(
    result: CaseResult, data: CaseData, layer: Any, actual: Mapping[str, NamedTensor], target: str
) -> CaseResult:
    """Relabel a drift as ``explained`` if a named behaviour of ``target`` reproduces it.

    ``layer`` is the built Keras layer (composite layers' reference reads it).
    Singles are tried first, then all applicable behaviours together. The
    records (and worst errors) stay those against the plain reference: they
    measure how large the known difference is.
    """
    from harness.oracle.reference import layer_reference, run_reference
    from harness.oracle.tolerance import noise_floor

    if result.status != "drift":
        return result
    candidates = [b for b in for_target(target)
                  if b.error_match is None and b.applies is not None and b.applies(data.spec)]
    trials = [[b] for b in candidates] + ([candidates] if len(candidates) > 1 else [])
    for combo in trials:
        spec = data.spec
        cell: dict[str, Any] = {}
        renames: dict[str, str] = {}
        for b in combo:
            spec = b.spec_change(spec) if b.spec_change else spec
            cell.update(b.conventions.differences())
            renames.update(b.renames or {})
        alt = dataclasses.replace(data, spec=spec)
        try:
            ref = layer_reference(alt, layer, conventions=LayerConventions(cell=Conventions(**cell)), renames=renames)
            expected, trace = run_reference(ref, alt)
            noise = noise_floor(ref, alt, expected, trace)
            trial = summarize(result.case_id, result.cell, compare(result.case_id, result.cell, actual, expected, noise),
                              noise)
        except Exception:  # noqa: BLE001 - a behaviour that cannot even run does not explain anything
            continue
        if trial.status not in ("drift", "error"):
            return dataclasses.replace(result, status="explained", behaviour="+".join(b.name for b in combo))
    return result
