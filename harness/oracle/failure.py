"""One shape for every failure message.

Each message names the tensor, timestep, index, error, tolerance, the config
and a one-line command that replays the case.
"""

from __future__ import annotations

import json

from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec
from harness.oracle.compare import CaseResult
from harness.oracle.tolerance import MULTIPLIER


def describe_data(spec: CaseSpec) -> str:
    shape = "" if isinstance(spec.layer, CellSpec) else f"input_shape={spec.layer.input_shape} "
    return (
        f"batch={spec.batch} timesteps={spec.timesteps} {shape}mask={spec.mask} initial_state={spec.initial_state} "
        f"chunks={spec.chunks} recurrent_gain={spec.recurrent_gain:g} kernel_scale={spec.kernel_scale:g} "
        f"input_scale={spec.input_scale:g} bias_scale={spec.bias_scale:g} seed={spec.seed}"
    )


def failure_message(spec: CaseSpec, result: CaseResult, *, against: str = "reference") -> str:
    """A multi-line message for a drifted or errored case of any kind."""
    layer = spec.layer
    config = layer.to_keras_config() if isinstance(layer, CellSpec) else layer.config
    config_line = f"{layer.kind}({json.dumps(config, sort_keys=True)})"
    data_line = describe_data(spec)
    if result.status == "error":
        head = f"{result.case_id}: error: {result.error}"
    elif result.first_tensor is None:
        head = (
            f"{result.case_id}: {result.status}: every judged step within tolerance; worst error "
            f"{result.worst_abs_err:.3g}, amplification {result.amplification:.3g}"
        )
    else:
        b, u = (result.first_index or "0,0").split(",")
        head = (
            f"{result.case_id}: {result.status}: tensor '{result.first_tensor}' at t={result.first_t}, "
            f"index (batch={b}, unit={u}): |keras - {against}| = {result.first_err:.3g} > tolerance "
            f"{result.first_tolerance:.3g} ({MULTIPLIER:g} x noise floor {result.first_tolerance / MULTIPLIER:.3g}); "
            f"worst error {result.worst_abs_err:.3g}"
        )
    return "\n".join(
        [
            head,
            f"  config: {config_line}",
            f"  data:   {data_line}",
            f"  replay: {spec.replay_command()}",
        ]
    )
