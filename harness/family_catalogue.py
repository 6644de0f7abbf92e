"""Named causes for ports of Bidirectional, RNN over cells and ConvLSTM layers.

Two kinds of candidates, all :class:`~harness.catalogue.Candidate` values whose
conventions are :class:`~harness.layer_conventions.LayerConventions`:

* the cell flags of :mod:`harness.catalogue` (``gate-order``, ``activation``,
  ``bias``, ``gru-update-convention``, ``initial-state``, ``masking`` ...)
  applied inside the family layer: to both halves of a Bidirectional, to every
  cell of a stack, to the ConvLSTM cell (an LSTM cell with convolutions, same
  gate blocks ``i,f,c,o``);
* wrapper flags: ``time-direction`` for a Bidirectional's backward half,
  ``state-order`` and ``merge-mode``.

For a stack of cells the loop faults are offered except the two
:func:`reference_cells.stacked.run_stacked_cells` cannot simulate (the JAX
masked-output rule, stateful carry).
"""

from __future__ import annotations

from typing import Any, Iterator

from harness.catalogue import FAMILIES, Candidate
from harness.layer_conventions import LayerConventions
from harness.layer_references import BASIC, CONV
from harness.spec import LayerSpec
from reference_cells import Conventions

#: Loop conventions a stack of cells cannot simulate (see reference_cells/stacked.py).
UNSIMULATED_STACK_LOOP = {"mask": "state", "state_carry": "reset"}


def _proxy(kind: str, config: dict[str, Any], *, units: int, **loop: Any) -> LayerSpec:
    """A LayerSpec with the cell options of ``config``: what the cell flags are generated from."""
    activation = str(config.get("activation", "tanh"))
    recurrent = config.get("recurrent_activation", "sigmoid") if kind != "SimpleRNN" else None
    return LayerSpec(kind=kind, units=units, features=1, activation=activation,
                     recurrent_activation=recurrent, use_bias=bool(config.get("use_bias", True)),
                     reset_after=bool(config.get("reset_after", True)), **loop)


def _loop(config: dict[str, Any]) -> dict[str, bool]:
    return {k: bool(config.get(k, False)) for k in ("return_sequences", "return_state", "go_backwards",
                                                      "zero_output_for_mask")}


def _wrap(candidate: Candidate) -> Candidate:
    return Candidate(candidate.flag, LayerConventions(cell=candidate.conventions), candidate.detail, candidate.fix)


def _cell_candidates(spec: LayerSpec, *, stack: bool = False, skip_flags: tuple[str, ...] = ()) -> Iterator[Candidate]:
    for family in FAMILIES:
        for candidate in family(spec):
            if candidate.flag in skip_flags:
                continue
            diff = candidate.conventions.differences()
            if stack and any(diff.get(k) == v for k, v in UNSIMULATED_STACK_LOOP.items()):
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


def layer_candidates(layer: Any, *, with_mask: bool, with_initial_state: bool = False) -> list[Candidate]:
    """Every single-fault candidate for a built Keras family layer (deduplicated)."""
    kind = type(layer).__name__
    config = layer.get_config()
    out: list[Candidate] = []
    if kind == "Bidirectional":
        inner = type(layer.forward_layer).__name__
        inner_config = layer.forward_layer.get_config()
        loop = {**_loop(inner_config), "zero_output_for_mask": bool(inner_config.get("return_sequences", False)),
                "go_backwards": False}
        spec = _proxy(inner, inner_config, units=int(inner_config["units"]), **loop)
        out += _cell_candidates(spec, skip_flags=("time-direction",))
        out += bidirectional_time_direction(inner_config)
        out += state_order(kind, inner, inner_config, has_lstm=inner == "LSTM")
        out += merge_mode(kind, layer.merge_mode)
    elif kind == "RNN":
        cells = list(getattr(layer.cell, "cells", [layer.cell]))
        single = not hasattr(layer.cell, "cells")
        for cell in cells:
            cell_kind = type(cell).__name__.removesuffix("Cell")
            if cell_kind in BASIC:
                cell_config = cell.get_config()
                spec = _proxy(cell_kind, cell_config, units=int(cell_config["units"]), **_loop(config))
                out += _cell_candidates(spec, stack=not single)
        out += state_order(kind, "", config, has_lstm=any(type(c).__name__ == "LSTMCell" for c in cells))
    elif kind in CONV:
        spec = _proxy("LSTM", config, units=int(config["filters"]), **_loop(config))
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


def family_flag_docs() -> dict[str, str]:
    """The symptom docstrings of the wrapper flags (``time-direction``: its Bidirectional form)."""
    return {"state-order": (state_order.__doc__ or "").strip(), "merge-mode": (merge_mode.__doc__ or "").strip(),
            "time-direction": (bidirectional_time_direction.__doc__ or "").strip()}
