"""The catalogue of named causes: each flag, its symptom, and the conventions that reproduce it.

A flag names a class of port bugs. Each class is a set of *candidates*: a
:class:`~harness.oracle.conventions.LayerConventions` value (the reference run
the way the buggy port runs) with a one-sentence detail and fix. The diagnosis
runs the reference under each candidate and names a flag only when a candidate
reproduces the port's outputs to the noise floor on every example.

One catalogue serves every kind (:func:`candidates`): the cell generators
(:data:`CELL_GENERATORS`: ``gate-order``, ``activation``, ``bias`` ...) apply
to a SimpleRNN/LSTM/GRU layer and to every cell inside a composite (both halves
of a Bidirectional, every cell of a stack, the ConvLSTM cell - an LSTM cell with
convolutions, same gate blocks ``i,f,c,o``); the wrapper generators add
``time-direction`` for a Bidirectional's backward half, ``state-order``,
``merge-mode`` and the Bidirectional ``initial_state`` split.

Flag names are shared by the CLI, the JSON, the drift reports and the docs
(``docs/flags.md`` is generated from this module).
Per-timestep signatures are from ``../shared/keras-rnn-semantics.md`` §7.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from harness.layers.cell import CellSpec
from harness.oracle.conventions import LayerConventions
from harness.oracle.references import BASIC, CONV
from reference_cells import GRU_GATE_ORDER, LSTM_GATE_ORDER, Conventions
from reference_cells.activations import KERAS2_HARD_SIGMOID

FLAGS = (
    "gate-order",
    "activation",
    "initial-state",
    "gru-update-convention",
    "gru-reset-after",
    "bias",
    "kernel-layout",
    "time-direction",
    "masking",
    "state-order",
    "merge-mode",
    "recurrent-term",
    "time-major",
    "precision",  # not a convention: harness/check/precision.py (undeclared reduced precision)
    "unexplained",
)

_ACTIVATION_FORMULAS = {
    "hard_sigmoid": "Keras 3 hard_sigmoid = clip(x/6 + 0.5, 0, 1)",
    KERAS2_HARD_SIGMOID: "Keras 2 hard_sigmoid = clip(0.2x + 0.5, 0, 1)",
    "sigmoid": "sigmoid = 1/(1 + exp(-x))",
    "tanh": "tanh",
    "linear": "no activation",
    "relu": "relu",
}
#: Activations a port plausibly uses by mistake, per position.
_GATE_SUSPECTS = ("sigmoid", "hard_sigmoid", KERAS2_HARD_SIGMOID, "tanh")
_CANDIDATE_SUSPECTS = ("tanh", "sigmoid", "hard_sigmoid", KERAS2_HARD_SIGMOID, "relu", "linear")


@dataclass(frozen=True)
class Candidate:
    """One concrete way a port can be wrong."""

    flag: str
    conventions: Conventions | LayerConventions  # cell generators yield Conventions; candidates() wraps them
    detail: str  # what the port does, in one sentence
    fix: str  # what to change, in one sentence

    @property
    def key(self) -> str:
        return self.conventions.describe()


def _formula(name: str) -> str:
    return _ACTIVATION_FORMULAS.get(name, name)


def gate_order(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: O(1) error from t=0 that persists (LSTM blocks read as i,o,f,c; GRU
    blocks read in PyTorch's r,z,n order); i<->f alone is nonzero at t=0 through i."""
    keras = {"LSTM": LSTM_GATE_ORDER, "GRU": GRU_GATE_ORDER}.get(spec.kind)
    if keras is None:
        return
    for perm in itertools.permutations(keras):
        order = "".join(perm)
        if order == keras:
            continue
        yield Candidate(
            "gate-order",
            Conventions(gate_order=order),
            f"your port reads the fused kernel as {','.join(order)}; Keras stores {','.join(keras)}",
            f"slice the kernel, recurrent kernel and bias blocks in the order {','.join(keras)}",
        )


def activation(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: ~1e-2 error from t=0 that stays, no decay (sigmoid vs hard_sigmoid,
    or Keras 2's 0.2x+0.5 vs Keras 3's x/6+0.5)."""
    for name in _CANDIDATE_SUSPECTS:
        if name != spec.activation:
            yield Candidate(
                "activation",
                Conventions(activation=name),
                f"your port uses {_formula(name)} for activation; the layer uses {_formula(spec.activation)}",
                f"use {_formula(spec.activation)} for the candidate/output activation",
            )
    if spec.recurrent_activation is None:
        return
    for name in _GATE_SUSPECTS:
        if name != spec.recurrent_activation:
            yield Candidate(
                "activation",
                Conventions(recurrent_activation=name),
                f"your port uses {_formula(name)} for recurrent_activation; the layer uses {_formula(spec.recurrent_activation)}",
                f"use {_formula(spec.recurrent_activation)} for the gates",
            )


def initial_state(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: largest at t=0, decaying geometrically (start from ones instead of
    zeros); or large at each chunk start of a stateful layer (state not carried)."""
    yield Candidate(
        "initial-state",
        Conventions(initial_state="ones"),
        "your port starts from a state of ones; Keras starts from zeros",
        "start every state (h, and c for LSTM) from zeros",
    )
    yield Candidate(
        "initial-state",
        Conventions(initial_state="zeros"),
        "your port ignores the initial_state passed in and starts from zeros",
        "start from the initial_state argument when it is given",
    )
    if spec.stateful:
        yield Candidate(
            "initial-state",
            Conventions(state_carry="reset"),
            "your port does not carry its state between calls of a stateful layer",
            "keep the final states of each call and start the next call from them (reset only in reset_states())",
        )


def gru_update(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: O(1) error from t=0 that persists (with h0=0 the port gives z*hh
    instead of (1-z)*hh)."""
    if spec.kind == "GRU":
        yield Candidate(
            "gru-update-convention",
            Conventions(gru_update="swapped"),
            "your port updates h = (1-z)*h_prev + z*hh; Keras uses h = z*h_prev + (1-z)*hh",
            "use h = z*h_prev + (1-z)*hh",
        )


def gru_reset(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: from t=0 (the recurrent bias enters even with h0=0), persists; zero at
    t=0 only if the biases are zero. Covers reset before vs after the matmul and the
    recurrent bias row dropped or merged into the input bias."""
    if spec.kind != "GRU":
        return
    if spec.reset_after:
        yield Candidate(
            "gru-reset-after",
            Conventions(gru_reset="before"),
            "your port applies the reset gate before the recurrent matmul ((r*h)@R); the layer has reset_after=True (r*(h@R + b_rec))",
            "compute hh = act(x@K_h + b_in_h + r*(h@R_h + b_rec_h))",
        )
        if spec.use_bias:
            yield Candidate(
                "gru-reset-after",
                Conventions(gru_bias="drop-recurrent"),
                "your port drops the recurrent bias row bias[1]",
                "add bias[1] to h@R before the gates (inside r*(...) for the candidate)",
            )
            yield Candidate(
                "gru-reset-after",
                Conventions(gru_bias="input-side"),
                "your port adds both bias rows on the input side; bias[1]'s candidate block belongs inside r*(h@R_h + b_rec_h)",
                "add bias[1] to h@R, so its candidate block is multiplied by r",
            )
    else:
        yield Candidate(
            "gru-reset-after",
            Conventions(gru_reset="after"),
            "your port applies the reset gate after the recurrent matmul (r*(h@R)); the layer has reset_after=False ((r*h)@R)",
            "compute hh = act(x@K_h + b_h + (r*h)@R_h)",
        )


def bias(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: from t=0, persists (bias missing or counted twice, e.g. b_ih = b_hh =
    Keras bias); LSTM forget bias +1 added again at inference: 0 at t=0, then grows."""
    if not spec.use_bias:
        return
    yield Candidate("bias", Conventions(bias="none"), "your port ignores the bias", "add the bias")
    yield Candidate(
        "bias",
        Conventions(bias="double"),
        "your port adds the bias twice (e.g. the Keras bias used as both b_ih and b_hh)",
        "add the Keras bias once (PyTorch-style ports: b_ih = bias, b_hh = 0)",
    )
    if spec.kind == "LSTM":
        yield Candidate(
            "bias",
            Conventions(forget_bias=1.0),
            "your port adds 1 to the forget-gate bias at inference; unit_forget_bias only initialises it",
            "use the stored bias as it is",
        )


def kernel_layout(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: exactly zero error at t=0 when h0=0, then O(1): each gate's recurrent
    kernel transposed (PyTorch (4H, H) layout not transposed back)."""
    if spec.units > 1:
        yield Candidate(
            "kernel-layout",
            Conventions(kernel_layout="recurrent-transposed"),
            "your port uses each gate's recurrent kernel transposed (R_g.T); Keras computes h @ R_g with R (units, gates*units)",
            "compute h @ R (input-major, no transpose)",
        )


def time_direction(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: O(1) almost everywhere; out[:, -1] of one equals out[:, 0] of the other
    (go_backwards outputs flipped back to time order, or go_backwards ignored)."""
    if spec.go_backwards:
        if spec.return_sequences:
            yield Candidate(
                "time-direction",
                Conventions(time_direction="flipped"),
                "your port returns the go_backwards outputs in time order; Keras returns them in processing order",
                "do not flip the outputs back: output[:, 0] is the step that read x[:, T-1]",
            )
        yield Candidate(
            "time-direction",
            Conventions(time_direction="ignored"),
            "your port ignores go_backwards and reads the sequence forwards",
            "read x from the last timestep to the first when go_backwards=True",
        )


def masking(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: exactly zero before the first padded step, O(1) after (mask ignored);
    or errors only at masked positions (wrong masked-step output: the previous output carried
    where zero_output_for_mask=True asks for zeros, or the reverse); or NaN only at masked
    steps after an overflow (the mask applied as m*new + (1-m)*old, so 0*inf = NaN)."""
    yield Candidate(
        "masking",
        Conventions(mask="ignore"),
        "your port ignores the mask",
        "at a masked step keep every state and repeat the previous output",
    )
    if not spec.zero_output_for_mask:
        yield Candidate(
            "masking",
            Conventions(mask="zeros"),
            "your port outputs zeros at masked steps; Keras repeats the previous output (zero_output_for_mask=False)",
            "at a masked step output the previous step's output (0 before any valid step)",
        )
    if spec.zero_output_for_mask:
        yield Candidate(
            "masking",
            Conventions(mask="carry"),
            "your port carries the previous output over masked steps; this layer outputs zeros there "
            "(zero_output_for_mask=True)",
            "when zero_output_for_mask=True output zeros at masked steps (the states are still carried)",
        )
    yield Candidate(
        "masking",
        Conventions(mask="blend"),
        "your port applies the mask as arithmetic, m*new + (1-m)*old: an overflow (inf) in the discarded branch "
        "becomes NaN (0*inf) at masked steps, where Keras selects the previous value",
        "select instead of blending: where(m, new, old) (ONNX: a Where node, not Mul/Add)",
    )
    yield Candidate(
        "masking",
        Conventions(mask="state"),
        "your port outputs h_{t-1} at masked steps (JAX rule); Keras on TF outputs the previous emitted output, 0 before any",
        "before the first valid step output 0, not the initial state",
    )


def recurrent_term(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: exactly zero at t=0 when h0=0, then O(0.1)-O(1) from t=1 on, not decaying: the
    previous hidden state is never fed back (h_{t-1} @ R computed with h_{t-1} = 0, the cell state
    still carried), or fed from the wrong step (h_{t-2}: right at t=0 and t=1 when h0=0, off from
    t=2). Found in a public NumPy LSTM port that computed h but never wrote it back. GRU
    (reset_after=True): the recurrent side skipped at the first step when no initial state is
    given, dropping the recurrent bias there only (mlx's nn.GRU did): error at t=0, decaying."""
    yield Candidate(
        "recurrent-term",
        Conventions(recurrent="dropped"),
        "your port never feeds the hidden state back: h_{t-1} @ R is computed with h_{t-1} = 0 at every step "
        "(the input side and the biases are right)",
        "feed the previous step's h into the recurrent matmul (store the new h where the next step reads it)",
    )
    yield Candidate(
        "recurrent-term",
        Conventions(recurrent="lagged"),
        "your port feeds back the hidden state of the wrong step: h_{t-2} where Keras uses h_{t-1} "
        "(an off-by-one in the history index)",
        "read h_{t-1}, the state the previous step produced",
    )
    if spec.kind == "GRU" and spec.reset_after and spec.use_bias:
        yield Candidate(
            "recurrent-term",
            Conventions(recurrent="skip-first"),
            "your port skips the recurrent side (h @ R + bias[1]) at the first step when no initial state is given; "
            "with h0 = 0 the product is 0 but the recurrent bias is not (r * b_rec enters the candidate)",
            "compute the recurrent side at the first step too (h0 = zeros): hh = act(x@K_h + b_in_h + r*(0@R_h + b_rec_h))",
        )


def time_major(spec: CellSpec) -> Iterator[Candidate]:
    """Symptom: O(1) from t=0 with batch > 1, nothing at all with batch = 1 (a conditional
    cause: the answer says ``when batch>1``): the (batch, timesteps, features) input read as
    (timesteps, batch, features) - ``x.reshape(T, B, F)`` where ``x.transpose(1, 0, 2)``
    belongs, or time-major indexing ``x[(t*B + b)*F + f]`` of the batch-major buffer - and the
    output sequence written back the same way (or transposed back correctly)."""
    yield Candidate(
        "time-major",
        Conventions(time_major="both"),
        "your port reads the (batch, timesteps, features) input as (timesteps, batch, features) (a reshape where "
        "a transpose belongs, or time-major indexing of the flat buffer) and writes its output sequence back the "
        "same way; that is right only when batch is 1",
        "transpose instead of reshaping: x.transpose(1, 0, 2) to go time-major and back (flat index (b*T + t)*F + f)",
    )
    yield Candidate(
        "time-major",
        Conventions(time_major="input"),
        "your port reads the (batch, timesteps, features) input (and mask) as (timesteps, batch, features) (a "
        "reshape where a transpose belongs); that is right only when batch is 1",
        "transpose instead of reshaping: x.transpose(1, 0, 2) (flat index (b*T + t)*F + f)",
    )


CELL_GENERATORS: tuple[Callable[[CellSpec], Iterator[Candidate]], ...] = (
    gate_order, activation, initial_state, gru_update, gru_reset, bias, kernel_layout, time_direction, masking,
    recurrent_term, time_major,
)


#: Loop conventions a stack of cells cannot simulate (see reference_cells/stacked.py).
UNSIMULATED_STACK_LOOP = {"mask": ("state",), "recurrent": ("lagged", "skip-first")}


def _proxy(kind: str, config: dict[str, Any], *, units: int, **loop: Any) -> CellSpec:
    """A CellSpec with the cell options of ``config``: what the cell flags are generated from."""
    activation = str(config.get("activation", "tanh"))
    recurrent = config.get("recurrent_activation", "sigmoid") if kind != "SimpleRNN" else None
    return CellSpec(kind=kind, units=units, features=1, activation=activation,
                     recurrent_activation=recurrent, use_bias=bool(config.get("use_bias", True)),
                     reset_after=bool(config.get("reset_after", True)), **loop)


def _loop(config: dict[str, Any]) -> dict[str, bool]:
    return {k: bool(config.get(k, False)) for k in ("return_sequences", "return_state", "go_backwards",
                                                      "zero_output_for_mask")}


def _wrap(candidate: Candidate) -> Candidate:
    return Candidate(candidate.flag, LayerConventions(cell=candidate.conventions), candidate.detail, candidate.fix)


def _cell_candidates(spec: CellSpec, *, stack: bool = False, skip_flags: tuple[str, ...] = ()) -> Iterator[Candidate]:
    for generator in CELL_GENERATORS:
        for candidate in generator(spec):
            if candidate.flag in skip_flags:
                continue
            diff = candidate.conventions.differences()
            if stack and any(diff.get(k) in v for k, v in UNSIMULATED_STACK_LOOP.items()):
                continue
            yield _wrap(candidate)


def bidirectional_time_direction(config: dict[str, Any]) -> Iterator[Candidate]:
    """Symptom (Bidirectional): the forward half matches and the backward half is O(1) off
    almost everywhere, its error mirrored in time: the port's backward half at t is Keras's at
    T-1-t (left in processing order: not flipped back, or flipped twice), or the backward half
    read the sequence forwards; without return_sequences, the backward half of the last output
    is the one after reading x[T-1] only (taken from the wrong end of the sequence)."""
    if not bool(config.get("return_sequences", False)):
        yield Candidate(
            "time-direction",
            LayerConventions(backward_last="first-step"),
            "your port takes the backward half's last output from the wrong end: y_bwd[:, -1] of its time-ordered "
            "sequence (after reading x[T-1] only); Keras returns the backward layer's final output (after reading "
            "x[T-1..0])",
            "use the backward layer's final output: y_bwd[:, 0] of the time-ordered sequence (its last processed step)",
        )
    else:
        yield Candidate(
            "time-direction",
            LayerConventions(cell=Conventions(time_direction="flipped")),
            "your port leaves the backward half in its processing order (not flipped back to time order, or "
            "flipped twice); Keras flips it, so position t is the backward output after reading x[T-1..t]",
            "flip the backward layer's output sequence along time exactly once (y_bwd[:, ::-1]) before merging",
        )
    yield Candidate(
        "time-direction",
        LayerConventions(cell=Conventions(time_direction="ignored")),
        "your port runs the backward half forwards (its input is not reversed)",
        "run the backward layer on x[:, ::-1] (and the mask reversed), then flip its outputs back",
    )


def initial_state_split(config: dict[str, Any], *, with_initial_state: bool) -> Iterator[Candidate]:
    """Symptom (Bidirectional with initial_state): each half is off from t=0, decaying like a wrong
    starting state: the port gives the first half of ``initial_state`` to the backward layer (or the
    halves were concatenated backward-first); Keras gives ``initial_state[:n/2]`` to the forward layer."""
    if with_initial_state:
        yield Candidate(
            "initial-state",
            LayerConventions(initial_state_split="swapped"),
            "your port starts the backward half from the first half of initial_state; Keras gives "
            "initial_state[:n/2] to the forward layer and initial_state[n/2:] to the backward layer",
            "split initial_state as [*forward_states, *backward_states]",
        )


def state_order(kind: str, inner: str, config: dict[str, Any], *, has_lstm: bool = False) -> Iterator[Candidate]:
    """Symptom: the output matches everywhere; the returned states do not - each is another
    state's value (Bidirectional LSTM states unpacked interleaved [h_f, h_b, c_f, c_b] where
    Keras returns forward then backward, [h_f, c_f, h_b, c_b]; or an LSTM/ConvLSTM pair
    returned [c, h], TF1's LSTMStateTuple order, where Keras returns [h, c])."""
    if not bool(config.get("return_state", False)):
        return
    if kind == "Bidirectional" and inner == "LSTM":
        yield Candidate(
            "state-order",
            LayerConventions(state_order="interleaved"),
            "your port returns the Bidirectional states interleaved [h_fwd, h_bwd, c_fwd, c_bwd]; "
            "Keras returns the forward layer's then the backward layer's [h_fwd, c_fwd, h_bwd, c_bwd]",
            "return [output, *forward_states, *backward_states] (and split initial_state the same way)",
        )
    if has_lstm:
        yield Candidate(
            "state-order",
            LayerConventions(lstm_states="c-h"),
            "your port returns each LSTM state pair as [c, h] (TF1 LSTMStateTuple order); Keras returns [h, c]",
            "return the hidden state h before the cell state c",
        )


def merge_mode(kind: str, configured: str | None) -> Iterator[Candidate]:
    """Symptom (Bidirectional): each half is right, the merged output is off from t=0 at every
    step by a fixed relation (a sum where Keras averages is exactly twice Keras's output)."""
    if kind != "Bidirectional" or configured not in ("sum", "ave", "mul"):
        return
    formulas = {"sum": "y_fwd + y_bwd", "ave": "(y_fwd + y_bwd) / 2", "mul": "y_fwd * y_bwd"}
    for other in ("sum", "ave", "mul"):
        if other != configured:
            yield Candidate(
                "merge-mode",
                LayerConventions(merge_mode=other),
                f"your port merges the halves as {other} ({formulas[other]}); the layer has merge_mode="
                f"{configured!r} ({formulas[configured]})",
                f"merge with {formulas[configured]}",
            )


def candidates(layer: Any, *, with_mask: bool, with_initial_state: bool) -> list[Candidate]:
    """Every single-fault candidate for a layer (a built Keras layer, or
    :func:`~harness.oracle.references.cell_view` of a cell spec), deduplicated.

    ``masking`` candidates need a port that takes a mask, and "ignores the
    initial_state passed in" one that takes an initial state."""
    kind = type(layer).__name__
    config = layer.get_config()
    out: list[Candidate] = []
    if kind in BASIC:
        spec = _proxy(kind, config, units=int(config["units"]), **_loop(config),
                      stateful=bool(config.get("stateful", False)))
        out += _cell_candidates(spec)
        out += state_order(kind, "", config, has_lstm=kind == "LSTM")
    elif kind == "Bidirectional":
        inner = type(layer.forward_layer).__name__
        inner_config = layer.forward_layer.get_config()
        loop = {**_loop(inner_config), "zero_output_for_mask": bool(inner_config.get("return_sequences", False)),
                "go_backwards": False}
        spec = _proxy(inner, inner_config, units=int(inner_config["units"]), **loop,
                      stateful=bool(inner_config.get("stateful", False)))
        out += _cell_candidates(spec, skip_flags=("time-direction",))
        out += bidirectional_time_direction(inner_config)
        out += state_order(kind, inner, inner_config, has_lstm=inner == "LSTM")
        out += merge_mode(kind, layer.merge_mode)
        out += initial_state_split(inner_config, with_initial_state=with_initial_state)
    elif kind == "RNN":
        cells = list(getattr(layer.cell, "cells", [layer.cell]))
        single = not hasattr(layer.cell, "cells")
        for cell in cells:
            cell_kind = type(cell).__name__.removesuffix("Cell")
            if cell_kind in BASIC:
                cell_config = cell.get_config()
                spec = _proxy(cell_kind, cell_config, units=int(cell_config["units"]), **_loop(config),
                              stateful=bool(config.get("stateful", False)))
                out += _cell_candidates(spec, stack=not single)
        out += state_order(kind, "", config, has_lstm=any(type(c).__name__ == "LSTMCell" for c in cells))
    elif kind in CONV:
        spec = _proxy("LSTM", config, units=int(config["filters"]), **_loop(config),
                      stateful=bool(config.get("stateful", False)))
        out += _cell_candidates(spec)
        out += state_order(kind, "", config, has_lstm=True)
    unique: dict[str, Candidate] = {}
    for candidate in out:
        if candidate.flag == "masking" and not with_mask:
            continue
        if candidate.conventions.cell.initial_state == "zeros" and not with_initial_state:
            continue
        unique.setdefault(candidate.key, candidate)
    return list(unique.values())


#: The wrapper generators, by flag (their docstrings are the flags' symptoms in a composite layer).
WRAPPER_GENERATORS = {"time-direction": bidirectional_time_direction, "state-order": state_order,
                      "merge-mode": merge_mode, "initial-state": initial_state_split}


def merge(parts: tuple[Candidate, ...]) -> LayerConventions | None:
    """The conventions of several faults at once, or None when two touch the same field."""
    merged: dict = {}
    for part in parts:
        diff = part.conventions.differences()
        if set(diff) & set(merged):
            return None
        merged.update(diff)
    return LayerConventions.from_dict(merged)


#: The flag ``precision`` is no convention: harness/check/precision.py tries lower precisions when nothing names a port.
PRECISION_SYMPTOM = """Symptom: small, noise-like error from t=0 at every step (~1e-3 of the values for float16,
    ~1e-2 for bfloat16, ~1e-3 absolute for fixed<16,6>), far above the float32 tolerance, that no catalogue
    cause reproduces at float32; every value the port returns lies on a lower precision's grid (float16,
    fixed<16,6> or bfloat16 are tried, coarsest grid first) and the noise floor measured at that precision
    explains it. The port computes in that precision; a real bug in it is still named, searched at that
    precision. An error of the same size whose values are not on the grid (a constant offset) stays
    unexplained. Fix: declare it (--precision float16) to check the port as closely as that arithmetic can
    match Keras, or compute in float32."""


def flag_doc(flag: str) -> str:
    """The symptom docstring of a flag (a cell flag's, then its form in a composite layer, if any)."""
    docs = []
    probe = CellSpec(kind="GRU", units=2, features=1, go_backwards=True, return_sequences=True, stateful=True)
    for generator in CELL_GENERATORS:
        found = itertools.chain(generator(probe), generator(probe.replace(kind="LSTM")))
        if any(candidate.flag == flag for candidate in found):
            docs.append((generator.__doc__ or "").strip())
            break
    if flag in WRAPPER_GENERATORS:
        docs.append((WRAPPER_GENERATORS[flag].__doc__ or "").strip())
    if docs:
        return "\n".join(docs)
    if flag == "precision":
        return PRECISION_SYMPTOM.strip()
    if flag == "unexplained":
        return "No catalogue cause (single or pair) reproduces the port to the noise floor."
    raise ValueError(f"unknown flag {flag!r}; expected one of {', '.join(FLAGS)}")
