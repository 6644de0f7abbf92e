"""Ports that are right in some configurations and wrong in others: partition, then the condition.

A check draws examples over several layer configurations and data shapes. A port
may be right on some of them and wrong on others (a fast path beside a general
loop, an option its author never knew about). This module

* groups the diverging examples by the cause that explains each
  (:func:`partition`): a cause need not fit the matching examples, only its group;
* describes each example by its drawn *facts* (:func:`facts`): option values
  (``zero_output_for_mask=True``, ``reset_after=False`` ...) and data facts (mask
  present, initial state given, batch of one, stateful chunks);
* finds the smallest conjunctions of facts that hold on a group and on no matching
  example (:func:`separators`), in order of preference;
* tests a conjunction on fresh examples instead of trusting it (:func:`try_condition`):
  held, they must diverge with the same cause; each fact negated, they must match.

It decides nothing about the wording; :mod:`harness.check.output` renders it.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from harness.check.diagnosis import (Diagnosis, Example, Finding, Hypothesis, confirm, diagnose, evaluate,
                                     passes_screen, screen_limit, single_hypotheses)
from harness.layers.case import CaseSpec
from harness.layers.cell import CellSpec
from harness.layers.composite import OPTIONS

#: Largest conjunction searched: beyond three facts a "condition" is a description of the sample.
MAX_FACTS = 3
#: Conjunctions tested on fresh examples per group (the smallest, in order of preference).
MAX_TESTED = 3
#: Cell options that are facts of an example (units/features are sizes, not configurations).
CELL_FACTS = ("zero_output_for_mask", "return_sequences", "return_state", "go_backwards", "reset_after",
              "use_bias", "stateful", "unroll", "activation", "recurrent_activation", "dropout",
              "recurrent_dropout")
#: Data facts, after the options (a condition prefers options: they are what a user pins).
DATA_FACTS = ("units", "mask", "initial_state", "batch", "chunks")
#: Options of a composite layer's cells that are facts of an example (the check draws one value for all).
_COMPOSITE_CELL_FACTS = ("activation", "recurrent_activation", "use_bias", "reset_after")
#: Fresh examples with a condition held that must be informative (the cause could show on them)
#: before the held test counts; up to two more draws are made to reach it.
MIN_INFORMATIVE = 3
#: What a ">1" fact is drawn as when a condition holds it.
_MORE_THAN_ONE = {"units": 3, "batch": 2, "chunks": 2}


def facts(spec: CaseSpec) -> dict[str, Any]:
    """What was drawn for one example: option values, then data facts.

    ``batch`` and ``chunks`` are reduced to ``1`` or ``">1"`` (a port's shape bug shows on
    any batch above one; an equality on a drawn size would only describe the sample)."""
    layer = spec.layer
    out: dict[str, Any] = {}
    if isinstance(layer, CellSpec):
        for name in CELL_FACTS:
            if name == "reset_after" and layer.kind != "GRU":
                continue
            if name == "recurrent_activation" and layer.kind == "SimpleRNN":
                continue
            out[name] = getattr(layer, name)
    else:
        settable = set(OPTIONS.get(layer.kind, ()))
        for key, value in sorted({**layer.config, **dict(layer.loop)}.items()):
            if key in settable and (isinstance(value, (bool, str)) or (key == "merge_mode" and value is None)):
                out[key] = value
        # The cells' options (one value for all the cells, as the check draws and --set pins them).
        for name in _COMPOSITE_CELL_FACTS:
            values = {kwargs[name] for _, kwargs in layer.cells if name in kwargs}
            if name in settable and len(values) == 1:
                out.setdefault(name, values.pop())
    units = getattr(layer, "units", None)
    if units is not None:
        out["units"] = 1 if units == 1 else ">1"  # one unit hides kernel-layout and reset placement
    out["mask"] = spec.mask
    out["initial_state"] = spec.initial_state
    out["batch"] = 1 if spec.batch == 1 else ">1"
    if layer.stateful:
        out["chunks"] = 1 if spec.chunks == 1 else ">1"
    return out


def holds(when: Mapping[str, Any], fact: Mapping[str, Any]) -> bool:
    return all(name in fact and fact[name] == value for name, value in when.items())


def describe(when: Mapping[str, Any]) -> str:
    """``zero_output_for_mask=True and batch>1`` (empty: ``everywhere``)."""
    return " and ".join(f"{k}>1" if v == ">1" else f"{k}={v}" for k, v in when.items()) or "everywhere"


def separators(group: Sequence[Mapping[str, Any]], against: Sequence[Mapping[str, Any]], *,
               silent: Sequence[Mapping[str, Any]] = (), max_facts: int = MAX_FACTS) -> list[dict[str, Any]]:
    """Conjunctions of up to ``max_facts`` facts true on every example of ``group`` and on none
    of ``against`` (matching examples on which the cause would have shown), best first.

    ``silent`` are matching examples on which the cause cannot show (e.g. no step masked):
    they may satisfy a conjunction, but one that also leaves them out describes the sample
    better, so conjunctions are ranked by size, then by how many ``silent`` examples they
    hold on, then options before data facts. ``[{}]`` when nothing stands against the group and
    nothing is silent; ``[]`` when no conjunction separates the group from ``against``."""
    if not group:
        return []
    if not against and not silent:
        return [{}]
    first = group[0]
    shared = [(name, first[name]) for name in first if all(g.get(name) == first[name] for g in group)]
    order = {name: i for i, name in enumerate((*CELL_FACTS, *DATA_FACTS))}
    shared.sort(key=lambda item: order.get(item[0], len(order) // 2))
    rest = [*against, *silent]
    # A literal that holds on every other example cannot help any conjunction.
    useful = [lit for lit in shared if not all(m.get(lit[0]) == lit[1] for m in rest)]
    ranked = []
    for size in range(1, max_facts + 1):
        for n, combo in enumerate(itertools.combinations(useful, size)):
            when = dict(combo)
            if any(holds(when, m) for m in against):
                continue
            ranked.append((sum(holds(when, m) for m in silent), size, n, when))
    ranked.sort(key=lambda item: (item[1], item[0], item[2]))
    if not against:  # holding everywhere is a separator too: the last resort
        ranked.append((len(silent), 0, 0, {}))
    return [when for *_, when in ranked]


def shared_facts(group: Sequence[Mapping[str, Any]], others: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every fact the group's examples share that some other example does not: the widest
    conjunction to start from when no small one survives the test (it is then shrunk fact by
    fact by :func:`try_condition`)."""
    first = group[0]
    order = {name: i for i, name in enumerate((*CELL_FACTS, *DATA_FACTS))}
    shared = [(n, first[n]) for n in first if all(g.get(n) == first[n] for g in group)
              and not all(o.get(n) == first[n] for o in others)]
    return dict(sorted(shared, key=lambda item: order.get(item[0], len(order) // 2)))


def negated_values(name: str, value: Any, seen: Sequence[Mapping[str, Any]]) -> Any:
    """A value of ``name`` other than ``value`` to draw fresh examples with (None if unknown)."""
    if isinstance(value, bool):
        return not value
    if name == "mask":
        return "none" if value == "mixed" else "mixed"
    if name in _MORE_THAN_ONE:
        return ">1" if value == 1 else 1
    others = sorted({f[name] for f in seen if name in f and f[name] != value}, key=str)
    return others[0] if others else None


def fixed_values(when: Mapping[str, Any]) -> dict[str, Any]:
    """``when`` as options a check can fix (``batch=">1"`` is drawn as batch 2)."""
    return {name: (_MORE_THAN_ONE.get(name, 2) if value == ">1" else value) for name, value in when.items()}


@dataclass
class Condition:
    """When a group's cause shows, and how far that was tested."""

    when: dict[str, Any] = field(default_factory=dict)  # {}: everywhere (or not isolated)
    isolated: bool = True  # False: no small conjunction of facts separates the group, or fresh examples refuted it
    held: tuple[int, int] = (0, 0)  # fresh examples with the condition held: (diverged with the cause, drawn)
    negated: tuple[int, int] = (0, 0)  # fresh examples with each fact negated: (matched, drawn)
    untested: tuple[str, ...] = ()  # facts that could not be negated (no other value known)
    note: str = ""  # why not isolated
    counts: dict[str, int] = field(default_factory=dict)  # over the check's own examples (see check._condition)

    def summary(self) -> str:
        if not self.isolated:
            return f"condition not isolated: {self.note}"
        if not self.when:
            return ""
        parts = [f"held, {self.held[0]} of {self.held[1]} diverged with this cause (the others could not show it)"]
        if self.negated[1]:
            parts.append(f"negated, {self.negated[0]} of {self.negated[1]} matched")
        if self.untested:
            parts.append(f"not negated: {', '.join(self.untested)}")
        return "; ".join(parts)


@dataclass
class CauseGroup:
    """Diverging examples that one cause (or an equally good set of causes) explains."""

    diagnosis: Diagnosis
    members: list[int]  # indices into the check's outcomes
    condition: Condition = field(default_factory=Condition)

    @property
    def hypothesis(self) -> Hypothesis | None:
        return self.diagnosis.explained[0].hypothesis if self.diagnosis.explained else None


def partition(examples: Sequence[Example], diverging: Sequence[int], *, with_mask: bool,
              with_initial_state: bool) -> list[CauseGroup]:
    """Group the diverging examples (indices into ``examples``) by the cause that explains each.

    First the cause that fits *every* example (today's single answer: one group). If none does,
    each single catalogue fault is screened on each diverging example; the fault that explains
    the most takes them (confirmed with the full noise floor), and so on; the examples no
    single fault explains are diagnosed together (pairs too), else they form an
    ``unexplained`` group with the closest candidates."""
    everything = diagnose(examples, with_mask=with_mask, with_initial_state=with_initial_state)
    if everything.explained:
        return [CauseGroup(everything, list(diverging))]
    singles = single_hypotheses(examples, with_mask=with_mask, with_initial_state=with_initial_state)
    searched = everything.searched
    remaining = list(diverging)
    limit = screen_limit(examples)
    screened = {id(h): {i: passes_screen(h, evaluate(h, [examples[i]]).ratio, examples[i], limit) for i in remaining}
                for h in singles}
    searched += len(singles) * len(remaining)
    groups: list[CauseGroup] = []
    dead: set[int] = set()
    while remaining:
        ranked = sorted(((sum(screened[id(h)][i] for i in remaining), n, h) for n, h in enumerate(singles)
                         if id(h) not in dead), key=lambda item: (-item[0], item[1]))
        if not ranked or ranked[0][0] == 0:
            break
        _, _, best = ranked[0]
        covered = [i for i in remaining if screened[id(best)][i]
                   and evaluate(best, [examples[i]], precise=True).ratio <= 1.0]
        if not covered:
            dead.add(id(best))
            continue
        group = [examples[i] for i in covered]
        explained = [confirm(h, group) for h in singles if all(screened[id(h)][i] for i in covered)]
        explained = [f for f in explained if f.ratio <= 1.0]
        groups.append(CauseGroup(Diagnosis(explained=explained, ambiguous=len(explained) > 1), covered))
        remaining = [i for i in remaining if i not in covered]
    if remaining:
        rest = diagnose([examples[i] for i in remaining], with_mask=with_mask, with_initial_state=with_initial_state)
        searched += rest.searched
        groups.append(CauseGroup(rest, remaining))
    for group in groups:
        group.diagnosis.searched = 0
        _reword(group, examples, with_mask=with_mask, with_initial_state=with_initial_state)
    if groups:
        groups[0].diagnosis.searched = searched
    return groups


def _reword(group: CauseGroup, examples: Sequence[Example], *, with_mask: bool, with_initial_state: bool) -> None:
    """Word a group's causes from one of its own examples. A candidate is generated once per
    check, from the first example it applies to; its words ("the layer uses sigmoid") describe
    that configuration, which may be one the cause does not hold on."""
    if not group.members or not group.diagnosis.explained:
        return
    own = {c.key: c for c in examples[group.members[0]].candidates(with_mask=with_mask,
                                                                   with_initial_state=with_initial_state)}

    def reworded(finding: Finding) -> Finding:
        parts = tuple(own.get(part.key, part) for part in finding.hypothesis.parts)
        return dataclasses.replace(finding, hypothesis=dataclasses.replace(finding.hypothesis, parts=parts))

    group.diagnosis.explained = [reworded(f) for f in group.diagnosis.explained]


def try_condition(
    when: Mapping[str, Any],
    *,
    seen: Sequence[Mapping[str, Any]],
    draw: Callable[[dict[str, Any], int], list[tuple[bool, Example | None]]],
    explains: Callable[[Example], bool],
    explained_elsewhere: Callable[[Example], bool],
    evidence: bool = True,
    structural: Callable[[str, Any], bool] | None = None,
) -> Condition:
    """Test ``when`` on fresh examples: ``draw(fixed, offset)`` runs fresh examples with the
    options ``fixed`` held and returns ``(diverged, example)`` per example.

    Held: every fresh example must agree with the group's cause (``explains``: it diverges
    as the cause predicts, or matches where the cause cannot show, e.g. no step is masked),
    and at least one must diverge; while fewer than :data:`MIN_INFORMATIVE` could show the
    cause at all, more are drawn (twice at most). If none could (a sparse cause), the held test
    is inconclusive, not failed: the group's own examples are the evidence and the negations decide. Negated (each fact in
    turn, the others held): every fresh example must match, or diverge for another group's
    cause (``explained_elsewhere``); if some diverge with this cause instead, the fact is not
    needed and is dropped from the condition (so a conjunction the sample suggested by chance
    shrinks to the facts that matter). With ``evidence`` (a named cause), a fact is kept only
    if some negated example matched where the cause would have shown (``explains`` false on a
    matching example); a fact without which the cause never can show (mask present, for a
    masking cause) is implied, not part of the condition."""
    condition = Condition(when=dict(when))
    held = draw(fixed_values(when), 0)
    # A fresh example on which the cause cannot show (one timestep, nothing masked ...) neither
    # supports nor refutes the condition: draw again until enough are informative, or a fact the
    # sample shared by chance (stateful=True where the cause needs a mask) goes untested.
    for offset in (100, 200):
        if not held or _informative(held, explains) >= MIN_INFORMATIVE:
            break
        held += draw(fixed_values(when), offset)
    diverged = sum(1 for d, _ in held if d)
    good = sum(1 for d, ex in held if d and ex is not None and explains(ex))
    agree = sum(1 for _, ex in held if ex is not None and explains(ex))
    condition.held = (good, len(held))
    # No fresh example could show the cause at all (a sparse fault: a masked step at the end, ...):
    # inconclusive, not a refutation; the group's own examples are the evidence, the negations decide.
    inconclusive = bool(held) and agree == len(held) and _informative(held, explains) == 0
    if not held or agree != len(held) or (good == 0 and not inconclusive):
        condition.isolated = False
        condition.note = (f"with {describe(when)} held, {diverged} of {len(held)} fresh examples diverged, "
                          f"{good} with this cause, {len(held) - agree} against it")
        return condition
    matched, drawn, untested, needed = 0, 0, [], {}
    for k, (name, value) in enumerate(when.items()):
        other = negated_values(name, value, seen)
        if other is None:
            untested.append(name)
            needed[name] = value
            continue
        fixed = fixed_values({**{n: v for n, v in when.items() if n != name}, name: other})
        results = draw(fixed, k + 1)
        still = [ex for d, ex in results if d and not (ex is not None and explained_elsewhere(ex))]
        if not still and evidence and structural is not None and structural(name, other):
            pass  # the cause cannot show without this fact at all (reference-only test): it is needed
        elif not still and evidence:
            # Needed only if some fresh example matched where the cause would have shown; if the
            # cause could not show on any (e.g. no mask, nothing to mask), draw once more.
            for attempt in range(2):
                if any(not d and ex is not None and not explains(ex) for d, ex in results):
                    break
                if attempt == 0:
                    results += draw(fixed, k + 51)
            else:
                continue  # never could show without it: implied by the other facts, not part of the condition
        if not still:
            matched += len(results)
            drawn += len(results)
            needed[name] = value
        elif all(ex is not None and explains(ex) for ex in still):
            continue  # the cause shows without this fact too: it is not part of the condition
        else:
            condition.isolated = False
            condition.note = (f"with {name}={other} instead of {value}, {len(still)} of {len(results)} fresh "
                              "examples diverged for another reason")
            return condition
    condition.when = needed
    condition.negated, condition.untested = (matched, drawn), tuple(untested)
    if when and not needed:
        condition.isolated = False
        condition.note = f"the cause shows with each fact of {describe(when)} negated: none of them is the condition"
    return condition


def _informative(results: Sequence[tuple[bool, Example | None]], explains: Callable[[Example], bool]) -> int:
    """Fresh examples that can tell a condition apart: diverged, or matched where the cause would show."""
    return sum(1 for d, ex in results if d or (ex is not None and not explains(ex)))


def negate_spec(spec: CaseSpec, name: str, other: Any) -> CaseSpec | None:
    """``spec`` with one fact set to ``other`` (same seed), or None if that is not a valid case."""
    import dataclasses

    value = {"units": 3, "batch": 2, "chunks": 2}.get(name, 2) if other == ">1" else other
    try:
        if name in ("mask", "initial_state", "batch", "chunks"):
            return dataclasses.replace(spec, **{name: value})
        if isinstance(spec.layer, CellSpec):
            return dataclasses.replace(spec, layer=spec.layer.replace(**{name: value}))
    except (ValueError, TypeError):
        return None
    return None
