"""Scripts and batches: the scope of each user and the abilities on each (R-UNIT-1, R-ACC-1).

For pages and API alike, built on the exam abilities of `harmonie.referential.permissions`:
- an academic coordinator (ability `unit_harmonise`) opens and edits the scripts of
  LOCKED batches of his academy (unit harmonisation);
- a grader (ability `grade`) opens his own scripts and edits them while his batch is
  UNLOCKED (grading), and locks his batch when marking is finished;
- the exam office (ability `lock_batches`) locks and unlocks the batches of its academy.
A script or batch outside the user's scope is absent (404); a role without the ability
gets 403.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import QuerySet

from harmonie.accounts.models import User
from harmonie.accounts.permissions import is_academy_staff, is_grader, is_school, require
from harmonie.errors import Conflict, Forbidden, NotFound
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Exam
from harmonie.referential.permissions import exam_abilities, exam_get_for_user

UNLOCKED_MESSAGE = "Le lot de cette copie n'est pas verrouillé : elle ne peut pas être harmonisée."
LOCKED_MESSAGE = "Le lot de cette copie est verrouillé : la correction ne peut plus être modifiée."


# --- scope ------------------------------------------------------------------------------


def scripts_in_scope(*, user: User, exam: Exam) -> QuerySet[Script]:
    """Scripts of `exam` the user may see: their academy, school or batches."""
    scripts = Script.objects.filter(exam=exam)
    if is_academy_staff(user) and user.academy_id is not None:
        return scripts.filter(academy_id=user.academy_id)
    if is_school(user) and user.school_id is not None:
        return scripts.filter(school_id=user.school_id)
    if is_grader(user):
        return scripts.filter(grader=user)
    return scripts.none()


def batches_in_scope(*, user: User, exam: Exam | None = None) -> QuerySet[Batch]:
    batches = Batch.objects.all() if exam is None else Batch.objects.filter(exam=exam)
    if is_academy_staff(user) and user.academy_id is not None:
        return batches.filter(academy_id=user.academy_id)
    if is_grader(user):
        return batches.filter(grader=user)
    return batches.none()


# --- scripts ----------------------------------------------------------------------------


class MarkingMode(StrEnum):
    UNIT = "unit"  # unit harmonisation by a coordinator
    GRADING = "grading"  # marking by the batch's grader


@dataclass(frozen=True)
class ScriptAccess:
    mode: MarkingMode
    can_edit: bool
    reason: str = ""

    def abilities(self) -> dict[str, bool]:
        """The script's `abilities` (API and pages): open it, save its marking."""
        return {"view": True, "edit": self.can_edit}


def script_abilities(*, mode: MarkingMode, locked: bool) -> dict[str, bool]:
    """The abilities on a script of the user's scope opened in `mode`: a coordinator edits
    a script of a locked batch (R-UNIT-1), a grader one of his unlocked batch."""
    return {"view": True, "edit": (mode == MarkingMode.UNIT) == locked}


def marking_mode(*, user: User, exam: Exam) -> MarkingMode:
    abilities = exam_abilities(user=user, exam=exam)
    if abilities.unit_harmonise:
        return MarkingMode.UNIT
    if abilities.grade:
        return MarkingMode.GRADING
    raise Forbidden("Votre rôle ne permet pas d'ouvrir la correction des copies.")


def unit_scripts(*, user: User, exam: Exam) -> QuerySet[Script]:
    """Scripts listed in unit harmonisation: the user's, of locked batches (R-UNIT-1)."""
    if not exam_abilities(user=user, exam=exam).unit_harmonise:
        raise Forbidden("Seul le coordinateur académique harmonise les copies une à une.")
    return scripts_in_scope(user=user, exam=exam).filter(locked=True)


def script_access(*, user: User, script: Script) -> ScriptAccess:
    mode = marking_mode(user=user, exam=script.exam)
    if script_abilities(mode=mode, locked=script.locked)["edit"]:
        return ScriptAccess(mode=mode, can_edit=True)
    reason = UNLOCKED_MESSAGE if mode == MarkingMode.UNIT else LOCKED_MESSAGE
    return ScriptAccess(mode=mode, can_edit=False, reason=reason)


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


def exam_for_script_filter(*, user: User, code: str) -> Exam:
    """The exam whose scripts the user filters (the linked filter options, R-MASS-5): the
    statistics, unit and mass harmonisation readers (404 outside the scope, else 403)."""
    exam = exam_get_for_user(user=user, code=code)
    abilities = exam_abilities(user=user, exam=exam)
    require(
        allowed=abilities.view_statistics or abilities.unit_harmonise or abilities.mass_harmonise,
        message="Votre rôle ne permet pas de filtrer les copies de cette épreuve.",
    )
    return exam


# --- batches ----------------------------------------------------------------------------


def batch_abilities(*, user: User) -> dict[str, bool]:
    """What the user may do on a batch of his scope: the exam office locks and unlocks
    (R-VAL-9); the batch's grader locks it when marking is finished, and marks it."""
    abilities = exam_abilities(user=user)
    return {
        "lock": abilities.lock_batches or abilities.grade,
        "unlock": abilities.lock_batches,
        "grade": abilities.grade,
    }


def batch_lock_check(*, user: User) -> None:
    require(
        allowed=batch_abilities(user=user)["lock"],
        message="Seuls le gestionnaire DEC et le correcteur du lot peuvent le verrouiller.",
    )


def batch_unlock_check(*, user: User) -> None:
    require(
        allowed=batch_abilities(user=user)["unlock"],
        message="Seul le gestionnaire DEC peut déverrouiller un lot.",
    )


def grader_pages_check(*, user: User) -> None:
    """The grader's pages (his batches, one batch, its lock) are his only."""
    require(
        allowed=exam_abilities(user=user).grade,
        message="Cette page est réservée aux correcteurs.",
    )
