"""One supervisor for a validation's delivery, whatever the number of workers (R-VAL-6).

With two workers, one can run a supervisor round while the other runs senders, and two
senders can look for a waiting round at the same instant: each must leave one chain of
rounds, not start another beside it.
"""

import contextlib
import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from harmonie.validation import delivery, task_state
from harmonie.validation.delivery import deliveries_supervise, message_deliver
from harmonie.validation.models import MessageState
from harmonie.validation.services import validation_execute

pytestmark = pytest.mark.django_db(transaction=True)


def _round_of(validation) -> DBTaskResult:
    validation.refresh_from_db()
    return DBTaskResult.objects.get(pk=validation.supervisor_task_id)


def test_a_sender_beside_a_running_round_starts_no_second_supervisor(standins, world, worker):
    """Worker 1 runs the supervisor's round while worker 2 sends a message: the sender
    finds the round running (not waiting) and leaves it to schedule the next one."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    round_ = _round_of(validation)
    round_.claim("worker-1")  # the round, running on worker 1
    results = validation.messages.get(system="results")
    assert message_deliver(message_id=results.pk) == MessageState.DELIVERED  # worker 2
    assert deliveries_supervise(validation_id=validation.pk)  # the round, payroll still open
    assert len(worker.waiting("deliveries_supervise_task")) == 1


def test_a_dead_round_is_replaced_by_the_next_sender(standins, world, worker, clock):
    """A round whose worker died stays `running` for ever: once it has run for longer
    than a lease, the next sender schedules a new round."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    dead = _round_of(validation)
    dead.claim("killed-worker")
    clock.advance(delivery.validation_config().lease_seconds + 1)
    results = validation.messages.get(system="results")
    assert message_deliver(message_id=results.pk) == MessageState.DELIVERED
    [waiting] = worker.waiting("deliveries_supervise_task")
    assert waiting.pk != dead.pk
    assert waiting.pk == _round_of(validation).pk


@pytest.mark.postgres
def test_two_senders_at_the_same_instant_schedule_one_round(world, worker, monkeypatch):
    """The last round has ended; two senders (two workers) look for a waiting one at the
    same instant: the validation's row serialises them, the second finds the first's."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrous de lignes)")
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    DBTaskResult.objects.filter(task_path__endswith=".deliveries_supervise_task").delete()
    both_looked = threading.Barrier(2)
    task_result = task_state.task_result

    def looked(task, task_id):
        # Both senders read the waiting round before either schedules one, unless the
        # first holds the row until it has scheduled (then the barrier gives up).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_looked.wait(timeout=2)
        return task_result(task, task_id)

    monkeypatch.setattr(task_state, "task_result", looked)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            delivery._supervisor_enqueue(validation.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    [waiting] = worker.waiting("deliveries_supervise_task")
    assert waiting.pk == _round_of(validation).pk
