"""Conventions of a whole layer: a cell's :class:`~reference_cells.Conventions` plus the
choices only a wrapper or a composite layer makes.

A port of ``Bidirectional(LSTM)`` can get the LSTM maths wrong (gate order,
activations - :class:`Conventions`) and, besides, the wrapper: the order in
which it returns the two halves' states, or the merge it applies. A
:class:`LayerConventions` names both, so the diagnosis searches one space for
every layer kind, and the catalogue's :func:`~harness.check.catalogue.merge` can
combine a cell fault with a wrapper fault.

It has the same small interface as :class:`Conventions` (``differences``,
``describe``, ``from_dict``, ``is_keras``); the wrapper fields are flat keys
next to the cell's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from reference_cells import KERAS, Conventions
from reference_cells.bidirectional import BACKWARD_LASTS, INITIAL_STATE_SPLITS, MERGE_MODES, STATE_ORDERS

#: Order of an LSTM's returned (h, c) pair: Keras's, or c first (TF1 ``LSTMStateTuple``).
LSTM_STATE_ORDERS = ("keras", "c-h")
#: ``merge_mode`` value meaning "the layer's own merge mode".
AS_CONFIGURED = "as-configured"


@dataclass(frozen=True)
class LayerConventions:
    """How an implementation runs a whole (possibly wrapped) recurrent layer.

    Attributes:
        cell: the cell conventions, applied to every cell the layer runs
            (both halves of a Bidirectional, every cell of a stack, the ConvLSTM cell).
        state_order: Bidirectional only: ``"keras"`` returns forward then backward
            states (``[h_f, c_f, h_b, c_b]``), ``"interleaved"`` ``[h_f, h_b, c_f, c_b]``.
        merge_mode: Bidirectional only: the merge the implementation applies,
            :data:`AS_CONFIGURED` for the layer's own.
        backward_last: Bidirectional only, without return_sequences: ``"keras"`` (the
            backward half's final output) or ``"first-step"`` (its first processed one).
        lstm_states: ``"keras"`` returns each LSTM state pair ``[h, c]``; ``"c-h"``
            ``[c, h]`` (TF1's ``LSTMStateTuple`` order).
        initial_state_split: Bidirectional only: ``"keras"`` gives the first half of
            ``initial_state`` to the forward layer, ``"swapped"`` to the backward one.
    """

    cell: Conventions = KERAS
    state_order: str = "keras"
    merge_mode: str | None = AS_CONFIGURED
    backward_last: str = "keras"
    lstm_states: str = "keras"
    initial_state_split: str = "keras"

    def __post_init__(self) -> None:
        if self.state_order not in STATE_ORDERS:
            raise ValueError(f"state_order={self.state_order!r} is not one of {', '.join(STATE_ORDERS)}")
        if self.lstm_states not in LSTM_STATE_ORDERS:
            raise ValueError(f"lstm_states={self.lstm_states!r} is not one of {', '.join(LSTM_STATE_ORDERS)}")
        if self.backward_last not in BACKWARD_LASTS:
            raise ValueError(f"backward_last={self.backward_last!r} is not one of {', '.join(BACKWARD_LASTS)}")
        if self.initial_state_split not in INITIAL_STATE_SPLITS:
            raise ValueError(f"initial_state_split={self.initial_state_split!r} is not one of "
                             f"{', '.join(INITIAL_STATE_SPLITS)}")
        if self.merge_mode != AS_CONFIGURED and self.merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode={self.merge_mode!r} is not one of {MERGE_MODES}")

    def differences(self) -> dict[str, Any]:
        diff = dict(self.cell.differences())
        if self.state_order != "keras":
            diff["state_order"] = self.state_order
        if self.merge_mode != AS_CONFIGURED:
            diff["merge_mode"] = self.merge_mode
        if self.backward_last != "keras":
            diff["backward_last"] = self.backward_last
        if self.lstm_states != "keras":
            diff["lstm_states"] = self.lstm_states
        if self.initial_state_split != "keras":
            diff["initial_state_split"] = self.initial_state_split
        return diff

    def is_keras(self) -> bool:
        return not self.differences()

    def describe(self) -> str:
        diff = self.differences()
        return ", ".join(f"{k}={v}" for k, v in diff.items()) if diff else "keras"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LayerConventions":
        data = dict(data)
        own = {f.name for f in dataclasses.fields(cls)} - {"cell"}
        wrapper = {k: data.pop(k) for k in list(data) if k in own}
        return cls(cell=Conventions.from_dict(data), **wrapper)

    def merge_mode_for(self, configured: str | None) -> str | None:
        return configured if self.merge_mode == AS_CONFIGURED else self.merge_mode


#: Keras's own behaviour for every layer.
KERAS_LAYER = LayerConventions()
