"""`GET /scripts/{id}` with the explanation of its final mark (API.md "Additions",
R-TRUST-1); mounted under /api/v1 by config.api.

Served here, above marking and harmonisation, because the explanation reads both:
marking never imports harmonisation (docs/decisions.md).
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from harmonie.explanation.selectors import script_explanation
from harmonie.marking.permissions import script_get_for_user
from harmonie.marking.selectors import script_detail

router = Router(tags=["harmonisation unitaire"])


class PersonOut(Schema):
    first_name: str
    last_name: str


class ExplanationReasonOut(Schema):
    code: str
    label: str
    text: str


class CancelledOut(Schema):
    id: int
    name: str
    executed_at: datetime


class ActionOut(Schema):
    type: str
    points: float | None = None


class ExplanationStepOut(Schema):
    """One step; `points` is what it adds to the final mark (the steps add up to it)."""

    kind: Literal["marking", "unit_edit", "harmonisation", "clamp", "conformity"]
    points: float | None
    text: str
    # marking
    mark: float | None = None
    special_mark: str | None = None
    grader: PersonOut | None = None
    # unit_edit (author), harmonisation (author)
    author: PersonOut | None = None
    at: datetime | None = None
    mark_before: float | None = None
    special_before: str | None = None
    # harmonisation
    harmonisation: int | None = None
    name: str | None = None
    executed_at: datetime | None = None
    reason: ExplanationReasonOut | None = None
    cancels: CancelledOut | None = None
    scenario: int | None = None
    filter: dict[str, Any] | None = None
    filter_description: list[list[str]] | None = None
    action: ActionOut | None = None
    # harmonisation, clamp
    delta: float | None = None
    # clamp
    bound: Literal["max", "min"] | None = None
    limit: float | None = None
    # conformity
    state: Literal["conforming", "not_conforming"] | None = None
    spread: dict[str, float] | None = None


class ScriptOut(Schema):
    id: str
    exam: str
    max_mark: float
    step: float
    scheme: list[dict[str, Any]]
    special_marks: list[str]
    marks: dict[str, Any]
    final_marks: dict[str, Any]
    initial_mark: float | None
    delta: float | None
    is_harmonised: bool
    final_mark: float | None
    special_mark: str | None
    annotations: list[Any]
    pages: list[str]
    version: int
    locked: bool
    batch: str | None
    subject: str | None
    editable: bool
    mode: str
    abilities: dict[str, bool]
    history: list[dict[str, Any]]
    explanation: list[ExplanationStepOut]
    explanation_text: str


@router.get(
    "/scripts/{script_id}",
    response=ScriptOut,
    summary="Une copie : barème, notes, annotations, historique, explication de la note",
)
def script_get(request: HttpRequest, script_id: str) -> dict:
    script, access = script_get_for_user(user=request.auth, public_id=script_id)
    detail = script_detail(script=script, can_edit=access.can_edit, mode=access.mode.value)
    explanation = script_explanation(script=script)
    return {
        **detail,
        "abilities": access.abilities(),
        "explanation": explanation.steps_as_dicts(),
        "explanation_text": explanation.text,
    }
