"""rnn-parity harness: specs, strategies, the Keras runner, the comparator.

Public facade; the modules behind it hold one idea each.
"""

from harness.api import assert_port_matches, check_port
from harness.case import CaseData, CaseSpec
from harness.compare import CaseResult, StepRecord, compare, records_frame, summarize
from harness.spec import LayerSpec

__all__ = [
    "assert_port_matches",
    "check_port",
    "CaseData",
    "CaseResult",
    "CaseSpec",
    "LayerSpec",
    "StepRecord",
    "compare",
    "records_frame",
    "summarize",
]
