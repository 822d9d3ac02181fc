"""Why a final mark is what it is (R-TRUST-1): ordered steps and one French sentence,
built from plain data (no ORM).

The steps add up, exactly (Decimal): the marking step carries the initial mark (the
marking as it stands, unit edits included, R-MARK-4); each harmonisation step what it
changed (`effect.delta - effect.delta_before`: a reset is negative); the clamp what
[0, maximum] took off or gave back. Unit edit and conformity steps carry 0: the edit is
already inside the initial mark, and the spread moves points between leaves without
changing their sum. Special marks (AB, CB...) get steps without numbers.

Nothing here names the candidate (R-UNIT-2): only the people in charge of the marks.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from harmonie.explanation.wording import (
    REASON_LABELS,
    SPECIAL_MARK_LABELS,
    day_text,
    filter_description,
    filter_terms,
    mark_text,
    moment_text,
    signed_text,
)

MARKING = "marking"
UNIT_EDIT = "unit_edit"
HARMONISATION = "harmonisation"
CLAMP = "clamp"
CONFORMITY = "conformity"
KINDS = (MARKING, UNIT_EDIT, HARMONISATION, CLAMP, CONFORMITY)

RESET = "reset"


@dataclass(frozen=True)
class Person:
    first_name: str = ""
    last_name: str = ""
    username: str = ""

    def short(self) -> str:
        """« S. Antonioli »: initial of the first name and last name."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if first and last:
            return f"{first[0].upper()}. {last}"
        return last or first or self.username

    def full(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    def as_dict(self) -> dict[str, str]:
        return {"first_name": self.first_name, "last_name": self.last_name}


@dataclass(frozen=True)
class UnitEdit:
    """The last edit of the marking by someone other than its grader (R-UNIT-4)."""

    author: Person
    at: datetime
    mark_before: Decimal | None = None
    special_before: str | None = None


@dataclass(frozen=True)
class CancelledRef:
    harmonisation_id: int
    name: str
    executed_at: datetime


@dataclass(frozen=True)
class ScenarioRef:
    """One scenario of one executed harmonisation, as every script it took shows it. Its
    sentence and filter description are written once here, not once per script."""

    harmonisation_id: int
    name: str
    executed_at: datetime
    author: Person
    scenario: int  # 1-based, as shown in the history
    filter: Mapping[str, Any]
    action: str
    points: Decimal | None
    reason_code: str = "other"
    reason_text: str = ""
    is_cancellation: bool = False
    cancels: CancelledRef | None = None
    text: str = field(default="", init=False, compare=False)
    description: tuple[tuple[str, str], ...] = field(default=(), init=False, compare=False)
    reason: Mapping[str, str] = field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _change_text(self))
        object.__setattr__(self, "description", filter_description(self.filter))
        object.__setattr__(self, "reason", _reason(self))


@dataclass(frozen=True)
class HarmonisationChange:
    """What one executed harmonisation did to the script: its delta before and after."""

    ref: ScenarioRef
    delta_before: Decimal
    delta: Decimal


@dataclass(frozen=True)
class ScriptFacts:
    maximum: Decimal
    initial_mark: Decimal | None
    delta: Decimal
    final_mark: Decimal | None
    special_mark: str | None = None
    grader: Person | None = None
    last_edit: UnitEdit | None = None
    changes: Sequence[HarmonisationChange] = ()  # in execution order
    leaves: Sequence[str] = ()  # leaf codes of the scheme, in order; empty: global mark only
    marks: Mapping[str, Any] = field(default_factory=dict)
    final_marks: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Step:
    """One step; the fields a kind does not use stay None. (Not frozen: a frozen
    dataclass of this size is slow to build 200,000 times for an export.)"""

    kind: str
    points: Decimal | None
    text: str
    # marking
    mark: Decimal | None = None
    special_mark: str | None = None
    grader: Person | None = None
    # unit edit
    edited_by: Person | None = None
    at: datetime | None = None
    mark_before: Decimal | None = None
    special_before: str | None = None
    # harmonisation
    harmonisation: int | None = None
    name: str | None = None
    executed_at: datetime | None = None
    author: Person | None = None
    reason: Mapping[str, str] | None = None
    cancels: CancelledRef | None = None
    scenario: int | None = None
    filter: Mapping[str, Any] | None = None
    filter_description: tuple[tuple[str, str], ...] | None = None
    action: str | None = None
    action_points: Decimal | None = None
    delta: Decimal | None = None
    # clamp
    bound: str | None = None  # "max" or "min"
    limit: Decimal | None = None
    # conformity
    state: str | None = None  # "conforming" or "not_conforming"
    spread: Mapping[str, Decimal] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers as floats, dates in ISO 8601, people as names."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "points": _float(self.points),
            "text": self.text,
        }
        if self.kind == MARKING:
            out.update(
                mark=_float(self.mark),
                special_mark=self.special_mark,
                grader=self.grader.as_dict() if self.grader else None,
            )
        elif self.kind == UNIT_EDIT:
            assert self.edited_by is not None
            assert self.at is not None
            out.update(
                author=self.edited_by.as_dict(),
                at=self.at.isoformat(timespec="seconds"),
                mark_before=_float(self.mark_before),
                special_before=self.special_before,
            )
        elif self.kind == HARMONISATION:
            action: dict[str, Any] | None = None
            if self.action is not None:
                action = {"type": self.action}
                if self.action_points is not None:
                    action["points"] = float(self.action_points)
            out.update(
                harmonisation=self.harmonisation,
                name=self.name,
                executed_at=self.executed_at.isoformat(timespec="seconds")
                if self.executed_at
                else None,
                author=self.author.as_dict() if self.author else None,
                reason=dict(self.reason) if self.reason else None,
                cancels=None
                if self.cancels is None
                else {
                    "id": self.cancels.harmonisation_id,
                    "name": self.cancels.name,
                    "executed_at": self.cancels.executed_at.isoformat(timespec="seconds"),
                },
                scenario=self.scenario,
                filter=dict(self.filter) if self.filter is not None else None,
                filter_description=[list(pair) for pair in self.filter_description or ()],
                action=action,
                delta=_float(self.delta),
            )
        elif self.kind == CLAMP:
            out.update(delta=_float(self.delta), bound=self.bound, limit=_float(self.limit))
        elif self.kind == CONFORMITY:
            out.update(
                state=self.state,
                spread={code: float(value) for code, value in (self.spread or {}).items()},
            )
        return out


@dataclass(frozen=True)
class Explanation:
    steps: tuple[Step, ...]
    text: str

    def total(self) -> Decimal | None:
        """The sum of the steps' points: the final mark (None for a special mark)."""
        numbers = [step.points for step in self.steps if step.points is not None]
        if not numbers or self.steps[0].points is None:
            return None
        return sum(numbers, Decimal(0))

    def steps_as_dicts(self) -> list[dict[str, Any]]:
        return [step.as_dict() for step in self.steps]


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _marking_text(facts: ScriptFacts) -> str:
    text = (
        f"copie corrigée par {facts.grader.short()}"
        if facts.grader and facts.grader.short()
        else "note importée"
    )
    if facts.last_edit:
        text += f", modifiée par {facts.last_edit.author.short()} le {day_text(facts.last_edit.at)}"
    return text


def _reference(*, word: str, harmonisation_id: int, name: str, executed_at: datetime) -> str:
    named = f"{word} « {name} »" if name else f"{word} n°{harmonisation_id}"
    return f"{named} du {day_text(executed_at)}"


def _reason(change: ScenarioRef) -> dict[str, str]:
    return {
        "code": change.reason_code,
        "label": REASON_LABELS.get(change.reason_code, change.reason_code),
        "text": change.reason_text,
    }


def _change_text(change: ScenarioRef) -> str:
    word = "annulation" if change.is_cancellation else "harmonisation"
    text = _reference(
        word=word,
        harmonisation_id=change.harmonisation_id,
        name=change.name,
        executed_at=change.executed_at,
    )
    if change.author.short():
        text += f" par {change.author.short()}"
    if change.cancels is not None:
        cancelled = _reference(
            word="l'harmonisation",
            harmonisation_id=change.cancels.harmonisation_id,
            name=change.cancels.name,
            executed_at=change.cancels.executed_at,
        )
        text += f", qui annule {cancelled}"
    reason_text = change.reason_text.strip()
    if change.reason_code != "other":
        label = REASON_LABELS.get(change.reason_code, change.reason_code)
        text += f", motif : {label}" + (f" ({reason_text})" if reason_text else "")
    elif reason_text:
        text += f", motif : {reason_text}"
    text += f", scénario {change.scenario}"
    if change.action == RESET:
        text += " (réinitialisation)"
    terms = filter_terms(change.filter)
    return text + " : " + (", ".join(terms) if terms else "tous les candidats")


def _conformity_step(facts: ScriptFacts) -> Step | None:
    """The spread of the harmonisation over the leaves (R-MASS-12), when there is one."""
    if not facts.leaves or facts.final_mark is None:
        return None
    marked = {code: _decimal(facts.marks.get(code) or 0) for code in facts.leaves}
    leaves = (
        {code: _decimal(facts.final_marks.get(code) or 0) for code in facts.leaves}
        if facts.final_marks is not None
        else marked
    )
    if sum(leaves.values(), Decimal(0)) != facts.final_mark:
        return Step(
            kind=CONFORMITY,
            points=Decimal(0),
            text="parties pas encore mises en conformité avec la note finale",
            state="not_conforming",
            spread={},
        )
    spread = {code: leaves[code] - marked[code] for code in facts.leaves}
    spread = {code: value for code, value in spread.items() if value}
    if not spread:
        return None
    shares = ", ".join(f"{code} {signed_text(value)}" for code, value in spread.items())
    return Step(
        kind=CONFORMITY,
        points=Decimal(0),
        text=f"répartie sur les parties : {shares}",
        state="conforming",
        spread=spread,
    )


def explanation_build(*, facts: ScriptFacts) -> Explanation:
    """The ordered steps of one script and their sentence (R-TRUST-1).

    « 11 = 9 (copie corrigée par J. Dupont, modifiée par S. Antonioli le 02/06) + 2
    (harmonisation « Moselle » du 03/06 par S. Antonioli, scénario 1 : département 057,
    note ≤ 10) ».
    """
    numeric = facts.special_mark is None and facts.initial_mark is not None
    numeric = numeric and facts.final_mark is not None
    marking_text = _marking_text(facts)
    steps: list[Step] = [
        Step(
            kind=MARKING,
            points=facts.initial_mark if numeric else None,
            text=marking_text,
            mark=facts.initial_mark if numeric else None,
            special_mark=facts.special_mark,
            grader=facts.grader,
        )
    ]
    if facts.last_edit:
        edit = facts.last_edit
        steps.append(
            Step(
                kind=UNIT_EDIT,
                points=Decimal(0) if numeric else None,
                text=f"modifiée par {edit.author.short()} le {moment_text(edit.at)}",
                edited_by=edit.author,
                at=edit.at,
                mark_before=edit.mark_before,
                special_before=edit.special_before,
            )
        )
    if not numeric:
        code = facts.special_mark or ""
        label = SPECIAL_MARK_LABELS.get(code)
        shown = f"{code} ({label})" if label else code or "sans note"
        return Explanation(
            steps=tuple(steps),
            text=f"{shown} : note particulière ({marking_text}), jamais harmonisée",
        )
    assert facts.initial_mark is not None
    assert facts.final_mark is not None
    changes: list[Step] = []
    traced = Decimal(0)
    for change in facts.changes:
        delta = _decimal(change.delta) - _decimal(change.delta_before)
        if delta == 0:
            continue
        traced += delta
        ref = change.ref
        changes.append(
            Step(
                kind=HARMONISATION,
                points=delta,
                text=ref.text,
                harmonisation=ref.harmonisation_id,
                name=ref.name,
                executed_at=ref.executed_at,
                author=ref.author,
                reason=ref.reason,
                cancels=ref.cancels,
                scenario=ref.scenario,
                filter=ref.filter,
                filter_description=ref.description,
                action=ref.action,
                action_points=ref.points,
                delta=delta,
            )
        )
    untraced = _decimal(facts.delta) - traced
    if untraced:
        # A delta no effect row accounts for (data from before effects were kept).
        changes.insert(
            0,
            Step(
                kind=HARMONISATION,
                points=untraced,
                text="harmonisation antérieure sans trace détaillée",
                delta=untraced,
            ),
        )
    steps.extend(changes)
    clamp = facts.final_mark - (facts.initial_mark + _decimal(facts.delta))
    if clamp:
        at_max = clamp < 0
        steps.append(
            Step(
                kind=CLAMP,
                points=clamp,
                text=f"note ramenée au maximum de {mark_text(facts.maximum)}"
                if at_max
                else "note ramenée à 0",
                delta=clamp,
                bound="max" if at_max else "min",
                limit=facts.maximum if at_max else Decimal(0),
            )
        )
    conformity = _conformity_step(facts)
    if conformity is not None:
        steps.append(conformity)
    moves = [step for step in steps if step.kind in (HARMONISATION, CLAMP)]
    if moves:
        text = f"{mark_text(facts.final_mark)} = {mark_text(facts.initial_mark)} ({marking_text})"
        text += "".join(
            f" {signed_text(step.points or Decimal(0))} ({step.text})" for step in moves
        )
    else:
        text = f"{mark_text(facts.final_mark)} ({marking_text}), sans harmonisation"
    if conformity is not None:
        text += f" ; {conformity.text}"
    return Explanation(steps=tuple(steps), text=text)
