"""Mass harmonisation reads: scenario populations, history, replay, conformity state."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harmonie.accounts.models import User
from harmonie.accounts.permissions import user_academy_id
from harmonie.errors import NotFound
from harmonie.harmonisation.conformity import conformity_pending, exam_leaves, not_conforming_ids
from harmonie.harmonisation.engine import scenario_population_count
from harmonie.harmonisation.models import REASON_CODES, Harmonisation
from harmonie.harmonisation.permissions import (
    exam_for_history,
    exam_for_mass_harmonisation,
    harmonisation_abilities,
    history_check,
)
from harmonie.harmonisation.scenarios import ScenarioDraft, action_label, scenarios_parse
from harmonie.harmonisation.undo import undo_possible
from harmonie.marking.models import Script
from harmonie.marking.permissions import scripts_in_scope
from harmonie.marking.population import population_load, scenario_mask
from harmonie.referential.models import Exam
from harmonie.scriptfilter import script_filter_describe, script_filter_parse


def harmonisation_count(*, exam: Exam, academy_id: int) -> int:
    """Executed harmonisations (cancellations included) of an academy for the dashboard."""
    return Harmonisation.objects.filter(exam=exam, academy_id=academy_id).count()


def scenario_population(
    *, user: User, exam_code: str, scenarios: Sequence[ScenarioDraft | Mapping[str, Any]]
) -> list[dict]:
    """Per scenario, against the current data and ignoring the other scenarios (R-MASS-6):
    total matched, harmonisable, and non-harmonisable counts by reason."""
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    parsed = scenarios_parse(data=scenarios, exam=exam, user=user)
    loaded = population_load(exam=exam, academy_id=user_academy_id(user))
    return [
        scenario_population_count(
            population=loaded.population,
            match=scenario_mask(loaded=loaded, script_filter=scenario.filter),
            action_type=scenario.action.type,
        ).as_dict()
        for scenario in parsed
    ]


@dataclass(frozen=True)
class ScenarioView:
    position: int
    filter: dict
    description: list[tuple[str, str]]
    action: str
    points: Decimal | None
    action_label: str
    matched: int
    applied: int
    skipped: dict

    def as_dict(self) -> dict:
        action: dict[str, Any] = {"type": self.action}
        if self.points is not None:
            action["points"] = float(self.points)
        return {
            "position": self.position,
            "filter": self.filter,
            "description": [list(pair) for pair in self.description],
            "action": action,
            "action_label": self.action_label,
            "matched": self.matched,
            "applied": self.applied,
            "ignored": self.matched - self.applied,
            "skipped": self.skipped,
        }

    def replay(self) -> dict:
        action: dict[str, Any] = {"type": self.action}
        if self.points is not None:
            action["points"] = float(self.points)
        return {"filter": self.filter, "action": action}


def _scenario_views(*, harmonisation: Harmonisation, user: User) -> list[ScenarioView]:
    views = []
    for scenario in harmonisation.scenarios.all():
        try:
            described = script_filter_describe(
                script_filter=script_filter_parse(
                    data=scenario.filter,
                    exam=harmonisation.exam,
                    user=user,
                    scripts=scripts_in_scope(user=user, exam=harmonisation.exam),
                ),
                grader_names=True,
            )
        except Exception:
            described = [(key, str(value)) for key, value in scenario.filter.items()]
        views.append(
            ScenarioView(
                position=scenario.position,
                filter=scenario.filter,
                description=described,
                action=scenario.action,
                points=scenario.points,
                action_label=action_label(action=scenario.action, points=scenario.points),
                matched=scenario.matched,
                applied=scenario.applied,
                skipped=scenario.skipped,
            )
        )
    return views


def _link(harmonisation: Harmonisation | None) -> dict | None:
    """The other end of an undo (R-MASS-14): « annule l'harmonisation du … »."""
    if harmonisation is None:
        return None
    return {
        "id": harmonisation.pk,
        "name": harmonisation.name,
        "executed_at": harmonisation.executed_at,
    }


def harmonisation_as_dict(*, harmonisation: Harmonisation, user: User) -> dict:
    scenarios = _scenario_views(harmonisation=harmonisation, user=user)
    cancelled_by = next(iter(harmonisation.cancelled_by.all()), None)
    return {
        "id": harmonisation.pk,
        "exam": harmonisation.exam.code,
        "name": harmonisation.name,
        "author": {
            "first_name": harmonisation.author.first_name,
            "last_name": harmonisation.author.last_name,
        },
        "executed_at": harmonisation.executed_at,
        "is_cancellation": harmonisation.is_cancellation,
        "reason": {
            "code": harmonisation.reason_code,
            "label": str(REASON_CODES.get(harmonisation.reason_code, harmonisation.reason_code)),
            "text": harmonisation.reason_text,
        },
        "cancels": harmonisation.cancels_id,
        "cancels_harmonisation": _link(harmonisation.cancels),
        "cancelled_by": _link(cancelled_by),
        "undoable": cancelled_by is None and undo_possible(harmonisation=harmonisation),
        "scenarios": [scenario.as_dict() for scenario in scenarios],
        "replay": [scenario.replay() for scenario in scenarios],
        "abilities": harmonisation_abilities(user=user, harmonisation=harmonisation),
    }


def harmonisation_list(*, user: User, exam_code: str) -> list[dict]:
    """History, newest first (R-MASS-11)."""
    exam = exam_for_history(user=user, exam_code=exam_code)
    harmonisations = (
        Harmonisation.objects.filter(exam=exam, academy_id=user_academy_id(user))
        .select_related("author", "exam", "cancels")
        .prefetch_related("scenarios", "cancelled_by")
        .order_by("-executed_at", "-id")
    )
    return [harmonisation_as_dict(harmonisation=h, user=user) for h in harmonisations]


def harmonisation_get(*, user: User, harmonisation_id: int) -> dict:
    history_check(user=user)
    harmonisation = (
        Harmonisation.objects.filter(pk=harmonisation_id, academy_id=user_academy_id(user))
        .select_related("author", "exam", "cancels")
        .prefetch_related("scenarios", "cancelled_by")
        .first()
    )
    if harmonisation is None:
        raise NotFound(f"Harmonisation « {harmonisation_id} » introuvable.")
    exam_for_history(user=user, exam_code=harmonisation.exam.code)
    return harmonisation_as_dict(harmonisation=harmonisation, user=user)


def harmonisation_replay(*, user: User, exam: Exam, harmonisation_id: int) -> list[dict]:
    harmonisation = Harmonisation.objects.filter(
        pk=harmonisation_id, exam=exam, academy_id=user_academy_id(user)
    ).first()
    if harmonisation is None:
        raise NotFound(f"Harmonisation « {harmonisation_id} » introuvable.")
    return [
        _scenario.replay() for _scenario in _scenario_views(harmonisation=harmonisation, user=user)
    ]


def conformity_state(*, user: User, exam_code: str) -> dict:
    """`{"state", "not_conforming_count", "has_parts"}` for the academy (R-MASS-12)."""
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    has_parts = bool(exam_leaves(exam=exam))
    count = not_conforming_ids(exam=exam, academy_id=user_academy_id(user)).size if has_parts else 0
    return {
        "state": "conforming" if count == 0 else "not_conforming",
        "not_conforming_count": count,
        "has_parts": has_parts,
    }


# Not-conforming scripts listed on the conformity page; the rest are counted.
CONFORMITY_SHOWN = 100


def _leaf_marks(row: Mapping[str, Any]) -> dict:
    marks = row["final_marks"] if row["final_marks"] is not None else row["marks"]
    return marks or {}


def conformity_page_get(*, user: User, exam_code: str) -> dict:
    """The conformity page (R-MASS-12): `conformity_state` plus `scripts`, the first
    CONFORMITY_SHOWN not-conforming scripts by anonymous id (final mark, sum of the leaves
    as they stand; never the candidate), and `more`, how many are not listed."""
    exam = exam_for_mass_harmonisation(user=user, exam_code=exam_code)
    leaves = exam_leaves(exam=exam)
    pending = (
        conformity_pending(exam=exam, academy_id=user_academy_id(user), spread=False)
        if leaves
        else {}
    )
    codes = [code for code, _ in leaves]
    rows = (
        Script.objects.filter(pk__in=sorted(pending)[:CONFORMITY_SHOWN])
        .order_by("public_id")
        .values("public_id", "final_mark", "marks", "final_marks")
    )
    scripts = []
    for row in rows:
        leaves_sum = sum(
            (Decimal(str(_leaf_marks(row).get(code) or 0)) for code in codes), Decimal(0)
        )
        if row["final_mark"] is None:  # a special mark is never pending conformity
            continue
        gap = row["final_mark"] - leaves_sum
        scripts.append(
            {
                "public_id": row["public_id"],
                "final_mark": row["final_mark"],
                "leaves_sum": leaves_sum,
                "gap": gap,
                "gap_abs": abs(gap),
            }
        )
    return {
        "state": "conforming" if not pending else "not_conforming",
        "not_conforming_count": len(pending),
        "has_parts": bool(leaves),
        "scripts": scripts,
        "more": max(len(pending) - len(scripts), 0),
    }
