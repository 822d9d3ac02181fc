"""Who may open and edit a script's marking (R-UNIT-1, R-ACC-1), for pages and API.

Built on `harmonie.accounts.permissions` (the one source of roles and scopes):
- an academic coordinator (ability `unit_harmonise`) opens and edits the scripts of
  LOCKED batches of his academy (unit harmonisation);
- a grader (ability `grade`) opens his own scripts and edits them while his batch is
  UNLOCKED (grading).
A script outside the user's scope is absent (404); a role without either ability gets 403.
"""

from dataclasses import dataclass
from enum import StrEnum

from harmonie.accounts.models import User
from harmonie.accounts.permissions import exam_abilities, scripts_in_scope
from harmonie.errors import Conflict, Forbidden, NotFound
from harmonie.marking.models import Script
from harmonie.referential.models import Exam

UNLOCKED_MESSAGE = "Le lot de cette copie n'est pas verrouillé : elle ne peut pas être harmonisée."
LOCKED_MESSAGE = "Le lot de cette copie est verrouillé : la correction ne peut plus être modifiée."


class MarkingMode(StrEnum):
    UNIT = "unit"  # unit harmonisation by a coordinator
    GRADING = "grading"  # marking by the batch's grader


@dataclass(frozen=True)
class ScriptAccess:
    mode: MarkingMode
    can_edit: bool
    reason: str = ""


def marking_mode(*, user: User, exam: Exam) -> MarkingMode:
    abilities = exam_abilities(user=user, exam=exam)
    if abilities.unit_harmonise:
        return MarkingMode.UNIT
    if abilities.grade:
        return MarkingMode.GRADING
    raise Forbidden("Votre rôle ne permet pas d'ouvrir la correction des copies.")


def unit_scripts(*, user: User, exam: Exam):
    """Scripts listed in unit harmonisation: the user's, of locked batches (R-UNIT-1)."""
    if not exam_abilities(user=user, exam=exam).unit_harmonise:
        raise Forbidden("Seul le coordinateur académique harmonise les copies une à une.")
    return scripts_in_scope(user=user, exam=exam).filter(locked=True)


def script_access(*, user: User, script: Script) -> ScriptAccess:
    mode = marking_mode(user=user, exam=script.exam)
    if mode == MarkingMode.UNIT:
        if not script.locked:
            return ScriptAccess(mode=mode, can_edit=False, reason=UNLOCKED_MESSAGE)
        return ScriptAccess(mode=mode, can_edit=True)
    if script.locked:
        return ScriptAccess(mode=mode, can_edit=False, reason=LOCKED_MESSAGE)
    return ScriptAccess(mode=mode, can_edit=True)


def script_get_for_user(*, user: User, public_id: str) -> tuple[Script, ScriptAccess]:
    """The script if the user may open it, with what he may do.

    A coordinator never opens a script of an unlocked batch (409, R-UNIT-1).
    """
    script = (
        Script.objects.select_related("exam", "batch", "department", "school", "subject", "grader")
        .filter(public_id=public_id)
        .first()
    )
    if (
        script is None
        or not scripts_in_scope(user=user, exam=script.exam).filter(pk=script.pk).exists()
    ):
        raise NotFound(f"Copie « {public_id} » introuvable ou hors de votre périmètre.")
    access = script_access(user=user, script=script)
    if access.mode == MarkingMode.UNIT and not access.can_edit:
        raise Conflict(access.reason, code="batch_unlocked")
    return script, access
