"""The human answer of ``rnn-parity check``: short, in the terminal."""

from __future__ import annotations

from typing import Any

from harness.check.check import CheckReport
from harness.check.conditions import CauseGroup, describe, negated_values
from harness.ports.guard import HUNG

#: Distinct error reasons shown besides the first (all of them are in --json "errors").
MAX_OTHER_ERRORS = 3


def render(report: CheckReport) -> str:
    n = len(report.outcomes)
    head = f"{report.verdict.upper()}  {report.port}  ({n} example{'s' if n != 1 else ''}, {report.seconds:.1f} s)"
    if report.precision.name != "float32":
        head += f"  [--precision {report.precision}]"
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
        lines += support_lines(report)
    else:
        first = report.first_divergence
        if first:
            lines.append(
                f"  first divergence: {first['tensor']} at t={first['t']} "
                f"(|port - keras| = {first['error']:.2g}, tolerance {first['tolerance']:.2g})"
            )
        cause = report.precision_cause
        if cause is not None:
            lines.append(f"  cause [precision]: {cause.detail}")
            lines.append(f"    fix: {cause.fix}")
            causes = f"the cause{'s' if len(report.groups) > 1 else ''} below"
            if not cause.still:
                lines.append(f"    at {cause.precision} all {cause.examples} diverging examples match "
                             f"(worst error {cause.ratio:.2g} x its tolerance)")
            elif cause.still == cause.examples:
                lines.append(f"    at {cause.precision} they still diverge, for {causes}")
            else:
                lines.append(f"    at {cause.precision} {cause.examples - cause.still} of the {cause.examples} diverging "
                             f"examples match (worst error {cause.ratio:.2g} x its tolerance); the others diverge for "
                             f"{causes}")
        for group in report.groups:
            lines += _group_lines(report, group)
        worst = [o for o in report.outcomes if o.result.status == "drift"][:1]
        if worst:
            lines.append(f"  replay the first diverging example: {report.replay_command(worst[0].spec)}")
        lines += support_lines(report)
    if report.shared_non_finite and report.verdict != "error":
        lines.append(f"  note: both Keras and the port are non-finite (NaN/inf) at the same {report.shared_non_finite} "
                     "value(s): both overflowed alike there; that is not counted as an error")
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
    text = ", ".join(f"{label} ({n} example{'s' if n != 1 else ''})" for label, n in seen.items())
    converted = [o.details["converted"] for o in report.outcomes if "converted" in o.details]
    if converted:  # several examples run through one conversion (same configuration, weights, shapes)
        text += f"; {sum(converted)} conversion{'s' if sum(converted) != 1 else ''} for {len(converted)} examples"
    return text


def _pin(when: dict[str, Any], report: CheckReport) -> str:
    """``--set a=x`` for each fact of a condition, negated (what to fix if the model never uses it)."""
    seen = [dict(row) for row in ({r["option"]: r["value"]} for r in report.support)]
    for name, value in when.items():  # options come first: one negated fact is enough
        other = negated_values(name, value, seen)
        if other is not None:
            return f"--set {name}={_value(other)}"
    return ""


def _value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _group_lines(report: CheckReport, group: CauseGroup) -> list[str]:
    condition, diagnosis = group.condition, group.diagnosis
    counts = condition.counts
    if condition.isolated and condition.when:
        others = (f"the {counts['others']} others match" if counts["others_matched"] == counts["others"]
                  else f"{counts['others_matched']} of the {counts['others']} others match")
        silent = f", {counts['silent']} where it cannot show" if counts["silent"] else ""
        when = (f" when {describe(condition.when)} ({counts['diverged']} of {counts['holding']} such examples "
                f"diverge{silent}; {others})")
    elif condition.isolated:
        when = f" (every example: {len(group.members)} of {len(report.outcomes)} diverge)" if len(report.groups) > 1 else ""
    else:
        when = f" in {len(group.members)} of {len(report.outcomes)} examples"
    lines = []
    if diagnosis.explained:
        if diagnosis.ambiguous:
            lines.append(f"  {len(diagnosis.explained)} explanations fit these examples equally (fresh inputs could not tell them apart):")
        at = f" at {report.precision_cause.precision}" if report.precision_cause else ""
        for finding in diagnosis.explained:
            for part in finding.hypothesis.parts:
                lines.append(f"  cause [{part.flag}]{when}: {part.detail}")
                lines.append(f"    fix: {part.fix}")
            lines.append(f"    with the fix the error drops from {report.base_error:.2g} to {finding.residual:.2g} "
                         f"(within tolerance{at})")
    else:
        lines.append(f"  cause [unexplained]{when}: no catalogue cause, single or paired, reproduces the port")
        for finding in diagnosis.closest:
            names = " + ".join(p.flag for p in finding.hypothesis.parts)
            lines.append(
                f"    closest ({names}, does not explain it): {'; '.join(p.detail for p in finding.hypothesis.parts)} "
                f"-> residual {finding.residual:.2g} ({finding.ratio:.3g} x tolerance)"
            )
    if condition.isolated and condition.when:
        lines.append(f"    tested on fresh examples: {condition.summary()}")
        pin = _pin(condition.when, report)
        if pin:
            lines.append(f"    if your model does not use {describe(condition.when)}, pin it: {pin}")
    elif not condition.isolated:
        lines.append(f"    {condition.summary()}")
    return lines


def support_lines(report: CheckReport) -> list[str]:
    """The support map, one line per fact that took more than one value: value examples/matched."""
    by_option: dict[str, list[dict]] = {}
    for row in report.support:
        by_option.setdefault(row["option"], []).append(row)
    varied = {k: rows for k, rows in by_option.items() if len(rows) > 1}
    if not varied:
        return []
    lines = ["  support (value: matched/examples):"]
    for name, rows in varied.items():
        cells = "  ".join(f"{_value(r['value'])} {r['matched']}/{r['examples']}" for r in rows)
        lines.append(f"    {name:<22} {cells}")
    return lines
