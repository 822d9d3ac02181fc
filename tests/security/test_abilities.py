"""The `abilities` the API returns are what the endpoints enforce (R-ACC-1): for each role,
an ability False is a refusal (403) of the matching endpoint, an ability True is not.

One permission source per object (issue 11): exams (`referential.permissions`), scripts
and batches (`marking.permissions`), harmonisations (`harmonisation.permissions`),
validations (`validation.permissions`) and the journal (`audit.permissions`).
"""

import pytest

from tests.security.conftest import World, api_headers, web_client

pytestmark = pytest.mark.django_db

USERS = ("coordinator", "member", "exam_officer", "grader", "school")

# Exam ability → a GET that needs it (the shared exam of the world).
EXAM_PROBES = {
    "view_statistics": "/api/v1/exams/{code}/statistics",
    "unit_harmonise": "/api/v1/exams/{code}/scripts",
    "mass_harmonise": "/api/v1/exams/{code}/conformity",
    "view_history": "/api/v1/exams/{code}/harmonisations",
    "validate": "/api/v1/exams/{code}/validation-preview",
}


def _get(user, url: str):
    return web_client(None).get(url, **api_headers(user))


def _post(user, url: str, data: dict | None = None):
    return web_client(None).post(
        url, data=data or {}, content_type="application/json", **api_headers(user)
    )


def _exam_abilities(world: World, role: str) -> dict[str, bool]:
    exams = _get(world.user(role), "/api/v1/exams").json()
    [exam] = [exam for exam in exams if exam["code"] == world.shared_exam.code]
    return exam["abilities"]


@pytest.mark.parametrize("role", USERS)
def test_exam_abilities_match_the_endpoints(world: World, role: str):
    """R-ACC-1: each exam ability of `GET /exams` is the answer of its endpoint."""
    abilities = _exam_abilities(world, role)
    user = world.user(role)
    for ability, url in EXAM_PROBES.items():
        status = _get(user, url.format(code=world.shared_exam.code)).status_code
        assert (status == 403) == (not abilities[ability]), (role, ability, status)
        assert status != 404, (role, ability)
    journal = web_client(user).get("/journal/").status_code
    assert (journal == 403) == (not abilities["view_audit"]), (role, journal)


def test_exam_abilities_by_role(world: World):
    """The journal is the coordinator's and the exam office's (R-ACC-1): `view_audit`."""
    assert _exam_abilities(world, "coordinator")["view_audit"] is True
    assert _exam_abilities(world, "exam_officer")["view_audit"] is True
    assert _exam_abilities(world, "member")["view_audit"] is False
    assert _exam_abilities(world, "grader") == {
        **dict.fromkeys(_exam_abilities(world, "grader"), False),
        "grade": True,
    }


@pytest.mark.parametrize(
    ("role", "script", "editable"),
    [
        ("coordinator", "script", True),  # unit harmonisation of a locked batch (R-UNIT-1)
        ("grader", "unlocked_script", True),  # grading his unlocked batch
        ("grader", "script", False),  # his locked batch: marking is frozen
    ],
)
def test_script_abilities_match_the_marking_endpoint(world: World, role, script, editable):
    """R-UNIT-1: `abilities.edit` of `GET /scripts/{id}` is whether the save is accepted."""
    user = world.user(role)
    public_id = getattr(world.own, script).public_id
    detail = _get(user, f"/api/v1/scripts/{public_id}").json()
    assert detail["abilities"] == {"view": True, "edit": editable}
    assert detail["editable"] is editable
    response = web_client(None).put(
        f"/api/v1/scripts/{public_id}/marking",
        data={"marks": detail["marks"], "version": detail["version"]},
        content_type="application/json",
        **api_headers(user),
    )
    assert (response.status_code == 200) is editable, response.content
    if editable:
        assert response.json()["abilities"] == {"view": True, "edit": True}


def test_script_list_rows_carry_abilities(world: World):
    page = _get(world.user("coordinator"), f"/api/v1/exams/{world.shared_exam.code}/scripts").json()
    assert page["results"]
    assert all(row["abilities"] == {"view": True, "edit": True} for row in page["results"])


@pytest.mark.parametrize("role", ["coordinator", "member", "exam_officer"])
def test_harmonisation_abilities_match_the_endpoints(world: World, role: str):
    """R-MASS-11, R-MASS-14: `view` opens the history entry, `undo` its undo simulation."""
    user = world.user(role)
    answer = _get(user, f"/api/v1/harmonisations/{world.own.harmonisation_id}")
    assert answer.status_code == 200
    abilities = answer.json()["abilities"]
    assert abilities["view"] is True
    undo = _post(user, f"/api/v1/harmonisations/{world.own.harmonisation_id}/undo-simulation")
    assert (undo.status_code == 403) == (not abilities["undo"]), undo.content
    listed = _get(user, f"/api/v1/exams/{world.shared_exam.code}/harmonisations").json()
    assert [h["abilities"] for h in listed] == [abilities]


@pytest.mark.parametrize(("role", "retry"), [("coordinator", True), ("exam_officer", False)])
def test_validation_abilities_match_the_endpoints(world: World, role: str, retry: bool):
    """R-VAL-6: both read the delivery report; only the coordinator retries it."""
    user = world.user(role)
    report = _get(user, f"/api/v1/validations/{world.own.validation_id}").json()
    assert report["abilities"] == {"view": True, "retry": retry}
    answer = _post(user, f"/api/v1/validations/{world.own.validation_id}/retry")
    assert (answer.status_code == 403) == (not retry), answer.content


@pytest.mark.parametrize(("role", "unlock"), [("exam_officer", True), ("grader", False)])
def test_batch_abilities_match_the_endpoints(world: World, role: str, unlock: bool):
    """R-VAL-9: the exam office locks and unlocks; the grader locks his batch only."""
    user = world.user(role)
    batch = world.own.unlocked_batch.code
    locked = _post(user, f"/api/v1/batches/{batch}/lock")
    assert locked.status_code == 200
    abilities = locked.json()["abilities"]
    assert abilities["lock"] is True
    assert abilities["unlock"] is unlock
    answer = _post(user, f"/api/v1/batches/{batch}/unlock")
    assert (answer.status_code == 403) == (not unlock), answer.content
