"""The rest of the recurrent family in the sweep: Bidirectional, RNN over stacked cells, ConvLSTM1D/2D/3D.

A :class:`FamilySpec` carries the Keras layer itself (its serialized config),
the per-step input shape and the data options; the reference is found from
the built layer (:func:`harness.layer_references.reference_for`) and the
tolerance from :func:`harness.tolerance.measure_floor_of`. Weights are random
per array (never constant), biases non-zero.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from hypothesis import strategies as st

from harness.case import make_mask
from harness.compare import compare, error_result, summarize
from harness.backends import ArgSpec, compile_layer_call
from harness.keras_env import import_keras
from harness.known_behaviours import explain_error, explain_family_drift
from harness.layer_conventions import LayerConventions
from harness.lru import LRUCache
from harness.layer_references import reference_for
from harness.parity import CaseOutcome
from harness.tolerance import measure_floor_of

#: ConvLSTM3D is cheap enough: 5.7 cases/s against 8.4 for ConvLSTM2D on the same 40 drawn
#: recipes (one more spatial axis of side <= 4; measured in the README's status section).
FAMILY_KINDS = ("Bidirectional", "StackedRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
_CONV_RANKS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}
TOKEN_PREFIX = "F"
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@dataclass(frozen=True)
class FamilySpec:
    """One case of a family layer; ``layer`` is a JSON recipe that :func:`build_layer` builds."""

    kind: str
    layer: str  # JSON recipe of the layer (see build_layer), sorted keys
    input_shape: tuple[int, ...]  # per timestep, e.g. (F,) or (W, C) or (H, W, C)
    batch: int = 2
    timesteps: int = 8
    mask: str = "none"
    weight_scale: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAMILY_KINDS:
            raise ValueError(f"kind={self.kind!r} is not one of {', '.join(FAMILY_KINDS)}")
        if self.batch < 1 or self.timesteps < 1:
            raise ValueError("batch and timesteps must be >= 1")
        if self.mask not in ("none", "mixed"):
            raise ValueError(f"mask={self.mask!r} is not one of none, mixed")

    @property
    def config(self) -> dict[str, Any]:
        return json.loads(self.layer)

    def short_id(self) -> str:
        recipe = self.config
        if self.kind == "Bidirectional":
            flags = recipe["inner_kwargs"]
            parts = [recipe["inner"], str(recipe["merge_mode"]), f"u{flags['units']}"]
        elif self.kind == "StackedRNN":
            flags = recipe["rnn_kwargs"]
            parts = ["+".join(f"{k}{kw['units']}" for k, kw in zip(recipe["cells"], recipe["cell_kwargs"]))]
        else:
            flags = recipe["kwargs"]
            parts = [f"f{flags['filters']}", f"k{flags['kernel_size']}", flags["padding"], f"s{flags['strides']}"]
        parts += [name for key, name in (("return_sequences", "seq"), ("return_state", "state"), ("go_backwards", "bw"))
                  if flags.get(key)]
        return "-".join([self.kind, *parts])

    def case_id(self) -> str:
        mask = "-mask" if self.mask != "none" else ""
        return f"{self.short_id()}-B{self.batch}-T{self.timesteps}{mask}-s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["input_shape"] = list(self.input_shape)
        return data

    def token(self) -> str:
        raw = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return TOKEN_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> "FamilySpec":
        try:
            body = token[len(TOKEN_PREFIX):]
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
            data["input_shape"] = tuple(data["input_shape"])
            return cls(**data)
        except Exception as exc:  # noqa: BLE001
            raise ValueError(f"not a valid case token ({type(exc).__name__}); copy it whole from the failure message") from None

    def replay_command(self) -> str:
        return f"rnn-parity replay {self.token()}"

    def describe(self) -> str:
        return (f"batch={self.batch} timesteps={self.timesteps} input_shape={self.input_shape} mask={self.mask} "
                f"weight_scale={self.weight_scale:g} seed={self.seed}")

    def arrays(self, variables: list[tuple[tuple[int, ...], str]]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
        """Random weights (per array; biases non-zero), inputs and mask, from ``seed``.

        ``variables`` are the layer's ``(shape, path)`` pairs in ``get_weights()`` order."""
        rng = np.random.default_rng(self.seed)
        weights = []
        for shape, path in variables:
            if "bias" in path:
                weights.append(rng.normal(0.0, 0.5, shape))
            else:
                fan_in = int(np.prod(shape[:-1]))
                weights.append(rng.normal(0.0, self.weight_scale / np.sqrt(fan_in), shape))
        x = rng.standard_normal((self.batch, self.timesteps, *self.input_shape))
        mask = make_mask(self.batch, self.timesteps, rng) if self.mask == "mixed" else None
        return [w.astype(np.float32) for w in weights], x.astype(np.float32), mask


class FamilyRunner:
    """Builds each family layer once per (layer, input shape) and reuses its trace."""

    def __init__(self, *, cache_size: int = 32) -> None:
        self._keras = import_keras()
        self._cache: LRUCache[tuple[Any, dict]] = LRUCache(size=cache_size)

    def layer(self, spec: FamilySpec) -> tuple[Any, dict]:
        def build() -> tuple[Any, dict]:
            layer = build_layer(spec.config)
            layer.build((None, None, *spec.input_shape))
            return layer, {}

        return self._cache.get((spec.layer, spec.input_shape), build)

    def call(self, spec: FamilySpec, x: np.ndarray, mask: np.ndarray | None) -> Any:
        layer, calls = self.layer(spec)
        has_mask = mask is not None
        fn = calls.get(has_mask)
        if fn is None:
            signature = [ArgSpec((None, None, *spec.input_shape), "float32")]
            if has_mask:
                signature.append(ArgSpec((None, None), "bool"))
            fn = calls[has_mask] = compile_layer_call(  # the target's compile step (harness/backends.py)
                layer, signature=signature,
                split=lambda args: ((args[0],), {"mask": args[1] if len(args) > 1 else None, "training": False}))
        return fn(x, mask) if has_mask else fn(x)


def check_family(spec: FamilySpec, runner: FamilyRunner) -> CaseOutcome:
    """Keras against the reference for one family case; problems become an ``error`` result."""
    from harness.targets import active

    case_id = spec.case_id()
    try:
        layer, _ = runner.layer(spec)
        ref = reference_for(layer)
        if ref is None:
            raise ValueError(f"no reference for {spec.kind}")
        weights, x, mask = spec.arrays([(tuple(v.shape), getattr(v, "path", None) or v.name) for v in layer.weights])
        layer.set_weights(weights)
        reference, noise = measure_floor_of(
            lambda w, xx, d: ref.named(ref.run(w, xx, mask, d), timesteps=spec.timesteps),
            weights=weights, x=x, seed=spec.seed)
        keras_out = ref.named(runner.call(spec, x, mask), timesteps=spec.timesteps)
        records = compare(case_id, spec.kind, keras_out, reference, noise)
    except Exception as exc:  # noqa: BLE001 - one broken case never kills a sweep
        return CaseOutcome(spec, explain_error(error_result(case_id, spec.kind, f"{type(exc).__name__}: {exc}"),
                                               active().name, spec), [])

    def rerun(renames, conventions):  # the same Keras output against a reference with a named behaviour
        alt = reference_for(layer, renames=renames, conventions=LayerConventions(cell=conventions))
        alt_ref, alt_noise = measure_floor_of(
            lambda w, xx, d: alt.named(alt.run(w, xx, mask, d), timesteps=spec.timesteps),
            weights=weights, x=x, seed=spec.seed)
        return summarize(case_id, spec.kind, compare(case_id, spec.kind, keras_out, alt_ref, alt_noise), alt_noise)

    result = explain_family_drift(summarize(case_id, spec.kind, records, noise), spec, rerun, active().name)
    return CaseOutcome(spec, result, records)


# ---------------------------------------------------------------- strategies
_ACT = st.sampled_from(["tanh", "tanh", "sigmoid", "softsign"])
_GATE = st.sampled_from(["sigmoid", "hard_sigmoid", "sigmoid"])


def build_layer(recipe: Mapping[str, Any]) -> Any:
    """The Keras layer a recipe describes (recipes are plain JSON: strategies never touch Keras)."""
    keras = import_keras()
    L = keras.layers
    kind = recipe["family"]
    if kind == "Bidirectional":
        inner = getattr(L, recipe["inner"])(**recipe["inner_kwargs"])
        return L.Bidirectional(inner, merge_mode=recipe["merge_mode"])
    if kind == "StackedRNN":
        cells = [getattr(L, f"{k}Cell")(**kw) for k, kw in zip(recipe["cells"], recipe["cell_kwargs"])]
        return L.RNN(cells if len(cells) > 1 else cells[0], **recipe["rnn_kwargs"])
    return getattr(L, kind)(**recipe["kwargs"])


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
def family_specs(draw: st.DrawFn, *, kinds: tuple[str, ...] = FAMILY_KINDS, max_timesteps: int = 16) -> FamilySpec:
    """Draw a Bidirectional / stacked-cells / ConvLSTM case."""
    kind = draw(st.sampled_from(kinds))
    seq, state = draw(st.booleans()), draw(st.booleans())
    recipe: dict[str, Any] = {"family": kind}
    if kind == "Bidirectional":
        inner = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
        recipe.update(inner=inner, inner_kwargs={**draw(_rnn_kwargs(inner)), "return_sequences": seq, "return_state": state},
                      merge_mode=draw(st.sampled_from(MERGE_MODES)))
        shape: tuple[int, ...] = (draw(st.integers(1, 5)),)
    elif kind == "StackedRNN":
        cells = draw(st.lists(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]), min_size=1, max_size=3))
        recipe.update(cells=cells, cell_kwargs=[draw(_rnn_kwargs(k)) for k in cells],
                      rnn_kwargs={"return_sequences": seq, "return_state": state, "go_backwards": draw(st.booleans())})
        shape = (draw(st.integers(1, 5)),)
    else:
        rank = _CONV_RANKS[kind]
        padding = draw(st.sampled_from(["valid", "same"]))
        kernel = draw(st.integers(1, 3))
        recipe["kwargs"] = {"filters": draw(st.integers(1, 3)), "kernel_size": kernel, "padding": padding,
                            "strides": draw(st.integers(1, 2)) if padding == "valid" else 1,
                            "return_sequences": seq, "return_state": state, "recurrent_activation": draw(_GATE)}
        side = draw(st.integers(max(3, kernel), 6 if rank < 3 else 4))
        shape = (*(side,) * rank, draw(st.integers(1, 3)))
    return FamilySpec(
        kind=kind,
        layer=json.dumps(recipe, sort_keys=True),
        input_shape=shape,
        batch=draw(st.integers(1, 3)),
        timesteps=draw(st.integers(1, max_timesteps)),
        mask=draw(st.sampled_from(["mixed", "none"])),
        weight_scale=draw(st.sampled_from([1.0, 0.5, 2.0])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def family_columns(spec: FamilySpec) -> Mapping[str, Any]:
    """Config columns for the per-case table."""
    return {"layer.kind": spec.kind, "layer.config": spec.layer, "input_shape": str(spec.input_shape),
            "batch": spec.batch, "timesteps": spec.timesteps, "mask": spec.mask, "weight_scale": spec.weight_scale,
            "seed": spec.seed}
