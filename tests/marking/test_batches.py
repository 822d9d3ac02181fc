"""Batch lock and unlock (R-UNIT-1, R-VAL-9)."""

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.errors import Forbidden, NotFound
from harmonie.marking.batches import batch_lock, batch_unlock
from harmonie.marking.models import Script
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_exam_office_unlocks_and_scripts_follow(academy_world):
    """R-VAL-9: a locked batch can be unlocked by the exam office; audited; version bumped."""
    officer = UserFactory(exam_officer=True, academy=academy_world["academy"])
    batch = academy_world["locked_batch"]
    exam = academy_world["exam"]
    version = exam.marks_version
    batch_unlock(user=officer, code=batch.code)
    assert not Script.objects.filter(batch=batch, locked=True).exists()
    exam.refresh_from_db()
    assert exam.marks_version == version + 1
    entry = AuditEntry.objects.get(action="batch.unlocked")
    assert entry.actor == officer
    assert entry.before == {"locked": True}
    batch_lock(user=officer, code=batch.code)
    assert not Script.objects.filter(batch=batch, locked=False).exists()


def test_unlocking_twice_changes_nothing(academy_world):
    officer = UserFactory(exam_officer=True, academy=academy_world["academy"])
    batch_unlock(user=officer, code=academy_world["unlocked_batch"].code)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "member", "grader"])
def test_only_exam_office_unlocks(academy_world, role):
    """R-ACC-1: wrong role is refused (403)."""
    user = UserFactory(academy=academy_world["academy"], **{role: True})
    with pytest.raises(Forbidden):
        batch_unlock(user=user, code=academy_world["locked_batch"].code)


def test_batch_of_other_academy_is_not_found(academy_world):
    """R-ACC-1: out of scope answers 404."""
    officer = UserFactory(exam_officer=True, academy=academy_world["other_academy"])
    with pytest.raises(NotFound):
        batch_unlock(user=officer, code=academy_world["locked_batch"].code)


def test_grader_locks_own_batch_only(academy_world):
    batch = academy_world["unlocked_batch"]
    batch_lock(user=batch.grader, code=batch.code)
    other = UserFactory(grader=True, academy=academy_world["academy"])
    with pytest.raises(NotFound):
        batch_lock(user=other, code=academy_world["locked_batch"].code)


def test_list_count_follows_an_unlock(academy_world):
    """R-UNIT-1, R-VAL-9: the unit list's count is cached, yet an unlocked batch's scripts
    leave the list (and its count) at once."""
    from harmonie.marking.selectors import ListParams, script_list
    from harmonie.scriptfilter import ScriptFilter

    user, exam = academy_world["coordinator"], academy_world["exam"]

    def count() -> int:
        return script_list(
            user=user, exam=exam, script_filter=ScriptFilter(), params=ListParams()
        ).count

    assert count() == count() == 3
    officer = UserFactory(exam_officer=True, academy=academy_world["academy"])
    batch_unlock(user=officer, code=academy_world["locked_batch"].code)
    assert count() == 0
