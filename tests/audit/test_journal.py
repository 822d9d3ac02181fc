"""The journal in French (issue 13, item 7): action labels for every action written by
`audit_log`, readable before/after states, filters (action, author, dates), pagination,
open to the coordinator and the exam office of the academy (R-ACC-1)."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone

from harmonie.audit.models import AuditEntry
from harmonie.audit.services import audit_log
from harmonie.audit.wording import ACTION_LABELS, state_lines
from harmonie.marking.batches import batch_unlock
from tests.conftest import login_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HARMONIE = Path(__file__).resolve().parents[2] / "harmonie"


def test_every_action_written_has_a_french_label():
    """Every `action="..."` literal near an audit_log call across the code has a label."""
    written: set[str] = set()
    for path in HARMONIE.rglob("*.py"):
        text = path.read_text()
        if "audit_log(" not in text:
            continue
        written |= set(
            re.findall(r'"((?:script|batch|harmonisation|validation|session|auth)\.[a-z_]+)"', text)
        )
    assert written
    assert written <= set(ACTION_LABELS), written - set(ACTION_LABELS)


def test_states_are_lines_not_python_dicts():
    lines = state_lines({"marks": {"Q1": 3, "Q2": 4.5}, "locked": True, "scripts": 2051})
    assert lines == [("Notes", "Q1 : 3 · Q2 : 4,5"), ("Verrouillé", "oui"), ("Copies", "2\xa0051")]


def _officer(world):
    return UserFactory(username="dec.nm", exam_officer=True, academy=world["academy"])


def test_coordinator_reads_his_academy_journal_in_french(academy_world):
    """R-ACC-1: the coordinator sees his academy's rows, not another academy's."""
    world = academy_world
    batch_unlock(user=_officer(world), code=world["locked_batch"].code)
    audit_log(
        actor=None,
        action="batch.locked",
        target_type="batch",
        target_id="L-AILLEURS",
        academy=world["other_academy"],
    )
    response = login_client(world["coordinator"]).get("/journal/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lot déverrouillé" in html
    assert ">batch.unlocked<" not in html  # the code only as the filter's option value
    assert "{&#x27;" not in html  # no Python dict
    assert "{'" not in html
    assert "Verrouillé : non" in html
    assert "L-AILLEURS" not in html


def test_filters_and_pagination(academy_world):
    world = academy_world
    officer = _officer(world)
    for n in range(55):
        audit_log(
            actor=officer if n % 2 else world["coordinator"],
            action="batch.locked" if n % 2 else "validation.executed",
            target_type="batch",
            target_id=f"L-{n}",
            academy=world["academy"],
            after={"locked": True},
        )
    old = AuditEntry.objects.get(target_id="L-0")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    client = login_client(world["coordinator"])
    first = client.get("/journal/").content.decode()
    assert "Page 1 sur 2" in first
    assert "page=2" in first
    only = client.get("/journal/?action=batch.locked").content.decode()
    assert "27 entrées" in only
    assert "Validation envoyée</td>" not in only
    mine = client.get(f"/journal/?author={world['coordinator'].pk}").content.decode()
    assert "28 entrées" in mine
    today = timezone.localdate().isoformat()
    recent = client.get(f"/journal/?from={today}&to={today}").content.decode()
    assert "54 entrées" in recent
    paged = client.get("/journal/?action=validation.executed&page=1").content.decode()
    assert "action=validation.executed" in paged or "28 entrées" in paged


def test_bad_filter_is_a_french_400(academy_world):
    client = login_client(academy_world["coordinator"])
    response = client.get("/journal/?from=hier")
    assert response.status_code == 400
    assert "n&#x27;est pas une date" in response.content.decode()
    assert client.get("/journal/?action=drop.table").status_code == 400


@pytest.mark.parametrize("trait", ["member", "grader"])
def test_other_roles_get_403(academy_world, trait):
    user = UserFactory(username=f"x.{trait}", academy=academy_world["academy"], **{trait: True})
    assert login_client(user).get("/journal/").status_code == 403
