"""`validation_execute`: the exact payload per system, in one transaction (R-VAL-1..3)."""

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.errors import Conflict, Forbidden, NotFound
from harmonie.marking.batches import batch_unlock
from harmonie.validation.models import DeliveryMessage, MessageState, Validation
from harmonie.validation.services import validation_execute
from tests.validation.conftest import harmonise

pytestmark = pytest.mark.django_db


def _records(validation: Validation, system: str) -> list[dict]:
    return [
        record
        for message in validation.messages.filter(system=system).order_by("number")
        for record in message.payload["records"]
    ]


def test_full_transmission_sends_every_mark_with_ab(world, no_delivery):
    """R-VAL-2: every candidate absent or in a locked batch: all marks sent, AB included.

    Frauds' marks are sent too (the results system decides), final marks after harmonisation.
    """
    harmonise(world["scripts"][0], "1.5")
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert validation.mode == "full"
    assert validation.reasons == []
    assert validation.frauds == 1
    assert _records(validation, "results") == [
        {"candidate": "0000000001", "mark": 16},
        {"candidate": "0000000002", "mark": "CB"},
        {"candidate": "0000000003", "mark": 19},
        {"candidate": "0000000004", "mark": 6},
        {"candidate": "0000000005", "mark": "AB"},
    ]
    assert validation.marks_count == 5


def test_work_done_counts_scripts_of_locked_batches_per_grader(world, no_delivery):
    """R-VAL-1: work done = scripts marked per grader and exam."""
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert _records(validation, "payroll") == [
        {"grader": "corr.dupont", "scripts": 2},
        {"grader": "corr.martin", "scripts": 2},
    ]
    message = validation.messages.get(system="payroll")
    assert message.payload["exam"] == "FRA-ECRIT"
    assert message.payload["academy"] == "NANCY-METZ"
    assert message.payload["validation"] == str(validation.public_id)


def test_partial_transmission_sends_only_locked_and_no_ab(world, no_delivery):
    """R-VAL-3 and R-VAL-9: an unlocked batch makes it partial; its marks and AB are not sent;
    its grader's work done falls to what is still locked."""
    batch_unlock(user=world["officer"], code="L-0002")
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert validation.mode == "partial"
    assert validation.reasons == [{"code": "unlocked_batch", "count": 2}]
    assert _records(validation, "results") == [
        {"candidate": "0000000001", "mark": 14.5},
        {"candidate": "0000000002", "mark": "CB"},
    ]
    assert {"grader": "corr.martin", "scripts": 0} in _records(validation, "payroll")


def test_no_attendance_and_present_without_script_make_it_partial(world, exam, no_delivery):
    """R-VAL-3: a candidate with no attendance record, or present with no script."""
    from tests.factories import RegistrationFactory

    school = world["schools"][0]
    from tests.validation.conftest import _candidate

    RegistrationFactory(candidate=_candidate("0000000006", school), exam=exam, attendance=None)
    RegistrationFactory(candidate=_candidate("0000000007", school), exam=exam, attendance="present")
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert validation.mode == "partial"
    assert {r["code"]: r["count"] for r in validation.reasons} == {
        "no_attendance": 1,
        "no_script": 1,
    }
    assert "AB" not in [r["mark"] for r in _records(validation, "results")]


def test_big_payloads_are_chunked(world, settings, no_delivery):
    settings.VALIDATION = {"chunk_size": 2}
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    numbers = list(
        validation.messages.filter(system="results").values_list("number", "record_count")
    )
    assert numbers == [(1, 2), (2, 2), (3, 1)]
    assert all(m.state == MessageState.PENDING for m in validation.messages.all())
    keys = {m.idempotency_key for m in validation.messages.select_related("validation")}
    assert len(keys) == 4


def test_validation_is_audited(world, no_delivery):
    validation = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    entry = AuditEntry.objects.get(action="validation.executed")
    assert entry.actor == world["coordinator"]
    assert entry.target_id == str(validation.pk)
    assert entry.after["mode"] == "full"


def test_second_validation_while_first_delivers_is_refused(world, no_delivery):
    """Two validations at once: the second gets 409, nothing is sent twice."""
    first = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    with pytest.raises(Conflict) as refused:
        validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert refused.value.code == "validation_in_progress"
    assert refused.value.details == {"validation": first.pk}
    assert Validation.objects.count() == 1


def test_validation_can_be_repeated_once_delivered(world, no_delivery):
    """R-VAL-1: repeatable; each run sends the current state."""
    first = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    DeliveryMessage.objects.filter(validation=first).update(state=MessageState.DELIVERED)
    harmonise(world["scripts"][3], "2")
    second = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert {"candidate": "0000000004", "mark": 8} in _records(second, "results")
    assert second.public_id != first.public_id


def test_nothing_locked_is_refused(world, no_delivery):
    batch_unlock(user=world["officer"], code="L-0001")
    batch_unlock(user=world["officer"], code="L-0002")
    with pytest.raises(Conflict) as refused:
        validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert refused.value.code == "nothing_locked"
    assert not Validation.objects.exists()


def test_exam_out_of_scope_is_not_found(world, no_delivery):
    """R-ACC-1: another academy's coordinator validates only their own academy's candidates;
    an unknown exam is 404."""
    with pytest.raises(NotFound):
        validation_execute(user=world["coordinator"], exam_code="INCONNUE")
    foreign = validation_execute(user=world["foreign_coordinator"], exam_code="FRA-ECRIT")
    assert [r["candidate"] for r in _records(foreign, "results")] == [
        world["foreign"].candidate.number
    ]


@pytest.mark.parametrize("role", ["officer", "member", "school_a"])
def test_only_the_coordinator_validates(world, role):
    with pytest.raises((Forbidden, NotFound)):
        validation_execute(user=world[role], exam_code="FRA-ECRIT")
