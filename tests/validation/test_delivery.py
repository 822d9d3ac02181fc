"""Delivery to the stand-ins: outcomes per record, retries, nothing lost, nothing twice
(R-VAL-4, R-VAL-5, R-VAL-6). Tasks go through the production path: recorded by the
database task backend, run by django-tasks-db's worker loop in the test process (`worker`);
a failed attempt's deferred retry and the supervisor's rounds run when the clock reaches
them (`clock`), a retry is also driven by `validation_retry` (the report's button)."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from harmonie.errors import Conflict
from harmonie.validation import delivery
from harmonie.validation.adapters import ResultsSystemAdapter
from harmonie.validation.conf import validation_config
from harmonie.validation.delivery import message_deliver
from harmonie.validation.models import DeliveryMessage, MessageState
from harmonie.validation.report import validation_exceptions, validation_report
from harmonie.validation.services import validation_execute, validation_retry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def validate(world, worker):
    """Validate, then let the worker run what is due."""

    def run():
        validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
        worker.run()
        return validation

    return run


@pytest.fixture
def retry(world, worker):
    """The report's retry button, then the worker."""

    def run(validation):
        count = validation_retry(user=world["coordinator"], validation_id=validation.pk)
        worker.run()
        return count

    return run


def _system(validation, system):
    report = validation_report(validation=validation)
    return next(s for s in report.systems if s.system == system), report


def test_hand_entered_di_and_zero_are_kept(standins, validate):
    """R-VAL-4: a hand-entered DI is never overwritten; a hand-entered 0 is kept when AB is
    sent; another hand-entered 0 is overwritten by a numeric mark."""
    standins.results.post(
        "/control/hand-entered",
        json={
            "exam": "FRA-ECRIT",
            "records": [
                {"candidate": "0000000001", "mark": "DI"},
                {"candidate": "0000000005", "mark": 0},
                {"candidate": "0000000004", "mark": 0},
            ],
        },
    )
    validation = validate()
    results, report = _system(validation, "results")
    assert report.status == "delivered"
    assert (results.sent, results.delivered, results.kept, results.refused) == (5, 3, 2, 0)
    assert results.reasons["kept"] == {"hand_entered_di": 1, "hand_entered_zero_absent": 1}
    marks = standins.marks()
    assert (marks["0000000001"]["mark"], marks["0000000001"]["source"]) == ("DI", "hand")
    assert (marks["0000000005"]["mark"], marks["0000000005"]["source"]) == ("0", "hand")
    assert (marks["0000000004"]["mark"], marks["0000000004"]["source"]) == ("6", "platform")
    assert marks["0000000002"]["mark"] == "CB"
    kept = {row["ref"]: row["reason"] for row in validation_exceptions(validation=validation)}
    # Named by anonymous script id, never by candidate number (R-UNIT-2).
    assert kept == {
        "S-000001": "hand_entered_di",
        "candidat absent (sans copie)": "hand_entered_zero_absent",
    }


def test_hand_entered_work_done_is_kept_apart(standins, validate):
    """R-VAL-5: the platform's work done overwrites its own; hand-entered stays apart."""
    standins.payroll.post(
        "/control/hand-entered",
        json={"exam": "FRA-ECRIT", "records": [{"grader": "corr.dupont", "scripts": 40}]},
    )
    validate()
    second = validate()
    payroll, _ = _system(second, "payroll")
    assert (payroll.sent, payroll.delivered) == (2, 2)
    assert payroll.reasons["written"] == {"hand_entered_kept_apart": 1}
    rows = {(r["grader"], r["source"]): r for r in standins.state("payroll")["records"]}
    assert rows["corr.dupont", "hand"]["scripts"] == 40
    assert rows["corr.dupont", "platform"]["scripts"] == 2
    assert rows["corr.dupont", "platform"]["writes"] == 2  # two validations, each once


def test_refused_records_are_reported(standins, validate):
    standins.results.post("/control/refuse", json={"refs": {"0000000002": "unknown_candidate"}})
    validation = validate()
    results, _ = _system(validation, "results")
    assert (results.delivered, results.refused) == (4, 1)
    assert results.reasons["refused"] == {"unknown_candidate": 1}
    rows = validation_exceptions(validation=validation)
    assert rows[0]["ref"] == "S-000002"
    assert rows[0]["message"] == "candidat inconnu du système"


def test_system_down_loses_nothing_and_retry_finishes(standins, validate, retry):
    """R-VAL-6: the results system is down: the message waits for a retry; the payroll
    system is delivered; the retry finishes; each record written once."""
    standins.faults("results", fail_next=1)
    validation = validate()
    results, report = _system(validation, "results")
    assert report.status == "in_progress"
    assert results.retrying == 5
    assert results.delivered == 0
    assert "503" in results.errors[0]["error"]
    payroll, _ = _system(validation, "payroll")
    assert payroll.delivered == 2
    assert retry(validation) == 1
    results, report = _system(validation, "results")
    assert report.status == "delivered"
    assert results.delivered == 5
    assert all(row["writes"] == 1 for row in standins.marks().values())


def test_unreachable_system_is_retried(standins, validate, retry, settings):
    settings.RESULTS_SYSTEM_URL = "http://127.0.0.1:9"  # nothing listens there
    validation = validate()
    results, _ = _system(validation, "results")
    assert results.retrying == 5
    assert "injoignable" in results.errors[0]["error"]
    settings.RESULTS_SYSTEM_URL = standins.results_server.url
    retry(validation)
    assert _system(validation, "results")[0].delivered == 5


def test_garbage_answer_is_retried_without_applying_twice(standins, validate, retry):
    """R-VAL-6: the system applied the message but answered garbage: the retry sends the
    same key, the system answers its stored result, nothing is applied twice."""
    standins.faults("results", garbage_next=1)
    validation = validate()
    results, _ = _system(validation, "results")
    assert results.retrying == 5
    assert "illisible" in results.errors[0]["error"]
    retry(validation)
    results, report = _system(validation, "results")
    assert report.status == "delivered"
    assert results.delivered == 5
    assert all(row["writes"] == 1 for row in standins.marks().values())
    keys = standins.state("results")["keys"]
    assert [(k["applications"], k["replays"]) for k in keys] == [(1, 1)]


def test_lost_answer_is_retried_without_applying_twice(standins, validate, retry):
    standins.faults("results", drop_next=1)
    validation = validate()
    assert _system(validation, "results")[0].retrying == 5
    retry(validation)
    assert _system(validation, "results")[0].delivered == 5
    assert all(row["writes"] == 1 for row in standins.marks().values())


def test_time_out_then_retry_applies_once(standins, validate, retry):
    """A slow system past the time-out: the late application and the retry are one."""
    standins.faults("results", hang=2.5)
    validation = validate()
    assert "à temps" in _system(validation, "results")[0].errors[0]["error"]
    standins.faults("results", hang=0)
    retry(validation)
    assert _system(validation, "results")[0].delivered == 5
    # The hung request finishes after the retry: a replay, never a second write.
    deadline = timezone.now() + timedelta(seconds=5)
    while standins.state("results")["messages"]["received"] < 2 and timezone.now() < deadline:
        pass
    assert all(row["writes"] == 1 for row in standins.marks().values())


def test_gives_up_after_max_attempts_then_retry_button(standins, validate, retry, worker, clock):
    """R-VAL-6: each failed attempt is retried later by the worker, until max_attempts;
    then the message is failed and waits for the retry button."""
    standins.faults("results", fail_next=10)
    validation = validate()
    message = validation.messages.get(system="results")
    for _ in range(validation_config().max_attempts - 1):
        message.refresh_from_db()
        clock.advance((message.next_attempt_at - timezone.now()).total_seconds())
        worker.run()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.attempts == 3
    assert standins.state("results")["messages"]["received"] == 3
    assert worker.waiting("message_deliver_task") == []  # no retry after the last attempt
    results, report = _system(validation, "results")
    assert report.status == "failed"
    assert results.failed == 5
    assert report.can_retry
    standins.faults("results", fail_next=0)
    assert retry(validation) == 1
    assert _system(validation, "results")[0].delivered == 5


def test_message_refused_whole_fails_at_once(standins, validate, monkeypatch):
    """A 4xx for the whole message is not retried by itself: failed, with the reason."""

    def refusing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"message": "format inconnu"}})

    monkeypatch.setattr(
        delivery,
        "adapter_for",
        lambda system: ResultsSystemAdapter(
            base_url="http://results",
            config=validation_config(),
            transport=httpx.MockTransport(refusing),
        ),
    )
    validation = validate()
    results, report = _system(validation, "results")
    assert report.status == "failed"
    assert results.failed == 5
    assert "format inconnu" in results.errors[0]["error"]


def test_failed_attempt_is_retried_after_its_back_off(standins, validate, worker, clock):
    """R-VAL-6: a failed attempt schedules the next one `retry_backoff` seconds later
    (a task deferred with run_after); the worker runs it then, not before."""
    standins.faults("results", fail_next=1)
    validation = validate()
    message = validation.messages.get(system="results")
    assert (message.state, message.attempts) == (MessageState.PENDING, 1)
    backoff = validation_config().retry_backoff
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=backoff - 2)
    [scheduled] = worker.waiting("message_deliver_task")
    assert scheduled.run_after == message.next_attempt_at
    assert scheduled.args_kwargs["args"] == [message.pk]

    assert worker.run() == 0  # not due yet
    assert standins.state("results")["messages"]["received"] == 1
    assert _system(validation, "results")[1].status == "in_progress"

    clock.advance(backoff)
    assert worker.run() == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.DELIVERED, 2)
    assert _system(validation, "results")[1].status == "delivered"
    assert all(row["writes"] == 1 for row in standins.marks().values())


def test_early_duplicate_leaves_the_message_to_its_scheduled_retry(standins, validate, worker):
    """A second task for a message whose retry is scheduled later does not send it early."""
    standins.faults("results", fail_next=1)
    validation = validate()
    message = validation.messages.get(system="results")
    assert message_deliver(message_id=message.pk) == MessageState.PENDING
    assert standins.state("results")["messages"]["received"] == 1


def _supervisor_round(worker, clock) -> int:
    """Let the clock reach the supervisor's next round, then the worker run it."""
    [round_] = worker.waiting("deliveries_supervise_task")
    clock.advance((round_.run_after - timezone.now()).total_seconds())
    return worker.run()


def test_dead_sender_is_taken_over_by_the_supervisor(standins, world, worker, clock):
    """R-VAL-6: a worker killed after the system applied a message, before recording the
    answer: the lease runs out, the supervisor's round hands the message to a new task,
    which resends the same key: answered from storage, nothing written twice."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    message = validation.messages.get(system="results")
    # The killed worker: it claimed the message's task and the message, sent it, and died.
    DBTaskResult.objects.get(pk=message.task_id).claim("killed-worker")
    DeliveryMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING,
        attempts=1,
        lease_until=timezone.now() + timedelta(seconds=validation_config().lease_seconds),
    )
    ResultsSystemAdapter(base_url=standins.results_server.url, config=validation_config()).send(
        key=message.idempotency_key, payload=message.payload
    )
    worker.run()  # the other system's message
    assert not validation_report(validation=validation).stalled

    _supervisor_round(worker, clock)
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.DELIVERED, 2)
    assert validation_report(validation=validation).status == "delivered"
    assert all(row["writes"] == 1 for row in standins.marks().values())
    keys = standins.state("results")["keys"]
    assert [(k["applications"], k["replays"]) for k in keys] == [(1, 1)]
    # The next round finds nothing open and schedules no other.
    _supervisor_round(worker, clock)
    assert worker.waiting("deliveries_supervise_task") == []


def test_message_whose_task_died_is_given_a_new_one(standins, world, worker, clock):
    """R-VAL-6: the worker died while running a message's task before it claimed the
    message (still pending, its task running for longer than a lease): the supervisor
    enqueues a new task."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    message = validation.messages.get(system="results")
    DBTaskResult.objects.get(pk=message.task_id).claim("killed-worker")
    worker.run()
    assert standins.state("results")["messages"]["received"] == 0

    _supervisor_round(worker, clock)
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert validation_report(validation=validation).status == "delivered"


def test_a_sender_schedules_the_supervisor_when_none_is_waiting(standins, world, worker):
    """Whatever ended the supervisor's rounds, the next sender schedules one."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    DBTaskResult.objects.filter(task_path__endswith=".deliveries_supervise_task").delete()
    standins.faults("results", fail_next=1)
    worker.run()
    validation.refresh_from_db()
    [round_] = worker.waiting("deliveries_supervise_task")
    assert str(round_.pk) == validation.supervisor_task_id
    assert round_.args_kwargs["args"] == [validation.pk]


def test_live_sender_is_left_alone(standins, validate):
    standins.faults("results", fail_next=1)
    validation = validate()
    message = validation.messages.get(system="results")
    DeliveryMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING, lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert message_deliver(message_id=message.pk) == MessageState.SENDING
    assert standins.state("results")["messages"]["received"] == 1


def test_only_the_latest_validation_is_retried(standins, validate, retry, world):
    """An older validation's retry would overwrite newer marks: 409."""
    standins.faults("results", fail_next=10)
    first = validate()
    DeliveryMessage.objects.filter(validation=first).update(state=MessageState.FAILED)
    standins.faults("results", fail_next=0)
    second = validate()
    assert validation_report(validation=second).status == "delivered"
    with pytest.raises(Conflict):
        retry(first)
    assert not validation_report(validation=first).can_retry
