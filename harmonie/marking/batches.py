"""Lock and unlock a batch (R-UNIT-1, R-VAL-9): scripts follow their batch's state."""

from django.db import transaction

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.errors import NotFound
from harmonie.marking.models import Batch, Script
from harmonie.marking.permissions import batch_lock_check, batch_unlock_check, batches_in_scope
from harmonie.referential.models import Exam
from harmonie.referential.versions import marks_version_bump


def _batch_for_update(*, user: User, code: str) -> Batch:
    batch = batches_in_scope(user=user).select_for_update().filter(code=code).first()
    if batch is None:
        raise NotFound(f"Lot « {code} » introuvable ou hors de votre périmètre.")
    return batch


def _batch_set_locked(*, user: User, code: str, locked: bool) -> Batch:
    with transaction.atomic():
        probe = batches_in_scope(user=user).filter(code=code).values("exam_id").first()
        if probe is None:
            raise NotFound(f"Lot « {code} » introuvable ou hors de votre périmètre.")
        # The exam row is the lock every mark-changing service takes first (R-MASS-10).
        exam = Exam.objects.select_for_update().get(pk=probe["exam_id"])
        batch = _batch_for_update(user=user, code=code)
        if batch.locked == locked:
            return batch
        batch.locked = locked
        batch.save(update_fields=["locked"])
        script_ids = list(Script.objects.filter(batch=batch).values_list("pk", flat=True))
        scripts = Script.objects.filter(batch=batch).update(locked=locked)
        marks_version_bump(exam_id=exam.pk, academy_ids=[batch.academy_id], script_ids=script_ids)
        audit_log(
            actor=user,
            action="batch.locked" if locked else "batch.unlocked",
            target_type="batch",
            target_id=batch.code,
            exam=exam,
            academy=batch.academy,
            before={"locked": not locked},
            after={"locked": locked, "scripts": scripts},
        )
        return batch


def batch_lock(*, user: User, code: str) -> Batch:
    """The exam office, or the batch's own grader when marking is finished, locks it."""
    batch_lock_check(user=user)
    return _batch_set_locked(user=user, code=code, locked=True)


def batch_unlock(*, user: User, code: str) -> Batch:
    """Only the exam office unlocks, even after transmission (R-VAL-9)."""
    batch_unlock_check(user=user)
    return _batch_set_locked(user=user, code=code, locked=False)
