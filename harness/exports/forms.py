"""A named activation written another way, in the exported layer only (``check --export X --export-activation NAME=FORM``).

Models often define a gate as their own function with the same maths as a Keras activation:
Keras 3's ``hard_sigmoid``, ``relu6(x + 3) / 6``, written as ``clip(x/6 + 0.5, 0, 1)``. Keras
computes both alike (to round-off); a converter matches the graph, not the maths. tf2onnx fuses
an LSTM whose recurrent activation has the graph shape ``clip(x*a + b)`` (x first) into an ONNX
``LSTM`` with ``HardSigmoid`` and writes no alpha/beta, so ONNX's defaults 0.2/0.5 replace a/b
(docs/exports.md, discrepancy 1). With a form, each example's exported layer uses the function;
Keras (the truth) and the reference keep the named activation, so what the check reports is what
the converter made of the custom function. SimpleRNN/LSTM/GRU only.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence


def hard_sigmoid_clip(x: Any) -> Any:
    """Keras 3's hard_sigmoid as ``clip(x/6 + 0.5, 0, 1)``: x first, the graph shape tf2onnx fuses."""
    from harness.target.keras_env import import_keras

    return import_keras().ops.clip(x / 6.0 + 0.5, 0.0, 1.0)


def hard_sigmoid_clip_constant_first(x: Any) -> Any:
    """Keras 3's hard_sigmoid as ``clip((1/6)*x + 0.5, 0, 1)``: constant first, which tf2onnx does not fuse."""
    from harness.target.keras_env import import_keras

    return import_keras().ops.clip((1.0 / 6.0) * x + 0.5, 0.0, 1.0)


#: activation name -> form name -> (function, what it computes).
FORMS: dict[str, dict[str, tuple[Callable[[Any], Any], str]]] = {
    "hard_sigmoid": {
        "clip": (hard_sigmoid_clip, "clip(x/6 + 0.5, 0, 1)"),
        "clip-constant-first": (hard_sigmoid_clip_constant_first, "clip((1/6)*x + 0.5, 0, 1)"),
    },
}


def parse_forms(pairs: Sequence[str]) -> dict[str, str]:
    """``["hard_sigmoid=clip"]`` -> ``{"hard_sigmoid": "clip"}``; ValueError (one line) for an unknown one."""
    chosen: dict[str, str] = {}
    for pair in pairs:
        name, sep, form = (p.strip() for p in pair.partition("="))
        known = ", ".join(f"{n}={f}" for n, forms in FORMS.items() for f in forms)
        if not sep or name not in FORMS or form not in FORMS[name]:
            raise ValueError(f"--export-activation {pair!r}: expected one of {known}")
        chosen[name] = form
    return chosen


def functions(chosen: Mapping[str, str]) -> dict[str, Callable[[Any], Any]]:
    return {name: FORMS[name][form][0] for name, form in chosen.items()}
