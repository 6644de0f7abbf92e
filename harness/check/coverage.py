"""Coverage by design: every value of every drawn option appears among a check's examples.

A check builds few layer configurations (each costs a Keras build), so leaving option values
to chance leaves some unexercised: 10 default LSTM examples once drew return_sequences=False
in all 10. :func:`balance` assigns each option that the user did not fix a pattern over the
drawn configurations in which each value appears at least twice (with 4 configurations) and
different options get different patterns, so pairs of values co-occur:

* the boolean options of :data:`BALANCED`;
* the two-valued non-boolean options of :data:`BALANCED_VALUES` (``dropout``,
  ``recurrent_dropout``: inference no-ops a port must still accept);
* the activations (:data:`DEFAULT_ACTIVATIONS`): their value set is open, so the check
  exercises two of them, each twice - the layer's default and the first other one drawn.

:func:`balance_data` does the same per example for the data facts a check draws itself
(``mask``, ``initial_state``, ``batch`` as 1 / >1), over all the examples: each value at
least twice when there are 4 or more, once when there are 2 or 3.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec

#: The options balanced (GRU only: reset_after). Others (stateful, unroll) stay drawn.
BALANCED = ("return_sequences", "go_backwards", "zero_output_for_mask", "use_bias", "reset_after", "return_state")
#: Non-boolean options with two drawn values, balanced like the booleans (pattern bit 0 -> first value).
BALANCED_VALUES = {"dropout": (0.0, 0.3), "recurrent_dropout": (0.0, 0.25)}
#: Open-valued options: the default and one other drawn value, each in half the configurations.
DEFAULT_ACTIVATIONS = {"activation": "tanh", "recurrent_activation": "sigmoid"}
#: Per number of configurations: value patterns with both values, cycled over the options.
PATTERNS = {
    2: ("01", "10"),
    3: ("011", "101", "110", "001", "010", "100"),
    4: ("0011", "0101", "0110", "1001", "1010", "1100"),
}


def balance(layers: Sequence[CellSpec], fixed: Mapping[str, Any]) -> list[CellSpec]:
    """``layers`` with every balanced option not in ``fixed`` set by its pattern."""
    layers = list(layers)
    patterns = PATTERNS.get(len(layers))
    if patterns is None:
        return layers
    k = 0

    def assign(name: str, values: tuple[Any, Any]) -> None:
        nonlocal layers, k
        pattern = patterns[k % len(patterns)]
        k += 1
        layers = [layer.replace(**{name: values[bit == "1"]}) for layer, bit in zip(layers, pattern)]

    for name in BALANCED:
        if name in fixed or (name == "reset_after" and layers[0].kind != "GRU"):
            continue
        assign(name, (False, True))
    for name, values in BALANCED_VALUES.items():
        if name not in fixed:
            assign(name, values)
    for name, default in DEFAULT_ACTIVATIONS.items():
        if name in fixed or getattr(layers[0], name) is None:  # SimpleRNN has no recurrent_activation
            continue
        other = next((getattr(layer, name) for layer in layers if getattr(layer, name) != default), None)
        if other is not None:
            assign(name, (default, other))
    return layers


#: Data facts a check draws per example: the two values of each (``batch``: 1 or more than one).
DATA_VALUES = {"mask": ("none", "mixed"), "initial_state": (False, True), "batch": (1, ">1")}


def data_value(spec: CaseSpec, name: str) -> Any:
    value = getattr(spec, name)
    return (1 if value == 1 else ">1") if name == "batch" else value


def balance_data(specs: Sequence[CaseSpec], fixed: Mapping[str, Any], *, max_batch: int) -> list[CaseSpec]:
    """``specs`` with each data fact not in ``fixed`` taking each of its values at least twice
    (4+ examples) or once (2-3 examples): the last examples holding the other value are switched
    (never below that value's own share). ``batch`` > 1 becomes 2..max_batch, from the example's seed."""
    specs = list(specs)
    need = 2 if len(specs) >= 4 else 1 if len(specs) >= 2 else 0
    for name, values in DATA_VALUES.items():
        if name in fixed or (name == "batch" and max_batch < 2):
            continue
        for value in values:
            have = sum(data_value(s, name) == value for s in specs)
            other = values[1 - values.index(value)]
            for i in reversed(range(len(specs))):
                if have >= need:
                    break
                holding_other = sum(data_value(s, name) == other for s in specs)
                if data_value(specs[i], name) != other or holding_other <= need:
                    continue
                new = 2 + specs[i].seed % (max_batch - 1) if value == ">1" else value
                try:
                    specs[i] = dataclasses.replace(specs[i], **{name: new})
                except ValueError:
                    continue
                have += 1
    return specs
