"""Change a script's marking: unit harmonisation by a coordinator, grading by a grader
(R-UNIT-1, R-UNIT-4, R-MARK-1..4)."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.errors import Conflict, InvalidInput, NotFound
from harmonie.marking.models import Script, ScriptVersion
from harmonie.marking.pages import script_page_count
from harmonie.marking.permissions import (
    LOCKED_MESSAGE,
    UNLOCKED_MESSAGE,
    MarkingMode,
    script_access,
    script_get_for_user,
)
from harmonie.marking.rules import (
    annotations_validate,
    final_mark_compute,
    leaf_marks_validate,
    marks_as_json,
    marks_total,
)
from harmonie.referential.models import Exam
from harmonie.referential.scheme import GLOBAL_MARK
from harmonie.referential.scheme import exam_leaves as scheme_leaves
from harmonie.referential.versions import marks_version_bump

# AB is an attendance record (R-MARK-2), not a mark anyone edits in the viewer.
NOT_EDITABLE_SPECIAL_MARKS = ("AB",)


def exam_leaves(*, exam: Exam) -> dict[str, Decimal]:
    """Leaf codes with their maximum; a harmonisation-only exam has one `global` leaf."""
    if not exam.is_marked:
        return {GLOBAL_MARK: exam.max_mark}
    return scheme_leaves(exam_id=exam.pk)


def editable_special_marks(*, exam: Exam) -> list[str]:
    return [code for code in exam.special_marks if code not in NOT_EDITABLE_SPECIAL_MARKS]


def _state(script: Script) -> dict[str, Any]:
    return {
        "marks": script.marks,
        "special_mark": script.special_mark,
        "initial_mark": None if script.initial_mark is None else float(script.initial_mark),
        "final_mark": None if script.final_mark is None else float(script.final_mark),
        "annotations": len(script.annotations),
        "version": script.version,
    }


def _author_name(user: User) -> str:
    return user.get_full_name() or user.username


def script_marking_update(
    *,
    user: User,
    public_id: str,
    marks: Any,
    special_mark: Any,
    annotations: Any,
    version: int | None = None,
) -> Script:
    """Save a script's marking in one transaction.

    Validates (bounds, step, leaf max, special mark, annotations), stores a new version
    with its author, recomputes initial and final marks (delta kept, conformity to redo),
    bumps the exam's marks version and writes the audit row. Refuses with 409 when the
    batch's lock state forbids the edit or when `version` is not the script's current
    one (someone saved in between). Returns the script unchanged when nothing changed.
    """
    probe, _access = script_get_for_user(user=user, public_id=public_id)
    exam_snapshot = probe.exam
    if special_mark is not None and special_mark != "":
        if not isinstance(special_mark, str) or special_mark not in editable_special_marks(
            exam=exam_snapshot
        ):
            allowed = ", ".join(editable_special_marks(exam=exam_snapshot)) or "aucune"
            raise InvalidInput(
                f"Note particulière « {special_mark} » non autorisée (possibles : {allowed}).",
                details={"special_mark": special_mark},
            )
        new_marks: dict[str, Decimal] = {}
    else:
        special_mark = None
        new_marks = leaf_marks_validate(
            marks=marks, leaves=exam_leaves(exam=exam_snapshot), step=exam_snapshot.step
        )
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidInput("« version » doit être un entier.")

    with transaction.atomic():
        # The exam row is the lock every mark-changing service takes first (R-MASS-10).
        exam = Exam.objects.select_for_update().get(pk=exam_snapshot.pk)
        script = Script.objects.select_for_update().filter(pk=probe.pk).first()
        if script is None:
            raise NotFound(f"Copie « {public_id} » introuvable ou hors de votre périmètre.")
        script.exam = exam
        access = script_access(user=user, script=script)
        if not access.can_edit:
            raise Conflict(
                UNLOCKED_MESSAGE if access.mode == MarkingMode.UNIT else LOCKED_MESSAGE,
                code="batch_unlocked" if access.mode == MarkingMode.UNIT else "batch_locked",
            )
        if version is not None and version != script.version:
            raise Conflict(
                "Cette copie a été modifiée depuis son ouverture "
                f"(version {script.version}, vous aviez la version {version}) : "
                "rechargez-la avant d'enregistrer.",
                code="stale_version",
                details={"current_version": script.version},
            )
        now = timezone.now()
        new_annotations = annotations_validate(
            annotations=annotations if annotations is not None else script.annotations,
            pages=script_page_count(script=script),
            author=_author_name(user),
            at=now.isoformat(timespec="seconds"),
            previous=script.annotations,
        )
        marks_json = marks_as_json(new_marks)
        if (
            marks_json == script.marks
            and special_mark == script.special_mark
            and new_annotations == script.annotations
        ):
            return script

        before = _state(script)
        if not script.versions.exists():
            # The marking as it stood before the first edit: the grader's correction.
            ScriptVersion.objects.create(
                script=script,
                number=script.version,
                author=None,
                marks=script.marks,
                special_mark=script.special_mark,
                annotations=script.annotations,
                initial_mark=script.initial_mark,
            )
        last = script.versions.aggregate(last=Max("number"))["last"] or 0
        script.marks = marks_json
        script.special_mark = special_mark
        script.initial_mark = None if special_mark else marks_total(new_marks)
        script.final_mark = final_mark_compute(
            initial=script.initial_mark, delta=script.delta, maximum=exam.max_mark
        )
        script.final_marks = None
        script.annotations = new_annotations
        script.version = max(script.version, last) + 1
        script.save(
            update_fields=[
                "marks",
                "special_mark",
                "initial_mark",
                "final_mark",
                "final_marks",
                "annotations",
                "version",
                "updated_at",
            ]
        )
        ScriptVersion.objects.create(
            script=script,
            number=script.version,
            author=user,
            marks=script.marks,
            special_mark=script.special_mark,
            annotations=script.annotations,
            initial_mark=script.initial_mark,
        )
        marks_version_bump(exam_id=exam.pk, academy_ids=[script.academy_id], script_ids=[script.pk])
        audit_log(
            actor=user,
            action="script.marking_updated" if access.mode == MarkingMode.UNIT else "script.graded",
            target_type="script",
            target_id=script.public_id,
            exam=exam,
            academy=script.academy,
            before=before,
            after=_state(script),
        )
        return script
