"""GET /api/v1/exams and the dashboard: scope per role (R-ACC-1, R-ACC-2)."""

import pytest

from tests.conftest import login_client
from tests.factories import ExamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_coordinator_sees_exam_with_counts_of_own_academy(client, academy_world, api_token):
    token = api_token(academy_world["coordinator"])
    response = client.get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    [exam] = response.json()
    assert exam["code"] == "FRA-ECRIT"
    assert exam["scripts"] == 4
    assert exam["locked_batches"] == 1
    assert exam["batches"] == 2
    assert [part["code"] for part in exam["scheme"]] == ["P1", "P2"]


def test_member_without_mission_sees_nothing(client, academy_world, api_token):
    """R-ACC-1: a harmonisation member needs a mission for the exam."""
    member = UserFactory(member=True, academy=academy_world["academy"])
    token = api_token(member)
    assert client.get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"}).json() == []
    member.missions.add(academy_world["exam"])
    assert (
        len(client.get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"}).json()) == 1
    )


def test_coordinator_of_academy_without_candidates_sees_nothing(client, academy_world, api_token):
    ExamFactory(code="OTHER")
    stranger = UserFactory(coordinator=True, academy__code="REIMS")
    token = api_token(stranger)
    assert client.get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"}).json() == []


def test_school_sees_exam_of_its_candidates(academy_world):
    school = academy_world["scripts"][0].school
    head = UserFactory(school_head=True, school=school)
    page = login_client(head).get("/")
    assert page.status_code == 200
    assert "Copies de vos candidats" in page.content.decode()


def test_dashboard_entries_by_role(academy_world):
    """R-ACC-2: the dashboard leads to statistics, unit, mass, history and validation."""
    page = login_client(academy_world["coordinator"]).get("/").content.decode()
    for label in (
        "Statistiques",
        "Harmonisation unitaire",
        "Harmonisation en masse",
        "Historique",
        "Validation",
    ):
        assert label in page
    assert "Lots (verrouillage)" not in page


def test_audit_journal_is_for_exam_office_and_coordinator(academy_world):
    """R-ACC-1 (issue 13 item 7): the exam office and the academy's coordinator read the
    journal of their academy; a member does not."""
    officer = UserFactory(exam_officer=True, academy=academy_world["academy"])
    assert login_client(officer).get("/journal/").status_code == 200
    assert login_client(academy_world["coordinator"]).get("/journal/").status_code == 200
    member = UserFactory(member=True, academy=academy_world["academy"])
    assert login_client(member).get("/journal/").status_code == 403


def test_school_dashboard_shows_the_last_validation_of_its_academy(academy_world):
    """R-VAL-7: a school sees since when its scripts can be downloaded: not before its
    academy's first validation."""
    from harmonie.validation.models import Validation

    school = academy_world["scripts"][0].school
    head = UserFactory(school_head=True, school=school)
    assert "pas encore disponible" in login_client(head).get("/").content.decode()
    Validation.objects.create(
        exam=academy_world["exam"],
        academy=academy_world["academy"],
        author=academy_world["coordinator"],
        mode="partial",
    )
    page = login_client(head).get("/").content.decode()
    assert "disponible depuis le" in page
    assert "pas encore disponible" not in page
