"""Delivery of a validation's messages (R-VAL-6), run by the task worker.

Delivery of one message is three short steps, never a transaction held over the network:
claim it (state `sending`, a lease, one more attempt), send it with its idempotency key,
record the answer. A failed attempt schedules the next one for later (`run_after`, with
back-off). A sender that dies leaves `sending` with a lease that runs out; the supervisor
then hands the message to a new task, which sends the same key again: the remote system
answers the stored result without applying it twice.

The tasks are declared here, beside what they run and what enqueues them, so that this
module imports nothing that imports it back; `tasks` lists them for the worker. Delivery
needs a task backend that defers tasks and keeps their results (django-tasks-db's, in
production and in the tests alike).
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from harmonie.validation import rules
from harmonie.validation.adapters import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    adapter_for,
)
from harmonie.validation.conf import validation_config
from harmonie.validation.models import DeliveryMessage, MessageState, Validation
from harmonie.validation.selectors import OPEN_STATES
from harmonie.validation.task_state import task_alive

logger = logging.getLogger(__name__)


# --- the worker's tasks: they take ids and re-read the state ----------------------------


@task(queue_name="delivery")
def message_deliver_task(message_id: int) -> str:
    return message_deliver(message_id=message_id)


@task(queue_name="delivery")
def deliveries_supervise_task(validation_id: int) -> bool:
    return deliveries_supervise(validation_id=validation_id)


def _message_enqueue(message_id: int, *, run_after: datetime | None = None) -> None:
    deliver = message_deliver_task
    if run_after is not None and run_after > timezone.now():
        deliver = deliver.using(run_after=run_after)
    result = deliver.enqueue(message_id)
    DeliveryMessage.objects.filter(pk=message_id).update(
        task_id=str(result.id), task_enqueued_at=timezone.now()
    )


def _supervisor_enqueue(validation_id: int, *, chained: bool = False) -> None:
    """Schedule the next supervisor round unless one is waiting, or running (it schedules
    the next itself); `chained`: the running round schedules its successor.

    Under the validation's row lock: with several workers, a sender can look while another
    worker runs the round, or two senders at the same instant; either way one chain of
    rounds goes on, not one more per look.
    """
    lease = timedelta(seconds=validation_config().lease_seconds)
    with transaction.atomic():
        current = (
            Validation.objects.select_for_update()
            .filter(pk=validation_id)
            .values_list("supervisor_task_id", flat=True)
            .first()
        )
        if current is None:
            return
        if not chained and task_alive(
            deliveries_supervise_task, current, started_after=timezone.now() - lease
        ):
            return
        run_after = timezone.now() + timedelta(seconds=validation_config().supervise_every)
        result = deliveries_supervise_task.using(run_after=run_after).enqueue(validation_id)
        Validation.objects.filter(pk=validation_id).update(supervisor_task_id=str(result.id))


def deliveries_start(*, validation_id: int) -> None:
    """Enqueue one task per message still to send, and the supervisor."""
    ids = list(
        DeliveryMessage.objects.filter(validation_id=validation_id, state=MessageState.PENDING)
        .order_by("system", "number")
        .values_list("pk", flat=True)
    )
    if ids:
        _supervisor_enqueue(validation_id)
    for message_id in ids:
        _message_enqueue(message_id)


def message_deliver(*, message_id: int) -> str:
    """Send one message if it is still to send; return its state afterwards."""
    config = validation_config()
    now = timezone.now()
    with transaction.atomic():
        message = (
            DeliveryMessage.objects.select_for_update()
            .select_related("validation")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.state in (MessageState.DELIVERED, MessageState.FAILED):
            return message.state if message else "missing"
        if (
            message.state == MessageState.SENDING
            and message.lease_until is not None
            and message.lease_until > now
        ):
            return message.state  # another sender holds it
        if (
            message.state == MessageState.PENDING
            and message.next_attempt_at
            and message.next_attempt_at > now + timedelta(seconds=1)
        ):
            return message.state  # an early duplicate: the scheduled task will send it
        message.state = MessageState.SENDING
        message.attempts += 1
        message.lease_until = now + timedelta(seconds=config.lease_seconds)
        message.save(update_fields=["state", "attempts", "lease_until"])
        attempt = message.attempts
        key = message.idempotency_key
        payload = message.payload
        system = message.system
        validation_id = message.validation_id
    # Whatever killed an earlier round of supervision, a sender makes sure one is coming.
    _supervisor_enqueue(validation_id)
    try:
        outcomes = adapter_for(system).send(key=key, payload=payload)
    except DeliveryError as error:
        return _attempt_failed(message_id=message_id, attempt=attempt, error=error)
    except Exception as error:  # a bug must not leave the message silently stuck
        logger.exception("message %s: erreur inattendue", key)
        return _attempt_failed(
            message_id=message_id,
            attempt=attempt,
            error=TransientDeliveryError(f"Erreur inattendue : {type(error).__name__}."),
        )
    return _attempt_succeeded(
        message_id=message_id,
        results=[(o.ref, o.outcome, o.reason) for o in outcomes],
    )


ACKNOWLEDGEMENT_FIELDS = (
    "state",
    "acknowledged_at",
    "lease_until",
    "next_attempt_at",
    "last_error",
    "written",
    "kept",
    "refused",
    "reason_counts",
    "exceptions",
)


def _attempt_succeeded(*, message_id: int, results: list[tuple[str, str, str | None]]) -> str:
    by_outcome, by_reason, exceptions = rules.outcomes_summarise(results)
    with transaction.atomic():
        # The payload stays as recorded: neither read back nor written again (5,000
        # records: a third of a worker's CPU per message when it was).
        message = DeliveryMessage.objects.select_for_update().defer("payload").get(pk=message_id)
        if message.state == MessageState.DELIVERED:
            return message.state
        # Even if the message was failed meanwhile: the remote system applied it, and says so.
        message.state = MessageState.DELIVERED
        message.acknowledged_at = timezone.now()
        message.lease_until = None
        message.next_attempt_at = None
        message.last_error = ""
        message.written = by_outcome["written"]
        message.kept = by_outcome["kept"]
        message.refused = by_outcome["refused"]
        message.reason_counts = dict(by_reason)
        message.exceptions = exceptions
        message.save(update_fields=ACKNOWLEDGEMENT_FIELDS)
    return MessageState.DELIVERED


def _attempt_failed(*, message_id: int, attempt: int, error: DeliveryError) -> str:
    config = validation_config()
    with transaction.atomic():
        message = DeliveryMessage.objects.select_for_update().defer("payload").get(pk=message_id)
        if message.state != MessageState.SENDING or message.attempts != attempt:
            return message.state  # taken over by another sender after our lease ran out
        message.last_error = error.message
        message.lease_until = None
        if isinstance(error, PermanentDeliveryError) or attempt >= config.max_attempts:
            message.state = MessageState.FAILED
            message.next_attempt_at = None
        else:
            message.state = MessageState.PENDING
            message.next_attempt_at = timezone.now() + timedelta(
                seconds=rules.retry_delay(
                    attempt=attempt, base=config.retry_backoff, maximum=config.retry_backoff_max
                )
            )
        message.save(update_fields=["state", "last_error", "lease_until", "next_attempt_at"])
        if message.state == MessageState.PENDING:
            transaction.on_commit(
                partial(_message_enqueue, message.pk, run_after=message.next_attempt_at)
            )
    return message.state


def deliveries_supervise(*, validation_id: int) -> bool:
    """Hand messages of dead senders to new tasks; True while the validation still delivers.

    Runs every `supervise_every` seconds while something is open. A worker killed in the
    middle of a message leaves it `sending` (lease runs out) or `pending` with a task that
    will never finish: both get a new task, and the idempotency key does the rest.
    """
    open_messages = DeliveryMessage.objects.filter(
        validation_id=validation_id, state__in=OPEN_STATES
    )
    if not open_messages.exists():
        return False
    _supervisor_enqueue(validation_id, chained=True)
    now = timezone.now()
    lease = timedelta(seconds=validation_config().lease_seconds)
    with transaction.atomic():
        stale = list(
            open_messages.select_for_update()
            .filter(state=MessageState.SENDING, lease_until__lt=now)
            .values_list("pk", flat=True)
        )
        DeliveryMessage.objects.filter(pk__in=stale).update(
            state=MessageState.PENDING,
            lease_until=None,
            next_attempt_at=now,
            last_error="Envoi interrompu (processus de transmission arrêté) : repris.",
        )
    for row in open_messages.filter(state=MessageState.PENDING).values(
        "pk", "task_id", "next_attempt_at"
    ):
        if row["pk"] in stale or not task_alive(
            message_deliver_task, row["task_id"], started_after=now - lease
        ):
            _message_enqueue(row["pk"], run_after=row["next_attempt_at"])
    return True


def messages_enqueue(*, validation_id: int, ids: list[int]) -> None:
    """Send these messages now (the retry button), under supervision."""
    _supervisor_enqueue(validation_id)
    for message_id in ids:
        _message_enqueue(message_id)
