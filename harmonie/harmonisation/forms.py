"""Reading the editor's form (names `s<N>-<key>`, `display-<key>`) into API.md objects,
and the choices each scenario's filter block shows (R-MASS-4, R-MASS-5)."""

import base64
import binascii
import json
import re
from typing import Any

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse

from harmonie.accounts.models import User
from harmonie.errors import InvalidInput
from harmonie.harmonisation.models import REASON_CODES
from harmonie.harmonisation.scenarios import scenario_filter_keys
from harmonie.marking.options import scope_filter_options
from harmonie.marking.permissions import scripts_in_scope
from harmonie.referential.models import Exam, Part
from harmonie.scriptfilter import (
    LIST_KEYS,
    LISTS,
    MARK_KEYS,
    ScriptFilter,
    script_filter_parse,
)

_SCENARIO_FIELD = re.compile(r"^s(\d+)-")

BLOCKS_MARKED = (
    ("Candidats", ("qualifications", "juries")),
    ("Correcteur", ("graders", "batches")),
)
BLOCKS_HARMONISATION_ONLY = (
    ("Contexte", ("departments", "schools", "class_groups")),
    ("Candidats", ("qualifications", "juries")),
)
# The widgets' labels, from the filter table; a scenario picks candidates by the school
# they registered in.
LABELS = {key: row.field_label for key, row in LISTS.items()} | {
    "schools": "Établissements d'inscription"
}
DISPLAY_KEYS = ("departments", "schools", "qualifications")


def scenario_from_post(*, data: QueryDict, index: int) -> dict:
    prefix = f"s{index}-"
    raw_filter: dict[str, Any] = {}
    for key in LIST_KEYS:
        values = [value for value in data.getlist(prefix + key) if value]
        if values:
            raw_filter[key] = values
    for key in MARK_KEYS:
        value = (data.get(prefix + key) or "").strip()
        if value:
            raw_filter[key] = value
    action: dict[str, Any] = {"type": data.get(prefix + "action") or None}
    if action["type"] in ("raise", "lower"):
        action["points"] = (data.get(prefix + "points") or "").strip()
    return {"filter": raw_filter, "action": action}


def scenarios_from_post(*, data: QueryDict) -> list[dict]:
    indices = sorted(
        {int(match.group(1)) for key in data if (match := _SCENARIO_FIELD.match(key)) is not None}
    )
    return [scenario_from_post(data=data, index=index) for index in indices]


def display_from_post(*, data: QueryDict) -> dict:
    return {
        key: values
        for key in DISPLAY_KEYS
        if (values := [value for value in data.getlist(f"display-{key}") if value])
    }


def statistics_url(*, exam: Exam) -> str:
    try:
        return reverse("statistics:exam", args=[exam.code])
    except NoReverseMatch:
        return f"/statistiques/{exam.code}/"


def scenario_context(*, user: User, exam: Exam, scenario: dict, index: int) -> dict:
    """What `_scenario.html` needs: the blocks with linked choices, marks, action."""
    raw_filter = {
        key: value
        for key, value in (scenario.get("filter") or {}).items()
        if key in scenario_filter_keys(exam=exam)
    }
    scripts = scripts_in_scope(user=user, exam=exam)
    try:
        parsed = script_filter_parse(data=raw_filter, exam=exam, user=user, scripts=scripts)
    except InvalidInput:
        parsed = ScriptFilter()
    shown = BLOCKS_MARKED if exam.is_marked else BLOCKS_HARMONISATION_ONLY
    options = scope_filter_options(
        user=user,
        exam=exam,
        script_filter=parsed,
        keys=tuple(k for _, keys in shown for k in keys),
    )
    blocks = []
    for title, keys in shown:
        fields = []
        for key in keys:
            selected = set(getattr(parsed, key))
            fields.append(
                {
                    "key": key,
                    "label": LABELS[key],
                    "options": [
                        {**option, "selected": option["value"] in selected}
                        for option in options[key]
                    ],
                }
            )
        blocks.append({"title": title, "fields": fields})
    action = scenario.get("action") or {}
    points = action.get("points")
    return {
        "index": index,
        "blocks": blocks,
        "mark_min": "" if parsed.mark_min is None else format(parsed.mark_min.normalize(), "f"),
        "mark_max": "" if parsed.mark_max is None else format(parsed.mark_max.normalize(), "f"),
        "mark_part": parsed.mark_part or "",
        "action": action.get("type") or "raise",
        "points": format(points, "g") if isinstance(points, int | float) else (points or ""),
    }


def exam_parts(*, exam: Exam) -> list[dict]:
    return list(Part.objects.filter(exam=exam).order_by("position").values("code", "label"))


def display_options(*, user: User, exam: Exam) -> list[dict]:
    options = scope_filter_options(
        user=user,
        exam=exam,
        script_filter=ScriptFilter(),
        keys=DISPLAY_KEYS,
    )
    return [
        {"key": key, "label": LABELS.get(key, key), "options": options[key]} for key in DISPLAY_KEYS
    ]


def reason_from_post(*, data: QueryDict) -> dict:
    """R-FAIR-5: the reason chosen at execution (`reason_code`, `reason_text`)."""
    return {"code": data.get("reason_code") or "other", "text": data.get("reason_text") or ""}


def reason_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in REASON_CODES.items()]


def draft_encode(*, scenarios: list[dict], reason: dict | None = None) -> str:
    """A draft harmonisation for the editor's address (`?draft=`): scenarios in API.md's
    shape and a reason, as URL-safe base64 JSON (used by proposed harmonisations)."""
    raw = json.dumps({"scenarios": scenarios, "reason": reason or {}}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def draft_decode(*, raw: str) -> dict:
    """The draft in `?draft=`; a damaged one is refused with a French message."""
    try:
        padded = raw + "=" * (-len(raw) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("Le brouillon d'harmonisation de l'adresse est illisible.") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios", []), list):
        raise InvalidInput("Le brouillon d'harmonisation de l'adresse est illisible.")
    reason = data.get("reason") if isinstance(data.get("reason"), dict) else {}
    return {"scenarios": data.get("scenarios") or [], "reason": reason}
