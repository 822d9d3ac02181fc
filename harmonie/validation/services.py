"""Validate an exam (R-VAL-1..3) and retry its delivery; the delivery itself is in
`delivery` (R-VAL-6)."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.errors import Conflict, Forbidden
from harmonie.marking.models import Batch
from harmonie.referential.models import Exam, Registration
from harmonie.validation import rules
from harmonie.validation.conf import validation_config
from harmonie.validation.delivery import deliveries_start, messages_enqueue
from harmonie.validation.models import DeliveryMessage, MessageState, System, Validation
from harmonie.validation.permissions import (
    exam_for_validation,
    retry_check,
    validation_get_for_user,
)
from harmonie.validation.selectors import (
    candidate_counts,
    marks_records,
    validation_in_progress,
    validation_latest,
    work_done_records,
)


def validation_execute(*, user: User, exam_code: str) -> Validation:
    """Record the validation and its exact payload per system, then deliver in the background.

    One transaction under the exam's row lock (the lock every mark-changing service takes):
    the payload is the state of the marks at one instant, and two validations of the same
    exam cannot overlap (409 while the previous one is still delivering).
    """
    exam = exam_for_validation(user=user, code=exam_code)
    academy = user.academy
    if academy is None:  # the exam scope of a user without an academy is empty
        raise Forbidden("Votre compte n'est rattaché à aucune académie.")
    config = validation_config()
    with transaction.atomic():
        exam = Exam.objects.select_for_update().select_related("session").get(pk=exam.pk)
        running = validation_in_progress(exam=exam, academy_id=academy.pk)
        if running is not None:
            raise Conflict(
                f"La validation n° {running.pk} de cette épreuve est encore en cours de "
                "transmission : attendez sa fin, ou relancez ses envois depuis son rapport.",
                code="validation_in_progress",
                details={"validation": running.pk},
            )
        counts = candidate_counts(exam=exam, academy_id=academy.pk)
        if not counts.get(rules.MARKED) and not counts.get(rules.UNMARKED):
            raise Conflict(
                "Aucune copie d'un lot verrouillé dans votre académie : rien à transmettre. "
                "Il faut au moins un lot verrouillé sur cette épreuve.",
                code="nothing_locked",
            )
        mode = rules.transmission_mode(counts)
        validation = Validation.objects.create(
            exam=exam,
            academy=academy,
            author=user,
            mode=mode,
            reasons=[
                {"code": reason["code"], "count": reason["count"]}
                for reason in rules.partial_reasons(counts)
            ],
            frauds=Registration.objects.filter(
                exam=exam, academy=academy, candidate__fraud=True
            ).count(),
            marks_version=exam.marks_version,
            locked_batches=list(
                Batch.objects.filter(exam=exam, academy=academy, locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
        )
        envelope = {
            "validation": str(validation.public_id),
            "session": exam.session.code,
            "exam": exam.code,
            "academy": academy.code,
        }
        validation.marks_count = _messages_write(
            validation=validation,
            system=System.RESULTS,
            envelope={**envelope, "max_mark": rules.mark_number(exam.max_mark)},
            records=marks_records(exam=exam, academy_id=academy.pk, mode=mode),
            chunk_size=config.chunk_size,
        )
        validation.work_done_count = _messages_write(
            validation=validation,
            system=System.PAYROLL,
            envelope=envelope,
            records=work_done_records(exam=exam, academy_id=academy.pk),
            chunk_size=config.chunk_size,
        )
        validation.save(update_fields=["marks_count", "work_done_count"])
        audit_log(
            actor=user,
            action="validation.executed",
            target_type="validation",
            target_id=validation.pk,
            exam=exam,
            academy=academy,
            after={
                "mode": mode,
                "marks": validation.marks_count,
                "work_done": validation.work_done_count,
                "reasons": validation.reasons,
            },
        )
        transaction.on_commit(partial(deliveries_start, validation_id=validation.pk))
    return validation


def _messages_write(
    *, validation: Validation, system: str, envelope: dict, records: Iterable[dict], chunk_size: int
) -> int:
    """One row per message, written as the records stream by (a 5,000-record chunk at a time).

    One INSERT per message rather than `bulk_create`: on PostgreSQL the latter sends rows
    as arrays, and quoting megabytes of JSON into an array literal costs seconds.
    """
    total = 0
    for number, chunk in enumerate(rules.chunks(records, chunk_size), start=1):
        total += len(chunk)
        DeliveryMessage.objects.create(
            validation=validation,
            system=system,
            number=number,
            payload={**envelope, "chunk": number, "records": chunk},
            record_count=len(chunk),
        )
    return total


def validation_retry(*, user: User, validation_id: int) -> int:
    """Send again, now, what failed, stalled or waits for a retry (the report's button)."""
    validation = validation_get_for_user(user=user, validation_id=validation_id)
    retry_check(user=user)
    now = timezone.now()
    with transaction.atomic():
        Exam.objects.select_for_update().get(pk=validation.exam_id)
        latest = validation_latest(exam=validation.exam, academy_id=validation.academy_id)
        if latest is not None and latest.pk != validation.pk:
            raise Conflict(
                "Une validation plus récente existe : relancer celle-ci enverrait un état "
                "périmé. Validez à nouveau pour envoyer l'état actuel.",
                code="validation_superseded",
                details={"latest": latest.pk},
            )
        retry = (
            DeliveryMessage.objects.select_for_update()
            .filter(validation=validation)
            .filter(
                Q(state=MessageState.FAILED)
                | Q(state=MessageState.SENDING, lease_until__lt=now)
                | Q(state=MessageState.PENDING, attempts__gt=0)
            )
        )
        ids = list(retry.values_list("pk", flat=True))
        if not ids:
            return 0
        DeliveryMessage.objects.filter(pk__in=ids, state=MessageState.FAILED).update(attempts=0)
        DeliveryMessage.objects.filter(pk__in=ids).update(
            state=MessageState.PENDING, lease_until=None, next_attempt_at=now
        )
        audit_log(
            actor=user,
            action="validation.retried",
            target_type="validation",
            target_id=validation.pk,
            exam=validation.exam,
            academy=validation.academy,
            after={"messages": len(ids)},
        )
        transaction.on_commit(partial(messages_enqueue, validation_id=validation.pk, ids=ids))
    return len(ids)
