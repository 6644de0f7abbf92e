"""The subset of a Keras layer config that the reference needs, parsed once.

The reference takes the same ``config`` dict that Keras ``layer.get_config()``
returns (the port protocol hands ports that dict too), so a case is described
one way everywhere. Missing keys take Keras 3's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

CELL_KINDS = ("SimpleRNN", "LSTM", "GRU")

# Keras 3 defaults (simple_rnn.py, lstm.py, gru.py, rnn.py constructors).
_DEFAULT_RECURRENT_ACTIVATION = {"SimpleRNN": None, "LSTM": "sigmoid", "GRU": "sigmoid", "ConvLSTM": "sigmoid"}
#: Where each kind keeps its state width (ConvLSTM layers call it ``filters``).
_UNITS_KEY = {"SimpleRNN": "units", "LSTM": "units", "GRU": "units", "ConvLSTM": "filters"}


#: Names Keras accepts that it serialises under another name (keras.activations.serialize).
ACTIVATION_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def activation_name(value: Any) -> str | None:
    """The activation's canonical name from a config value.

    Accepts a name, ``None`` (linear), or a serialized object: an ``Activation``
    layer (``{"class_name": "Activation", "config": {"activation": "tanh", ...}}``)
    or a serialized function (``{"class_name": "function", "config": "tanh"}``,
    older files: ``"config": {"name": "tanh"}``).
    """
    if isinstance(value, Mapping):
        inner = value.get("config")
        if isinstance(inner, Mapping):
            value = inner.get("activation", inner.get("name"))
            if isinstance(value, Mapping):
                return activation_name(value)
        elif isinstance(inner, str):
            value = inner
        else:
            raise ValueError(f"cannot read an activation from {value!r}")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"activation must be a name, got {value!r}")
    return ACTIVATION_ALIASES.get(value, value)


@dataclass(frozen=True)
class LayerOptions:
    """Inference-relevant options of a SimpleRNN/LSTM/GRU layer."""

    kind: str
    units: int
    activation: str | None = "tanh"
    recurrent_activation: str | None = None
    use_bias: bool = True
    reset_after: bool = True
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False
    unroll: bool = False
    zero_output_for_mask: bool = False

    @classmethod
    def from_config(cls, kind: str, config: Mapping[str, Any]) -> "LayerOptions":
        if kind not in _UNITS_KEY:
            raise ValueError(f"unknown cell kind {kind!r}; expected one of {', '.join(_UNITS_KEY)}")
        key = _UNITS_KEY[kind]
        if key not in config:
            raise ValueError(f"{kind} config has no {key!r}")
        units = int(config[key])
        if units < 1:
            raise ValueError(f"{key} must be >= 1, got {units}")

        def act(key: str, default: str | None) -> str | None:
            return activation_name(config.get(key, default))

        return cls(
            kind=kind,
            units=units,
            activation=act("activation", "tanh"),
            recurrent_activation=act("recurrent_activation", _DEFAULT_RECURRENT_ACTIVATION[kind]),
            use_bias=bool(config.get("use_bias", True)),
            reset_after=bool(config.get("reset_after", True)),
            return_sequences=bool(config.get("return_sequences", False)),
            return_state=bool(config.get("return_state", False)),
            go_backwards=bool(config.get("go_backwards", False)),
            stateful=bool(config.get("stateful", False)),
            unroll=bool(config.get("unroll", False)),
            zero_output_for_mask=bool(config.get("zero_output_for_mask", False)),
        )
