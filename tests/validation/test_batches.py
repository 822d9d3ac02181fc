"""Batch lock and unlock by the exam office, page and API, after transmission included
(R-VAL-9): audited, and the next validation reflects it."""

import pytest
from django.urls import reverse

from harmonie.audit.models import AuditEntry
from harmonie.marking.models import Batch
from harmonie.validation.models import DeliveryMessage, MessageState
from harmonie.validation.services import validation_execute
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, api_token):
    def call(user, path: str):
        headers = {"Authorization": f"Bearer {api_token(user)}"}
        return client.post(f"/api/v1{path}", headers=headers)

    return call


def test_unlock_after_transmission_then_next_validation_is_partial(world, api, no_delivery):
    """R-VAL-9: a batch whose marks were sent is unlocked by the exam office; audited; the
    next validation no longer sends its marks and says why."""
    first = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    DeliveryMessage.objects.filter(validation=first).update(state=MessageState.DELIVERED)
    response = api(world["officer"], "/batches/L-0002/unlock")
    assert response.status_code == 200
    assert response.json() == {
        "code": "L-0002",
        "exam": "FRA-ECRIT",
        "locked": False,
        "abilities": {"grade": False, "lock": True, "unlock": True},
    }
    entry = AuditEntry.objects.get(action="batch.unlocked")
    assert entry.actor == world["officer"]
    assert entry.target_id == "L-0002"
    second = validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    assert second.mode == "partial"
    sent = [
        r["candidate"]
        for m in second.messages.filter(system="results")
        for r in m.payload["records"]
    ]
    assert "0000000003" not in sent
    assert "0000000004" not in sent
    assert api(world["officer"], "/batches/L-0002/lock").json()["locked"] is True


@pytest.mark.parametrize("user", ["coordinator", "member", "school_a"])
def test_only_exam_office_unlocks(world, api, user):
    response = api(world[user], "/batches/L-0001/unlock")
    assert response.status_code in (403, 404)
    assert Batch.objects.get(code="L-0001").locked


def test_batch_of_another_academy_is_404(world, api):
    response = api(world["officer"], "/batches/L-0900/unlock")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_batch_is_404(world, api):
    assert api(world["officer"], "/batches/NOPE/lock").status_code == 404


def test_batches_page_lists_and_toggles_with_htmx(world, no_delivery):
    validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    client = login_client(world["officer"])
    page = client.get(reverse("validation:batches", args=["FRA-ECRIT"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="batch-L-0001"' in html
    assert "L-0900" not in html
    assert "notes transmises" in html
    row = client.post(
        reverse("validation:batch_toggle", args=["L-0001", "deverrouiller"]),
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200
    fragment = row.content.decode()
    assert fragment.lstrip().startswith("<tr")
    assert 'data-locked="false"' in fragment
    assert not Batch.objects.get(code="L-0001").locked
    plain = client.post(reverse("validation:batch_toggle", args=["L-0001", "verrouiller"]))
    assert plain.status_code == 302
    assert Batch.objects.get(code="L-0001").locked


def test_batches_page_search_and_filter(world):
    client = login_client(world["officer"])
    html = client.get(
        reverse("validation:batches", args=["FRA-ECRIT"]), {"q": "martin"}
    ).content.decode()
    assert "L-0002" in html
    assert "L-0001" not in html
    Batch.objects.filter(code="L-0001").update(locked=False)
    html = client.get(
        reverse("validation:batches", args=["FRA-ECRIT"]), {"etat": "unlocked"}
    ).content.decode()
    assert "L-0001" in html
    assert "L-0002" not in html


def test_batches_page_is_for_the_exam_office(world):
    response = login_client(world["coordinator"]).get(
        reverse("validation:batches", args=["FRA-ECRIT"])
    )
    assert response.status_code == 403
    refused = login_client(world["coordinator"]).post(
        reverse("validation:batch_toggle", args=["L-0001", "deverrouiller"]),
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 403
    assert Batch.objects.get(code="L-0001").locked
