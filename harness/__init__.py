"""rnn-parity harness: specs, strategies, the Keras runner, the comparator.

Public facade; the modules behind it hold one idea each.
"""

from harness.case import CaseData, CaseSpec
from harness.compare import CaseResult, StepRecord, compare, records_frame, summarize
from harness.spec import LayerSpec

__all__ = [
    "CaseData",
    "CaseResult",
    "CaseSpec",
    "LayerSpec",
    "StepRecord",
    "compare",
    "records_frame",
    "summarize",
]
