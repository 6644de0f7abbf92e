"""The catalogue of named causes: each flag, its symptom, and the conventions that reproduce it.

A flag names a family of port bugs. Each family is a set of *candidates*: a
:class:`~reference_cells.Conventions` value (the reference run the way the
buggy port runs) with a one-sentence detail and fix. The diagnosis runs the
reference under each candidate and names a flag only when a candidate
reproduces the port's outputs to the noise floor on every example.

Flag names are shared by the CLI, the JSON, the drift reports and the docs.
Ports of Bidirectional, RNN over cells and ConvLSTM layers get these flags
applied inside the layer, plus ``state-order`` and ``merge-mode``
(:mod:`harness.family_catalogue`).
Per-timestep signatures are from ``../shared/keras-rnn-semantics.md`` §7.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Iterator

from harness.spec import LayerSpec
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
    conventions: Conventions  # or a LayerConventions for a family layer (same interface)
    detail: str  # what the port does, in one sentence
    fix: str  # what to change, in one sentence

    @property
    def key(self) -> str:
        return self.conventions.describe()


def _formula(name: str) -> str:
    return _ACTIVATION_FORMULAS.get(name, name)


def gate_order(spec: LayerSpec) -> Iterator[Candidate]:
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


def activation(spec: LayerSpec) -> Iterator[Candidate]:
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


def initial_state(spec: LayerSpec) -> Iterator[Candidate]:
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


def gru_update(spec: LayerSpec) -> Iterator[Candidate]:
    """Symptom: O(1) error from t=0 that persists (with h0=0 the port gives z*hh
    instead of (1-z)*hh)."""
    if spec.kind == "GRU":
        yield Candidate(
            "gru-update-convention",
            Conventions(gru_update="swapped"),
            "your port updates h = (1-z)*h_prev + z*hh; Keras uses h = z*h_prev + (1-z)*hh",
            "use h = z*h_prev + (1-z)*hh",
        )


def gru_reset(spec: LayerSpec) -> Iterator[Candidate]:
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


def bias(spec: LayerSpec) -> Iterator[Candidate]:
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


def kernel_layout(spec: LayerSpec) -> Iterator[Candidate]:
    """Symptom: exactly zero error at t=0 when h0=0, then O(1): each gate's recurrent
    kernel transposed (PyTorch (4H, H) layout not transposed back)."""
    if spec.units > 1:
        yield Candidate(
            "kernel-layout",
            Conventions(kernel_layout="recurrent-transposed"),
            "your port uses each gate's recurrent kernel transposed (R_g.T); Keras computes h @ R_g with R (units, gates*units)",
            "compute h @ R (input-major, no transpose)",
        )


def time_direction(spec: LayerSpec) -> Iterator[Candidate]:
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


def masking(spec: LayerSpec) -> Iterator[Candidate]:
    """Symptom: exactly zero before the first padded step, O(1) after (mask ignored);
    or errors only at masked positions (wrong masked-step output)."""
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
    yield Candidate(
        "masking",
        Conventions(mask="state"),
        "your port outputs h_{t-1} at masked steps (JAX rule); Keras on TF outputs the previous emitted output, 0 before any",
        "before the first valid step output 0, not the initial state",
    )


FAMILIES: tuple[Callable[[LayerSpec], Iterator[Candidate]], ...] = (
    gate_order, activation, initial_state, gru_update, gru_reset, bias, kernel_layout, time_direction, masking,
)

#: Flags whose candidates need a feature the port must accept to be visible.
NEEDS = {"masking": "mask"}


def candidates(spec: LayerSpec, *, with_mask: bool, with_initial_state: bool) -> list[Candidate]:
    """Every single-fault candidate that applies to ``spec`` and the exercised features."""
    out = []
    for family in FAMILIES:
        for candidate in family(spec):
            if candidate.flag == "masking" and not with_mask:
                continue
            if candidate.conventions.initial_state == "zeros" and not with_initial_state:
                continue
            out.append(candidate)
    return out


def merge(parts: tuple[Candidate, ...]) -> Conventions | None:
    """The conventions of several faults at once, or None when two touch the same field."""
    merged: dict = {}
    for part in parts:
        diff = part.conventions.differences()
        if set(diff) & set(merged):
            return None
        merged.update(diff)
    # Cell faults are Conventions; faults of a whole family layer are LayerConventions.
    return type(parts[0].conventions).from_dict(merged)


def flag_doc(flag: str) -> str:
    """The symptom docstring of a flag (a cell flag's, then its form in a family layer, if any)."""
    from harness.family_catalogue import family_flag_docs  # imports this module

    docs = []
    probe = LayerSpec(kind="GRU", units=2, features=1, go_backwards=True, return_sequences=True, stateful=True)
    for family in FAMILIES:
        candidates_ = itertools.chain(family(probe), family(probe.replace(kind="LSTM")))
        if any(candidate.flag == flag for candidate in candidates_):
            docs.append((family.__doc__ or "").strip())
            break
    if flag in family_flag_docs():
        docs.append(family_flag_docs()[flag])
    if docs:
        return "\n".join(docs)
    if flag == "unexplained":
        return "No catalogue cause (single or pair) reproduces the port to the noise floor."
    raise ValueError(f"unknown flag {flag!r}; expected one of {', '.join(FLAGS)}")
