"""Reading scenarios (API.md: `{"filter": <filter>, "action": {"type", "points"}}`).

A scenario arrives as a `ScenarioDraft`: typed by the API's schemas, or read from an
API.md-shaped object (the editor's form, a stored simulation, a draft in an address) by
`scenario_draft_read`, the one place raw shapes are checked. `scenarios_parse` then checks
the rules against the exam and the user's scope. Every refusal is an `InvalidInput` with
a French message naming the scenario, so that nothing is simulated or written from bad
input (R-MASS-1, R-MASS-4).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput
from harmonie.harmonisation.engine import ACTIONS, RESET, Action
from harmonie.marking.permissions import scripts_in_scope
from harmonie.referential.models import Exam
from harmonie.referential.scheme import mark_parse
from harmonie.scriptfilter import ScriptFilter, script_filter_parse
from harmonie.scriptfilter import scenario_filter_keys as filter_keys_of_kind

ACTION_LABELS = {"raise": "Majoration", "lower": "Minoration", "reset": "Réinitialisation"}


def scenario_filter_keys(*, exam: Exam) -> tuple[str, ...]:
    """R-MASS-4: the filter keys of the exam's kind, from the filter table."""
    return filter_keys_of_kind(kind=exam.kind)


@dataclass(frozen=True)
class ParsedScenario:
    filter: ScriptFilter
    action: Action

    def as_dict(self) -> dict:
        action: dict[str, Any] = {"type": self.action.type}
        if self.action.points is not None:
            action["points"] = float(self.action.points)
        return {"filter": self.filter.as_dict(), "action": action}


def action_label(*, action: str, points: Decimal | float | None) -> str:
    """« + 2 », « - 1,5 » or « Réinitialisation », as in the seed's history."""
    if action == RESET or points is None:
        return ACTION_LABELS[RESET]
    text = format(Decimal(str(points)).normalize(), "f").replace(".", ",")
    return f"{'+' if action == 'raise' else '-'} {text}"


def _points_parse(*, raw: Any, exam: Exam, where: str) -> Decimal:
    if raw is None or raw == "":
        raise InvalidInput(f"{where} : indiquez le nombre de points.")
    points = mark_parse(raw)
    if points is None:
        raise InvalidInput(f"{where} : « {raw} » n'est pas un nombre de points.")
    maximum = format(exam.max_mark.normalize(), "f")
    step = format(exam.step.normalize(), "f")
    if points <= 0:
        raise InvalidInput(f"{where} : le nombre de points doit être positif.")
    if points > exam.max_mark:
        raise InvalidInput(
            f"{where} : {points.normalize():f} points dépassent la note maximale ({maximum})."
        )
    if points % exam.step:
        raise InvalidInput(
            f"{where} : {points.normalize():f} points ne respectent pas le pas de l'épreuve ({step})."
        )
    return points


def scenarios_count_check(*, count: int) -> None:
    """R-MASS-1: at most HARMONIE_SCENARIOS_MAX scenarios in one harmonisation."""
    if count > settings.HARMONIE_SCENARIOS_MAX:
        raise InvalidInput(
            f"Trop de scénarios : au plus {settings.HARMONIE_SCENARIOS_MAX} par harmonisation.",
            details={"scenarios": count, "max": settings.HARMONIE_SCENARIOS_MAX},
        )


@dataclass(frozen=True)
class ScenarioDraft:
    """A scenario before its rules are checked: the filter object's keys (API.md), the
    action type and its points (a number, or the text of a form field)."""

    filter: Mapping[str, Any]
    action_type: str | None
    points: Decimal | float | int | str | None = None


def scenario_draft_read(*, data: Any, position: int) -> ScenarioDraft:
    """A draft from an API.md scenario object whose shape nothing checked yet."""
    where = f"Scénario n°{position + 1}"
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where} : un objet {{filter, action}} est attendu.")
    raw_filter = data.get("filter") or {}
    if not isinstance(raw_filter, Mapping):
        raise InvalidInput(f"{where} : le filtre doit être un objet.")
    raw_action = data.get("action")
    if raw_action is not None and not isinstance(raw_action, Mapping):
        raise InvalidInput(
            f"{where} : choisissez une action (majoration, minoration ou réinitialisation)."
        )
    raw_action = raw_action or {}
    action_type = raw_action.get("type")
    if action_type is not None and not isinstance(action_type, str):
        raise InvalidInput(f"{where} : action « {action_type} » inconnue (raise, lower ou reset).")
    points = raw_action.get("points")
    if isinstance(points, bool) or not isinstance(points, Decimal | int | float | str | None):
        raise InvalidInput(f"{where} : « {points} » n'est pas un nombre de points.")
    return ScenarioDraft(
        filter={k: v for k, v in raw_filter.items() if v not in (None, "", [], ())},
        action_type=action_type or None,
        points=points,
    )


def scenario_parse(
    *, draft: ScenarioDraft, exam: Exam, user: User, position: int
) -> ParsedScenario:
    """R-MASS-4: the filter keys the exam's kind allows, known natural keys in the user's
    scope; an action among raise, lower and reset, with positive points on the step."""
    where = f"Scénario n°{position + 1}"
    raw_filter = {k: v for k, v in draft.filter.items() if v not in (None, "", [], ())}
    allowed = scenario_filter_keys(exam=exam)
    for key in raw_filter:
        if key not in allowed:
            kind = "ponctuelle" if exam.is_marked else "uniquement harmonisée"
            raise InvalidInput(
                f"{where} : le filtre « {key} » n'est pas proposé pour une épreuve {kind}.",
                details={"scenario": position, "key": key},
            )
    try:
        script_filter = script_filter_parse(
            data=raw_filter, exam=exam, user=user, scripts=scripts_in_scope(user=user, exam=exam)
        )
    except InvalidInput as error:
        raise InvalidInput(
            f"{where} : {error.message}", details={"scenario": position, **(error.details or {})}
        ) from None
    action_type = draft.action_type
    if not action_type:
        raise InvalidInput(
            f"{where} : choisissez une action (majoration, minoration ou réinitialisation)."
        )
    if action_type not in ACTIONS:
        raise InvalidInput(f"{where} : action « {action_type} » inconnue (raise, lower ou reset).")
    points = None
    if action_type != RESET:
        points = _points_parse(raw=draft.points, exam=exam, where=where)
    return ParsedScenario(filter=script_filter, action=Action(type=action_type, points=points))


def scenarios_parse(
    *, data: Sequence[ScenarioDraft | Mapping[str, Any]] | None, exam: Exam, user: User
) -> list[ParsedScenario]:
    """The scenarios of one harmonisation: typed drafts (the API), or API.md objects (the
    editor's form, a stored simulation) read by `scenario_draft_read`."""
    if not isinstance(data, list | tuple) or not data:
        raise InvalidInput("Une harmonisation a au moins un scénario.")
    scenarios_count_check(count=len(data))  # refused before any is read
    return [
        scenario_parse(
            draft=item
            if isinstance(item, ScenarioDraft)
            else scenario_draft_read(data=item, position=position),
            exam=exam,
            user=user,
            position=position,
        )
        for position, item in enumerate(data)
    ]


def scenarios_fingerprint(*, scenarios: list[ParsedScenario]) -> str:
    payload = json.dumps([scenario.as_dict() for scenario in scenarios], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
