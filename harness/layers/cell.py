"""``CellSpec``: one recurrent layer's kind and every inference option.

A spec converts to and from the Keras layer config (``layer.get_config()``)
and to and from a plain dict (for replay tokens and record files).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from reference_cells import activations
from reference_cells.layer_config import ACTIVATION_ALIASES, CELL_KINDS, activation_name

#: Keras config keys that do not change inference numbers (initialisers,
#: regularisers, constraints, naming, seeds) and are dropped when parsing.
INFERENCE_NEUTRAL_KEYS = frozenset(
    {
        "name",
        "trainable",
        "dtype",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "seed",
        "implementation",
        "use_cudnn",
    }
)


@dataclass(frozen=True)
class CellSpec:
    """A SimpleRNN, LSTM or GRU layer as the harness builds it.

    ``recurrent_activation`` is ``None`` for SimpleRNN; ``reset_after`` only
    matters for GRU. ``dropout``/``recurrent_dropout`` have no effect at
    inference, but ``recurrent_dropout > 0`` makes Keras take its
    implementation-1 code path, so it is worth exercising.
    """

    kind: str
    units: int
    features: int
    activation: str = "tanh"
    recurrent_activation: str | None = "sigmoid"
    use_bias: bool = True
    reset_after: bool = True
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in CELL_KINDS:
            raise ValueError(f"kind={self.kind!r} is not one of {', '.join(CELL_KINDS)}")
        for name in ("units", "features"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        # Keras serialises aliases under one name (swish -> silu); keep the spec canonical.
        object.__setattr__(self, "activation", ACTIVATION_ALIASES.get(self.activation, self.activation))
        if self.recurrent_activation is not None:
            object.__setattr__(
                self, "recurrent_activation", ACTIVATION_ALIASES.get(self.recurrent_activation, self.recurrent_activation)
            )
        activations.get(self.activation)  # raises a ValueError naming the activation
        if self.kind == "SimpleRNN":
            if self.recurrent_activation is not None:
                object.__setattr__(self, "recurrent_activation", None)
        else:
            if self.recurrent_activation is None:
                raise ValueError(f"{self.kind} needs a recurrent_activation")
            activations.get(self.recurrent_activation)
        if self.kind != "GRU" and not self.reset_after:
            object.__setattr__(self, "reset_after", True)  # meaningless outside GRU; keep one canonical value
        for name in ("dropout", "recurrent_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")

    # ----------------------------------------------------------------- Keras
    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per timestep: ``(features,)``."""
        return (self.features,)

    def build(self, keras: Any) -> Any:
        """The Keras layer."""
        return getattr(keras.layers, self.kind)(**self.to_keras_config())

    def activations(self) -> set[str]:
        """Every activation name the layer uses (for the targets' named behaviours)."""
        return {a for a in (self.activation, self.recurrent_activation) if a is not None}

    def pack_initial_state(self, flat: list) -> list:
        return list(flat)

    def columns(self) -> dict[str, Any]:
        """Table columns: every option."""
        return {f"layer.{k}": v for k, v in self.to_dict().items()}

    def to_keras_config(self) -> dict[str, Any]:
        """Keyword arguments for ``keras.layers.<kind>(**config)``."""
        config: dict[str, Any] = {
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }
        if self.kind != "SimpleRNN":
            config["recurrent_activation"] = self.recurrent_activation
        if self.kind == "GRU":
            config["reset_after"] = self.reset_after
        return config

    @classmethod
    def from_keras_config(cls, kind: str, config: Mapping[str, Any], *, features: int) -> "CellSpec":
        """Parse a Keras layer config; unknown inference-relevant keys are an error."""
        own = {f.name for f in dataclasses.fields(cls)} - {"kind", "features"}
        unknown = sorted(set(config) - own - INFERENCE_NEUTRAL_KEYS)
        if unknown:
            raise ValueError(
                f"{kind} config has key(s) the harness does not know: {', '.join(unknown)}; "
                "remove them or check they do not change inference"
            )
        kwargs = {k: v for k, v in config.items() if k in own}
        for key in ("activation", "recurrent_activation"):
            if key in kwargs:
                kwargs[key] = activation_name(kwargs[key])
        return cls(kind=kind, features=features, **kwargs)

    # ------------------------------------------------------------------ dicts
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CellSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown CellSpec field(s): {', '.join(unknown)}")
        return cls(**dict(data))

    def replace(self, **changes: Any) -> "CellSpec":
        return dataclasses.replace(self, **changes)

    def with_loop(self, **options: bool) -> "CellSpec":
        """The same layer with other time-loop options (return_sequences, return_state...)."""
        return dataclasses.replace(self, **options)

    # --------------------------------------------------------------- display
    def short_id(self) -> str:
        """A readable id, e.g. ``LSTM-u8-f3-tanh/hard_sigmoid-seq-state-bw``."""
        acts = self.activation if self.recurrent_activation is None else f"{self.activation}/{self.recurrent_activation}"
        parts = [self.kind, f"u{self.units}", f"f{self.features}", acts]
        flags = {
            "nobias": not self.use_bias,
            "rbefore": self.kind == "GRU" and not self.reset_after,
            "seq": self.return_sequences,
            "state": self.return_state,
            "bw": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zmask": self.zero_output_for_mask,
            "drop": self.dropout > 0,
            "rdrop": self.recurrent_dropout > 0,
        }
        parts += [name for name, on in flags.items() if on]
        return "-".join(parts)
