"""R-UNIT-2: no information identifying the candidate in any page, API response or log
of unit harmonisation (candidate numbers; the model stores no candidate name)."""

import pytest
from django.urls import reverse

from harmonie.audit.models import AuditEntry
from harmonie.referential.models import Candidate
from tests.conftest import login_client
from tests.factories import PASSWORD, ScriptFactory

pytestmark = pytest.mark.django_db


def _identities() -> list[str]:
    """Every candidate identifier the database holds (numbers; names are never stored)."""
    field_names = {field.name for field in Candidate._meta.get_fields()}
    assert not field_names & {"first_name", "last_name", "name", "birth_date"}, (
        "a candidate name appeared in the model: add it to this scan"
    )
    return list(Candidate.objects.values_list("number", flat=True))


def test_no_candidate_identity_anywhere_in_unit_harmonisation(client, academy_world):
    """R-UNIT-2: scan every page and API response of unit harmonisation."""
    world = academy_world
    extra = ScriptFactory(batch=world["locked_batch"], marks={"Q1": 2, "Q2": 2, "P2": 2})
    scripts = [*world["scripts"][:3], extra]
    coordinator = world["coordinator"]
    web = login_client(coordinator)
    token = client.post(
        "/api/v1/auth/token",
        {"username": coordinator.username, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    first = scripts[0]
    filters = {
        "schools": first.school.uai,
        "departments": first.department.code,
        "graders": world["locked_batch"].grader.username,
    }
    list_url = reverse("marking:script_list", args=["FRA-ECRIT"])
    bodies: list[str] = []
    for sort in ("id", "-mark", "school", "department", "grader", "subject"):
        bodies.append(web.get(list_url, {"sort": sort, "limit": 2}).content.decode())
        bodies.append(web.get(list_url, {"sort": sort}, HTTP_HX_REQUEST="true").content.decode())
        bodies.append(
            client.get("/api/v1/exams/FRA-ECRIT/scripts", {"sort": sort}, **api).content.decode()
        )
    bodies.append(web.get(list_url, filters).content.decode())
    bodies.append(client.get("/api/v1/exams/FRA-ECRIT/filter-options", **api).content.decode())
    bodies.append(
        client.get("/api/v1/exams/FRA-ECRIT/filter-options", filters, **api).content.decode()
    )
    for script in scripts:
        bodies.append(
            web.get(reverse("marking:script_viewer", args=[script.public_id])).content.decode()
        )
        bodies.append(client.get(f"/api/v1/scripts/{script.public_id}", **api).content.decode())
    saved = client.put(
        f"/api/v1/scripts/{first.public_id}/marking",
        {"marks": {"Q1": 4, "Q2": 4, "P2": 4}, "annotations": [], "version": 1},
        content_type="application/json",
        **api,
    )
    assert saved.status_code == 200
    bodies.append(saved.content.decode())
    bodies.append(
        web.get(reverse("marking:script_viewer", args=[first.public_id])).content.decode()
    )
    for entry in AuditEntry.objects.all():
        bodies.append(f"{entry.target_id} {entry.before} {entry.after}")
    assert len(bodies) > 30
    identities = _identities()
    assert identities
    for body in bodies:
        for number in identities:
            assert number not in body, f"numéro de candidat {number} exposé"


def test_search_by_candidate_number_finds_nothing(client, academy_world):
    """R-UNIT-2: the search box does not look up candidates."""
    world = academy_world
    number = world["scripts"][0].candidate.number
    html = (
        login_client(world["coordinator"])
        .get(reverse("marking:script_list", args=["FRA-ECRIT"]), {"q": number})
        .content.decode()
    )
    assert "<strong>0</strong> copie" in html
