"""Run one named Keras behaviour's case on its target, in this process, and print the outcome as JSON.

    python -m tests.backends.probe BEHAVIOUR_NAME

The target is the behaviour's first; it is selected before Keras is imported, which is
why each probe is its own process. Used by test_known_behaviours.py.
"""

from __future__ import annotations

import json
import sys

from harness.target import targets
from harness.target.behaviours import BEHAVIOURS


def _first_masked(layer, *, after_valid: bool = False, **kwargs):
    """The first seed whose mask has a row starting masked (or, ``after_valid``, a hole after a valid step)."""
    import numpy as np

    from harness.layers.case import CaseSpec

    for seed in range(200):
        spec = CaseSpec(layer=layer, seed=seed, mask="mixed", **kwargs)
        mask = spec.build().mask
        seen = np.logical_or.accumulate(mask, axis=1)
        hole_after_valid = bool((~mask[:, 1:] & seen[:, :-1]).any())
        if (hole_after_valid if after_valid else not mask[:, 0].all()) and mask.any(axis=1).all():
            return spec
    raise AssertionError("no seed with the wanted mask")


def case_for(name: str):
    """A case on which ``name`` shows (masks at the start, h0 non-zero, knees of hard_sigmoid...)."""
    from harness.layers.case import CaseSpec
    from harness.layers.cell import CellSpec
    from harness.layers.composite import CompositeSpec

    if name == "jax-masked-output-is-state":
        return _first_masked(CellSpec(kind="GRU", units=3, features=2, return_sequences=True),
                             batch=3, timesteps=6, initial_state=True)
    if name == "jax-unroll-ignores-zero-output-for-mask":
        return _first_masked(CellSpec(kind="LSTM", units=3, features=2, return_sequences=True, unroll=True,
                                       zero_output_for_mask=True), batch=3, timesteps=6, after_valid=True)
    if name == "keras2-hard-sigmoid":
        return CaseSpec(layer=CellSpec(kind="LSTM", units=4, features=3, recurrent_activation="hard_sigmoid",
                                        return_sequences=True), batch=2, timesteps=10, input_scale=3.0, seed=4)
    if name == "keras2-missing-activation":
        return CaseSpec(layer=CellSpec(kind="SimpleRNN", units=3, features=2, activation="celu"), seed=1)
    if name == "keras2-unroll-zero-output-last-crash":
        return _first_masked(CellSpec(kind="GRU", units=3, features=2, unroll=True, zero_output_for_mask=True),
                             batch=3, timesteps=6)
    if name == "torch-unroll-mask-backwards-crash":
        return _first_masked(CellSpec(kind="GRU", units=3, features=2, return_sequences=True, unroll=True,
                                       go_backwards=True), batch=3, timesteps=6)
    if name == "jax-convlstm-mask-broadcast":  # batch 3 == width 3: Keras runs, masking along width
        for seed in range(200):
            recipe = {"kind": "ConvLSTM1D", "kwargs": {"filters": 2, "kernel_size": 2, "padding": "same",
                                                       "strides": 1, "return_sequences": True,
                                                       "return_state": False, "recurrent_activation": "sigmoid"}}
            layer = CompositeSpec(kind="ConvLSTM1D", recipe=json.dumps(recipe, sort_keys=True), input_shape=(3, 1))
            spec = CaseSpec(layer=layer, batch=3, timesteps=4, mask="mixed", seed=seed)
            mask = spec.build([((2, 1, 8), "kernel"), ((2, 2, 8), "recurrent_kernel"), ((8,), "bias")]).mask
            if (~mask).any() and mask.any(axis=1).all() and len({tuple(r) for r in mask}) > 1:
                return spec
        raise AssertionError("no seed with differing row masks")
    if name == "jax-convlstm-mask-crash":
        recipe = {"kind": "ConvLSTM1D", "kwargs": {"filters": 2, "kernel_size": 2, "padding": "same", "strides": 1,
                                                   "return_sequences": True, "return_state": False,
                                                   "recurrent_activation": "sigmoid"}}
        layer = CompositeSpec(kind="ConvLSTM1D", recipe=json.dumps(recipe, sort_keys=True), input_shape=(5, 2))
        return CaseSpec(layer=layer, batch=3, timesteps=6, mask="mixed", seed=340)
    if name == "bidirectional-stateful-return-state-crash":
        recipe = {"kind": "Bidirectional", "inner": "GRU", "merge_mode": "concat",
                  "inner_kwargs": {"units": 3, "return_sequences": True, "return_state": True, "stateful": True}}
        layer = CompositeSpec(kind="Bidirectional", recipe=json.dumps(recipe, sort_keys=True), input_shape=(2,))
        return CaseSpec(layer=layer, batch=2, timesteps=6, chunks=2, seed=1)
    raise KeyError(name)


def probe(name: str, target: str) -> dict:
    targets.use_target(target)
    from harness.sweep.parity import check_case
    from harness.target.runner import KerasRunner

    spec = case_for(name)
    outcome = check_case(spec, KerasRunner())
    r = outcome.result
    return {"status": r.status, "behaviour": r.behaviour, "worst_ratio": r.worst_ratio, "error": r.error}


if __name__ == "__main__":
    name = sys.argv[1]
    target = sys.argv[2] if len(sys.argv) > 2 else BEHAVIOURS[name].targets[0]
    print(json.dumps(probe(name, target)))
