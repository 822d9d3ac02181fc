"""Delivery to the stand-ins: outcomes per record, retries, nothing lost, nothing twice
(R-VAL-4, R-VAL-5, R-VAL-6). Tasks run at once (immediate backend); a retry is driven by
`validation_retry` (the report's button) or the supervisor, as the worker would."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from harmonie.errors import Conflict
from harmonie.validation import delivery
from harmonie.validation.adapters import ResultsSystemAdapter
from harmonie.validation.conf import validation_config
from harmonie.validation.delivery import deliveries_supervise, message_deliver
from harmonie.validation.models import DeliveryMessage, MessageState
from harmonie.validation.report import validation_exceptions, validation_report
from harmonie.validation.services import validation_execute, validation_retry

pytestmark = pytest.mark.django_db


@pytest.fixture
def validate(world, django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")

    return run


@pytest.fixture
def retry(world, django_capture_on_commit_callbacks):
    def run(validation):
        with django_capture_on_commit_callbacks(execute=True):
            return validation_retry(user=world["coordinator"], validation_id=validation.pk)

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


def test_gives_up_after_max_attempts_then_retry_button(standins, validate, retry):
    standins.faults("results", fail_next=10)
    validation = validate()
    message = validation.messages.get(system="results")
    for _ in range(validation_config().max_attempts - 1):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.attempts == 3
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


def test_dead_sender_is_taken_over_by_the_supervisor(standins, validate, world):
    """R-VAL-6: a worker killed after the system applied a message, before recording the
    answer: the lease runs out, the supervisor resends the same key, nothing twice."""
    standins.faults("results", fail_next=1)
    validation = validate()
    message = validation.messages.select_related("validation").get(system="results")
    ResultsSystemAdapter(base_url=standins.results_server.url, config=validation_config()).send(
        key=message.idempotency_key, payload=message.payload
    )
    DeliveryMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert validation_report(validation=validation).stalled
    assert deliveries_supervise(validation_id=validation.pk) is True
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert all(row["writes"] == 1 for row in standins.marks().values())
    assert deliveries_supervise(validation_id=validation.pk) is False


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
