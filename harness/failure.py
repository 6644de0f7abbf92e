"""One shape for every failure message.

Each message names the tensor, timestep, index, error, tolerance, the config
and a one-line command that replays the case.
"""

from __future__ import annotations

import json

from harness.case import CaseSpec
from harness.compare import CaseResult
from harness.tolerance import MULTIPLIER


def describe_data(spec: CaseSpec) -> str:
    return (
        f"batch={spec.batch} timesteps={spec.timesteps} mask={spec.mask} initial_state={spec.initial_state} "
        f"chunks={spec.chunks} recurrent_gain={spec.recurrent_gain:g} input_scale={spec.input_scale:g} "
        f"bias_scale={spec.bias_scale:g} seed={spec.seed}"
    )


def failure_message(spec, result: CaseResult, *, against: str = "reference") -> str:
    """A multi-line message for a drifted or errored case (a CaseSpec or a FamilySpec)."""
    from harness.family import FamilySpec

    if isinstance(spec, FamilySpec):
        config_line, data_line = f"{spec.kind}({spec.layer})", spec.describe()
    else:
        config_line = f"{spec.layer.kind}({json.dumps(spec.layer.to_keras_config(), sort_keys=True)})"
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
