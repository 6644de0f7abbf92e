"""Coverage by design: every value of every boolean option appears among a check's layers.

A check builds few layer configurations (each costs a Keras build), so leaving option values
to chance leaves some unexercised: 10 default LSTM examples once drew return_sequences=False
in all 10. :func:`balance` assigns each boolean option that the user did not fix a pattern
over the drawn configurations in which both values appear at least twice (with 4
configurations) and different options get different patterns, so pairs of values co-occur.
What the data draw adds (masks, initial states, batch) stays random.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.layers.cell import CellSpec

#: The options balanced (GRU only: reset_after). Others (stateful, unroll, activations) stay drawn.
BALANCED = ("return_sequences", "go_backwards", "zero_output_for_mask", "use_bias", "reset_after", "return_state")
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
    for name in BALANCED:
        if name in fixed or (name == "reset_after" and layers[0].kind != "GRU"):
            continue
        pattern = patterns[k % len(patterns)]
        k += 1
        layers = [layer.replace(**{name: bit == "1"}) for layer, bit in zip(layers, pattern)]
    return layers
