"""The human answer of ``rnn-parity check``: short, in the terminal."""

from __future__ import annotations

from harness.check.check import CheckReport
from harness.ports.guard import HUNG

#: Distinct error reasons shown besides the first (all of them are in --json "errors").
MAX_OTHER_ERRORS = 3


def render(report: CheckReport) -> str:
    n = len(report.outcomes)
    head = f"{report.verdict.upper()}  {report.port}  ({n} example{'s' if n != 1 else ''}, {report.seconds:.1f} s)"
    lines = [head]
    if report.verdict == "unsupported":
        lines.append(f"  unsupported: {report.error}")
    elif report.verdict == "error":
        lines.append(f"  error: {report.error}")
        first = report.errors[0]["reason"] if report.errors else None
        others = {}  # other reasons, each with the first example it happened on
        for e in report.errors:
            if e["reason"] not in (first, HUNG):
                others.setdefault(e["reason"], e["example"])
        for reason, example in list(others.items())[:MAX_OTHER_ERRORS]:
            lines.append(f"  also: {reason} (example {example})")
        if len(others) > MAX_OTHER_ERRORS:
            lines.append(f"  ... and {len(others) - MAX_OTHER_ERRORS} other reason(s) (see --json)")
    elif report.verdict == "match":
        lines.append(f"  the port matches Keras at every judged timestep (worst error {report.base_error:.2g})")
    else:
        first = report.first_divergence
        if first:
            lines.append(
                f"  first divergence: {first['tensor']} at t={first['t']} "
                f"(|port - keras| = {first['error']:.2g}, tolerance {first['tolerance']:.2g})"
            )
        diagnosis = report.diagnosis
        if diagnosis and diagnosis.explained:
            if diagnosis.ambiguous:
                lines.append(f"  {len(diagnosis.explained)} explanations fit every example equally (fresh inputs could not tell them apart):")
            for finding in diagnosis.explained:
                for part in finding.hypothesis.parts:
                    lines.append(f"  cause [{part.flag}]: {part.detail}")
                    lines.append(f"    fix: {part.fix}")
                lines.append(
                    f"    with the fix the error drops from {report.base_error:.2g} to {finding.residual:.2g} (within tolerance)"
                )
        elif diagnosis:
            lines.append("  cause [unexplained]: no catalogue cause, single or paired, reproduces the port")
            for finding in diagnosis.closest:
                names = " + ".join(p.flag for p in finding.hypothesis.parts)
                lines.append(
                    f"    closest ({names}, does not explain it): {'; '.join(p.detail for p in finding.hypothesis.parts)} "
                    f"-> residual {finding.residual:.2g} ({finding.ratio:.3g} x tolerance)"
                )
        worst = [o for o in report.outcomes if o.result.status == "drift"][:1]
        if worst:
            lines.append(f"  replay the first diverging example: {report.replay_command(worst[0].spec)}")
    artifacts = _artifacts(report)
    if artifacts:
        lines.append(f"  artifacts: {artifacts}")
    if report.not_exercised:
        lines.append(f"  not exercised: {'; '.join(report.not_exercised)}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _artifacts(report: CheckReport) -> str:
    """What an exported port's artifacts held, e.g. ``onnx fused LSTM op (3 examples), onnx Loop loop (7 examples)``."""
    seen: dict[str, int] = {}
    for outcome in report.outcomes:
        label = outcome.details.get("artifact")
        if label:
            seen[label] = seen.get(label, 0) + 1
    return ", ".join(f"{label} ({n} example{'s' if n != 1 else ''})" for label, n in seen.items())
