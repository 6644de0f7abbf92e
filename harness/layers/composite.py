"""Composite layers: Bidirectional, RNN over stacked cells (``StackedRNN``), ConvLSTM1D/2D/3D.

A :class:`CompositeSpec` is a layer spec like :class:`~harness.layers.cell.CellSpec`:
a kind, the Keras layer it builds (a JSON *recipe*, parsed once) and the
per-timestep input shape. Its cells are SimpleRNN/LSTM/GRU cells (a ConvLSTM
cell is an LSTM cell with convolutions). Strategies here draw composite cases
for the sweep (:func:`composite_cases`) and for the port check
(:func:`check_recipes`); recipes are plain JSON, so drawing never touches Keras.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from hypothesis import strategies as st

from reference_cells.conv_lstm import conv_output_shape

COMPOSITE_KINDS = ("Bidirectional", "StackedRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
CONV_RANKS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
MERGE_MODES = ("concat", "sum", "mul", "ave", None)
CELL_KINDS = ("SimpleRNN", "LSTM", "GRU")
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


@dataclass(frozen=True)
class CompositeSpec:
    """One composite layer; ``recipe`` is the sorted-keys JSON that :meth:`build` turns into Keras."""

    kind: str
    recipe: str
    input_shape: tuple[int, ...]  # per timestep: (F,), (W, C), (H, W, C) or (D, H, W, C)
    config: dict = field(init=False, repr=False, compare=False, hash=False)  # ``recipe`` parsed once

    def __post_init__(self) -> None:
        if self.kind not in COMPOSITE_KINDS:
            raise ValueError(f"kind={self.kind!r} is not one of {', '.join(COMPOSITE_KINDS)}")
        object.__setattr__(self, "input_shape", tuple(int(n) for n in self.input_shape))
        try:
            parsed = json.loads(self.recipe)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{self.kind} recipe is not JSON: {exc}") from None
        if parsed.get("kind") != self.kind:
            raise ValueError(f"{self.kind} recipe describes a {parsed.get('kind')!r} layer")
        object.__setattr__(self, "config", parsed)

    # ----------------------------------------------------------------- options
    @property
    def loop(self) -> Mapping[str, Any]:
        """The kwargs that hold the time-loop options (return_sequences, go_backwards...)."""
        c = self.config
        return c.get("inner_kwargs") or c.get("rnn_kwargs") or c.get("kwargs") or {}

    @property
    def return_sequences(self) -> bool:
        return bool(self.loop.get("return_sequences", False))

    @property
    def return_state(self) -> bool:
        return bool(self.loop.get("return_state", False))

    @property
    def go_backwards(self) -> bool:
        return bool(self.loop.get("go_backwards", False))

    @property
    def stateful(self) -> bool:
        return bool(self.loop.get("stateful", False))

    @property
    def unroll(self) -> bool:
        return False

    @property
    def cells(self) -> list[tuple[str, dict[str, Any]]]:
        """``(cell kind, cell kwargs)`` of every cell (a Bidirectional: its inner layer once)."""
        c = self.config
        if self.kind == "Bidirectional":
            return [(c["inner"], c["inner_kwargs"])]
        if self.kind == "StackedRNN":
            return list(zip(c["cells"], c["cell_kwargs"]))
        return [("LSTM", {**c["kwargs"], "units": c["kwargs"]["filters"]})]

    @property
    def units(self) -> int:
        return max(int(kw["units"]) for _, kw in self.cells)

    def activations(self) -> set[str]:
        """Every activation name the layer uses (for the targets' named behaviours)."""
        return {str(kw[k]) for _, kw in self.cells for k in ("activation", "recurrent_activation") if k in kw}

    def state_shapes(self, batch: int) -> list[tuple[int, ...]]:
        """Shapes of ``initial_state`` in Keras order (flat)."""
        c = self.config
        if self.kind == "Bidirectional":
            inner, kw = self.cells[0]
            return [(batch, int(kw["units"]))] * (2 * _STATES[inner])
        if self.kind == "StackedRNN":
            return [(batch, int(kw["units"])) for k, kw in self.cells for _ in range(_STATES[k])]
        kw = c["kwargs"]
        rank = CONV_RANKS[self.kind]
        spatial = conv_output_shape(self.input_shape[:rank], (kw["kernel_size"],) * rank, (kw["strides"],) * rank,
                                    kw["padding"], (1,) * rank)
        return [(batch, *spatial, int(kw["filters"]))] * 2

    def pack_initial_state(self, flat: list) -> list:
        """``initial_state`` as the Keras layer takes it (a stack of cells: one list per cell)."""
        if self.kind != "StackedRNN":
            return list(flat)
        packed, k = [], 0
        for cell, _ in self.cells:
            packed.append(list(flat[k : k + _STATES[cell]]))
            k += _STATES[cell]
        return packed

    def with_loop(self, **options: bool) -> "CompositeSpec":
        """The same layer with other time-loop options (return_sequences, return_state...)."""
        recipe = json.loads(self.recipe)
        key = {"Bidirectional": "inner_kwargs", "StackedRNN": "rnn_kwargs"}.get(self.kind, "kwargs")
        recipe[key] = {**recipe[key], **options}
        return CompositeSpec(kind=self.kind, recipe=json.dumps(recipe, sort_keys=True), input_shape=self.input_shape)

    # ------------------------------------------------------------------ Keras
    def build(self, keras: Any) -> Any:
        """The Keras layer the recipe describes."""
        L, c = keras.layers, self.config
        if self.kind == "Bidirectional":
            return L.Bidirectional(getattr(L, c["inner"])(**c["inner_kwargs"]), merge_mode=c["merge_mode"])
        if self.kind == "StackedRNN":
            cells = [getattr(L, f"{k}Cell")(**kw) for k, kw in zip(c["cells"], c["cell_kwargs"])]
            return L.RNN(cells if len(cells) > 1 else cells[0], **c["rnn_kwargs"])
        return getattr(L, self.kind)(**c["kwargs"])

    # ------------------------------------------------------------------ dicts
    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "recipe": self.recipe, "input_shape": list(self.input_shape)}

    @classmethod
    def from_layer(cls, layer: Any, *, input_shape: tuple[int, ...]) -> "CompositeSpec":
        """The spec of a built Keras layer (e.g. from a saved model): its configs as the recipe."""
        kind = type(layer).__name__
        config = layer.get_config()
        loop = {k: config[k] for k in ("return_sequences", "return_state", "go_backwards", "stateful") if k in config}
        if kind == "Bidirectional":
            inner = layer.forward_layer
            recipe = {"kind": kind, "inner": type(inner).__name__, "inner_kwargs": inner.get_config(),
                      "merge_mode": layer.merge_mode}
        elif kind == "RNN":
            cells = list(getattr(layer.cell, "cells", [layer.cell]))
            kind = "StackedRNN"
            recipe = {"kind": kind, "cells": [type(c).__name__.removesuffix("Cell") for c in cells],
                      "cell_kwargs": [c.get_config() for c in cells], "rnn_kwargs": loop}
        elif kind in CONV_RANKS:
            recipe = {"kind": kind, "kwargs": config}
        else:
            raise ValueError(f"{kind} is not a layer kind the harness knows")
        return cls(kind=kind, recipe=json.dumps(recipe, sort_keys=True, default=str),
                   input_shape=tuple(int(n) for n in input_shape))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CompositeSpec":
        unknown = sorted(set(data) - {"kind", "recipe", "input_shape"})
        if unknown:
            raise ValueError(f"unknown CompositeSpec field(s): {', '.join(unknown)}")
        return cls(kind=data["kind"], recipe=data["recipe"], input_shape=tuple(data["input_shape"]))

    def columns(self) -> dict[str, Any]:
        """Table columns (the loop options every kind has, then the recipe)."""
        return {"layer.kind": self.kind, "layer.units": self.units, "layer.return_sequences": self.return_sequences,
                "layer.return_state": self.return_state, "layer.go_backwards": self.go_backwards,
                "layer.stateful": self.stateful, "layer.recipe": self.recipe, "layer.input_shape": str(self.input_shape)}

    def short_id(self) -> str:
        c = self.config
        if self.kind == "Bidirectional":
            parts = [c["inner"], c["merge_mode"] or "unmerged", f"u{c['inner_kwargs']['units']}"]
        elif self.kind == "StackedRNN":
            parts = ["+".join(f"{k}{kw['units']}" for k, kw in zip(c["cells"], c["cell_kwargs"]))]
        else:
            kw = c["kwargs"]
            parts = [f"f{kw['filters']}", f"k{kw['kernel_size']}", kw["padding"], f"s{kw['strides']}"]
        flags = (("return_sequences", "seq"), ("return_state", "state"), ("go_backwards", "bw"), ("stateful", "stateful"))
        parts += [name for key, name in flags if self.loop.get(key)]
        return "-".join([self.kind, *parts])


def composite_weights(
    variables: list[tuple[tuple[int, ...], str]], rng: np.random.Generator, *, kernel_scale: float, bias_scale: float,
) -> list[np.ndarray]:
    """Random weights per array in ``get_weights()`` order, float32: kernels ``N(0, kernel_scale^2 / fan_in)``,
    biases ``N(0, bias_scale^2)`` (never zero). ``variables`` are the layer's ``(shape, path)`` pairs."""
    weights = []
    for shape, path in variables:
        if "bias" in path:
            weights.append(rng.normal(0.0, bias_scale, shape))
        else:
            fan_in = int(np.prod(shape[:-1]))
            weights.append(rng.normal(0.0, kernel_scale / np.sqrt(fan_in), shape))
    return [w.astype(np.float32) for w in weights]


# ---------------------------------------------------------------- the sweep's draws
_ACT = st.sampled_from(["tanh", "tanh", "sigmoid", "softsign"])
_GATE = st.sampled_from(["sigmoid", "hard_sigmoid", "sigmoid"])


@st.composite
def _rnn_kwargs(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"units": draw(st.integers(1, 6)), "activation": draw(_ACT)}
    if kind != "SimpleRNN":
        kwargs["recurrent_activation"] = draw(_GATE)
    if kind == "GRU":
        kwargs["reset_after"] = draw(st.booleans())
    kwargs["use_bias"] = draw(st.sampled_from([True, True, False]))
    return kwargs


@st.composite
def composite_layers(draw: st.DrawFn, *, kinds: tuple[str, ...] = COMPOSITE_KINDS) -> CompositeSpec:
    """Draw a composite layer for the sweep."""
    kind = draw(st.sampled_from(kinds))
    seq, state = draw(st.booleans()), draw(st.booleans())
    recipe: dict[str, Any] = {"kind": kind}
    if kind == "Bidirectional":
        inner = draw(st.sampled_from(CELL_KINDS))
        recipe.update(inner=inner, inner_kwargs={**draw(_rnn_kwargs(inner)), "return_sequences": seq, "return_state": state},
                      merge_mode=draw(st.sampled_from(MERGE_MODES)))
        shape: tuple[int, ...] = (draw(st.integers(1, 5)),)
    elif kind == "StackedRNN":
        cells = draw(st.lists(st.sampled_from(CELL_KINDS), min_size=1, max_size=3))
        recipe.update(cells=cells, cell_kwargs=[draw(_rnn_kwargs(k)) for k in cells],
                      rnn_kwargs={"return_sequences": seq, "return_state": state, "go_backwards": draw(st.booleans())})
        shape = (draw(st.integers(1, 5)),)
    else:
        rank = CONV_RANKS[kind]
        padding = draw(st.sampled_from(["valid", "same"]))
        kernel = draw(st.integers(1, 3))
        recipe["kwargs"] = {"filters": draw(st.integers(1, 3)), "kernel_size": kernel, "padding": padding,
                            "strides": draw(st.integers(1, 2)) if padding == "valid" else 1,
                            "return_sequences": seq, "return_state": state, "recurrent_activation": draw(_GATE)}
        side = draw(st.integers(max(3, kernel), 6 if rank < 3 else 4))
        shape = (*(side,) * rank, draw(st.integers(1, 3)))
    return CompositeSpec(kind=kind, recipe=json.dumps(recipe, sort_keys=True), input_shape=shape)


# ---------------------------------------------------------------- the port check's draws
_CHECK_ACTIVATIONS = ("tanh", "tanh", "sigmoid", "softsign")
_CHECK_GATES = ("sigmoid", "hard_sigmoid")
#: Options ``--set`` may fix per composite kind (besides the data options of a case).
_COMMON = ("return_sequences", "return_state", "activation", "recurrent_activation", "use_bias", "units", "features")
OPTIONS = {
    "Bidirectional": (*_COMMON, "inner", "merge_mode", "reset_after", "stateful"),
    "StackedRNN": (*_COMMON, "cells", "go_backwards", "reset_after", "stateful"),
    **{kind: (*_COMMON, "filters", "kernel_size", "padding", "strides", "side", "go_backwards", "stateful")
       for kind in CONV_RANKS},
}


@st.composite
def check_layers(draw: st.DrawFn, kind: str, fixed: Mapping[str, Any], max_units: int) -> CompositeSpec:
    """A layer for the port check: options in ``fixed`` stay fixed, the rest are drawn."""

    def pick(name: str, strategy: st.SearchStrategy) -> Any:
        return fixed[name] if name in fixed else draw(strategy)

    seq, state = pick("return_sequences", st.booleans()), pick("return_state", st.booleans())
    units = pick("units", st.integers(1, max_units if kind in ("Bidirectional", "StackedRNN") else min(max_units, 4)))
    activation = pick("activation", st.sampled_from(_CHECK_ACTIVATIONS))
    gate = pick("recurrent_activation", st.sampled_from(_CHECK_GATES))
    use_bias = pick("use_bias", st.sampled_from([True, True, False]))

    def cell(cell_kind: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"units": units, "activation": activation, "use_bias": use_bias}
        if cell_kind != "SimpleRNN":
            kwargs["recurrent_activation"] = gate
        if cell_kind == "GRU":
            kwargs["reset_after"] = pick("reset_after", st.booleans())
        return kwargs

    recipe: dict[str, Any] = {"kind": kind}
    if kind == "Bidirectional":
        inner = pick("inner", st.sampled_from(CELL_KINDS))
        recipe.update(inner=inner, inner_kwargs={**cell(inner), "return_sequences": seq, "return_state": state},
                      merge_mode=pick("merge_mode", st.sampled_from(MERGE_MODES)))
        shape: tuple[int, ...] = (pick("features", st.integers(1, 5)),)
    elif kind == "StackedRNN":
        cells = list(pick("cells", st.lists(st.sampled_from(CELL_KINDS), min_size=2, max_size=3)))
        recipe.update(cells=cells, cell_kwargs=[cell(k) for k in cells],
                      rnn_kwargs={"return_sequences": seq, "return_state": state,
                                  "go_backwards": pick("go_backwards", st.booleans())})
        shape = (pick("features", st.integers(1, 5)),)
    else:
        rank = CONV_RANKS[kind]
        padding = pick("padding", st.sampled_from(["valid", "same"]))
        kernel = pick("kernel_size", st.integers(1, 3))
        strides = pick("strides", st.integers(1, 2) if padding == "valid" else st.just(1))
        recipe["kwargs"] = {"filters": units, "kernel_size": kernel, "padding": padding, "strides": strides,
                            "activation": activation, "recurrent_activation": gate, "use_bias": use_bias,
                            "return_sequences": seq, "return_state": state,
                            "go_backwards": pick("go_backwards", st.booleans())}
        low = max(3, kernel)
        side = pick("side", st.integers(low, max(low, 5 if rank < 3 else 4)))
        shape = (*(side,) * rank, pick("features", st.integers(1, 3)))
    # Drawn last, so the draws above stay those of a check without stateful layers. A stateful
    # layer is fed in consecutive calls (chunks) and must carry its states from call to call.
    loop_key = {"Bidirectional": "inner_kwargs", "StackedRNN": "rnn_kwargs"}.get(kind, "kwargs")
    if pick("stateful", st.sampled_from([False, False, True])):
        recipe[loop_key]["stateful"] = True
    return CompositeSpec(kind=kind, recipe=json.dumps(recipe, sort_keys=True), input_shape=shape)


def validate_options(kind: str, fixed: Mapping[str, Any]) -> None:
    """Refuse bad fixed options for a composite kind early, naming the option."""
    from reference_cells import activations

    if "inner" in fixed and fixed["inner"] not in CELL_KINDS:
        raise ValueError(f"inner={fixed['inner']!r} is not one of {', '.join(CELL_KINDS)}")
    if "cells" in fixed and (not fixed["cells"] or any(c not in CELL_KINDS for c in fixed["cells"])):
        raise ValueError(f"cells={fixed['cells']!r}: expected a non-empty list of {', '.join(CELL_KINDS)}")
    if "merge_mode" in fixed and fixed["merge_mode"] not in MERGE_MODES:
        raise ValueError(f"merge_mode={fixed['merge_mode']!r} is not one of {MERGE_MODES}")
    for name in ("units", "features", "kernel_size", "strides", "side"):
        value = fixed.get(name, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name in ("return_sequences", "return_state", "use_bias", "reset_after", "go_backwards", "stateful"):
        if not isinstance(fixed.get(name, False), bool):
            raise ValueError(f"{name} must be true or false, got {fixed[name]!r}")
    if fixed.get("padding", "valid") not in ("valid", "same"):
        raise ValueError(f"padding={fixed['padding']!r} is not one of valid, same")
    if fixed.get("side", 99) < fixed.get("kernel_size", 1) and fixed.get("padding") == "valid":
        raise ValueError(f"side={fixed['side']} is smaller than kernel_size={fixed['kernel_size']} with padding='valid'")
    for name in ("activation", "recurrent_activation"):
        if name in fixed:
            activations.get(fixed[name])  # a ValueError naming the activation
