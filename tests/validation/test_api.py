"""The validation endpoints of API.md §2: preview, validate, report, retry (R-VAL-1..6)."""

import pytest

from harmonie.marking.batches import batch_unlock
from harmonie.validation.models import DeliveryMessage, MessageState, Validation

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, api_token):
    def call(user, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {api_token(user)}"}
        return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)

    return call


def test_preview_full(world, api):
    """R-VAL-2: the preview says full, what will be sent, frauds for information."""
    response = api(world["coordinator"], "get", "/exams/FRA-ECRIT/validation-preview")
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "full"
    assert body["reasons"] == []
    assert body["marks"] == 5
    assert body["work_done"] == 2
    assert body["frauds"] == 1
    assert body["details"]["special_marks"] == {"CB": 1}
    assert body["details"]["absents"] == 1
    assert body["details"]["numeric_marks"] == 3


def test_preview_partial_gives_reasons(world, api):
    """R-VAL-3: partial, with the reasons and counts; AB not sent."""
    batch_unlock(user=world["officer"], code="L-0002")
    body = api(world["coordinator"], "get", "/exams/FRA-ECRIT/validation-preview").json()
    assert body["mode"] == "partial"
    assert body["reasons"] == [
        {
            "code": "unlocked_batch",
            "count": 2,
            "message": "candidats dont la copie est dans un lot non verrouillé",
        }
    ]
    assert body["marks"] == 2
    assert body["details"]["absents"] == 0


@pytest.mark.django_db(transaction=True)
def test_validate_then_report(world, api, standins, worker):
    """R-VAL-1, R-VAL-6: validate, then read per system what was delivered."""
    response = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations")
    worker.run()
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["mode"] == "full"
    assert created["marks"] == 5
    assert created["work_done"] == 2
    report = api(world["coordinator"], "get", f"/validations/{created['id']}").json()
    assert report["status"] == "delivered"
    assert report["systems"]["results"]["sent"] == 5
    assert report["systems"]["results"]["delivered"] == 5
    assert report["systems"]["payroll"]["delivered"] == 2
    assert report["author"] == {
        "first_name": "Sabrina",
        "last_name": world["coordinator"].last_name,
    }
    listed = api(world["coordinator"], "get", "/exams/FRA-ECRIT/validations").json()
    assert [v["id"] for v in listed] == [created["id"]]


def test_report_is_readable_by_the_exam_office_not_another_academy(world, api, no_delivery):
    validation_id = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations").json()["id"]
    assert api(world["officer"], "get", f"/validations/{validation_id}").status_code == 200
    refused = api(world["foreign_coordinator"], "get", f"/validations/{validation_id}")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"


def test_second_validation_at_once_is_409(world, api, no_delivery):
    assert api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations").status_code == 201
    response = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "validation_in_progress"
    assert "encore en cours" in response.json()["error"]["message"]


def test_nothing_locked_is_409(world, api):
    batch_unlock(user=world["officer"], code="L-0001")
    batch_unlock(user=world["officer"], code="L-0002")
    response = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_locked"


@pytest.mark.parametrize(("user", "status"), [("officer", 403), ("member", 403), ("school_a", 403)])
def test_validation_roles(world, api, user, status):
    """R-ACC-1: only the academic coordinator validates."""
    response = api(world[user], "post", "/exams/FRA-ECRIT/validations")
    assert response.status_code == status
    assert not Validation.objects.exists()


def test_unknown_exam_is_404(world, api):
    response = api(world["coordinator"], "get", "/exams/NOPE/validation-preview")
    assert response.status_code == 404
    assert "introuvable" in response.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_retry_endpoint(world, api, standins, worker):
    standins.faults("results", fail_next=1)
    validation_id = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations").json()["id"]
    worker.run()
    report = api(world["coordinator"], "get", f"/validations/{validation_id}").json()
    assert report["status"] == "in_progress"
    assert report["systems"]["results"]["retrying"] == 5
    response = api(world["coordinator"], "post", f"/validations/{validation_id}/retry")
    worker.run()
    assert response.json() == {"retried": 1}
    assert not DeliveryMessage.objects.exclude(state=MessageState.DELIVERED).exists()
    assert api(world["officer"], "post", f"/validations/{validation_id}/retry").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_no_candidate_number_in_report(world, api, standins, worker):
    """R-UNIT-2: the report names kept and refused records by anonymous script id."""
    standins.results.post(
        "/control/hand-entered",
        json={"exam": "FRA-ECRIT", "records": [{"candidate": "0000000001", "mark": "DI"}]},
    )
    validation_id = api(world["coordinator"], "post", "/exams/FRA-ECRIT/validations").json()["id"]
    worker.run()
    response = api(world["coordinator"], "get", f"/validations/{validation_id}")
    assert response.json()["exceptions"][0]["ref"] == "S-000001"
    assert b"0000000001" not in response.content
