"""Unit-harmonisation API (API.md §2): filter options, script list, script, marking."""

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.marking.models import Script, ScriptVersion
from tests.factories import BatchFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(api_token):
    def headers(user) -> dict:
        return {"Authorization": f"Bearer {api_token(user)}"}

    return headers


def test_list_shows_only_locked_batches(client, academy_world, auth):
    """R-UNIT-1: only scripts of locked batches are listed."""
    world = academy_world
    response = client.get("/api/v1/exams/FRA-ECRIT/scripts", headers=auth(world["coordinator"]))
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [row["id"] for row in body["results"]]
    assert sorted(ids) == sorted(s.public_id for s in world["scripts"][:3])
    assert body["count"] == 3
    row = next(r for r in body["results"] if r["id"] == world["scripts"][0].public_id)
    assert row["final_mark"] == 14.5
    assert row["initial_mark"] == 14.5
    assert row["delta"] == 0
    assert row["batch"] == world["locked_batch"].code
    assert set(row) >= {
        "id",
        "final_mark",
        "initial_mark",
        "delta",
        "special_mark",
        "department",
        "school",
        "grader",
        "subject",
        "batch",
    }


@pytest.mark.parametrize(
    "sort",
    [
        "mark",
        "-mark",
        "school",
        "-school",
        "department",
        "-department",
        "grader",
        "-grader",
        "subject",
        "-subject",
        "id",
        "-id",
    ],
)
def test_every_sort_with_cursor_pagination_covers_all_rows_once(client, academy_world, auth, sort):
    """R-UNIT-3: every column sortable; keyset cursor pages neither skip nor repeat."""
    world = academy_world
    for marks in (
        {"Q1": 1, "Q2": 1, "P2": 1},
        {"Q1": 3, "Q2": 4.5, "P2": 7},
        {"Q1": 2, "Q2": 2, "P2": 2},
    ):
        ScriptFactory(batch=world["locked_batch"], marks=marks)
    headers = auth(world["coordinator"])
    seen: list[dict] = []
    cursor = None
    for _ in range(10):
        url = f"/api/v1/exams/FRA-ECRIT/scripts?sort={sort}&limit=2"
        if cursor:
            url += f"&cursor={cursor}"
        body = client.get(url, headers=headers).json()
        seen.extend(body["results"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6
    assert len({row["id"] for row in seen}) == 6
    key = sort.lstrip("-")
    column = {"mark": "final_mark"}.get(key, key)
    values = [
        # Special marks (no numeric mark) sort after every mark ascending, first descending.
        (10**6 if row[column] is None else row[column]) if key == "mark" else (row[column] or "")
        for row in seen
    ]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_list_filters_and_search(client, academy_world, auth):
    """R-UNIT-3: search box and mark/department/school/grader/subject filters."""
    world = academy_world
    first = world["scripts"][0]
    headers = auth(world["coordinator"])
    body = client.get(
        f"/api/v1/exams/FRA-ECRIT/scripts?mark_min=14&mark_max=15&schools={first.school.uai}",
        headers=headers,
    ).json()
    assert [row["id"] for row in body["results"]] == [first.public_id]
    assert body["filter"] == {"schools": [first.school.uai], "mark_min": 14.0, "mark_max": 15.0}
    body = client.get(
        f"/api/v1/exams/FRA-ECRIT/scripts?q={first.public_id}", headers=headers
    ).json()
    assert [row["id"] for row in body["results"]] == [first.public_id]
    body = client.get(
        "/api/v1/exams/FRA-ECRIT/scripts?mark_part=P1&mark_min=10", headers=headers
    ).json()
    assert [row["id"] for row in body["results"]] == [world["scripts"][1].public_id]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("schools=9999999X", "Établissement « 9999999X » inconnu"),
        ("sort=colour", "Tri « colour » inconnu"),
        ("cursor=zzz", "Curseur de pagination invalide"),
        ("limit=5000", "« limit »"),
        ("mark_min=abc", "« mark_min »"),
        ("flavour=1", "« flavour » inconnu"),
    ],
)
def test_list_bad_input_is_a_french_400(client, academy_world, auth, query, fragment):
    response = client.get(
        f"/api/v1/exams/FRA-ECRIT/scripts?{query}", headers=auth(academy_world["coordinator"])
    )
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_cursor_of_another_sort_is_refused(client, academy_world, auth):
    """R-UNIT-3: a cursor belongs to its sort; reusing it with another sort is a 400."""
    world = academy_world
    headers = auth(world["coordinator"])
    cursor = client.get("/api/v1/exams/FRA-ECRIT/scripts?limit=1", headers=headers).json()[
        "next_cursor"
    ]
    response = client.get(
        f"/api/v1/exams/FRA-ECRIT/scripts?limit=1&sort=mark&cursor={cursor}", headers=headers
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["member", "exam_officer", "grader"])
def test_list_is_for_coordinators(client, academy_world, auth, role):
    """R-ACC-1: unit harmonisation belongs to the academic coordinator."""
    world = academy_world
    user = UserFactory(academy=world["academy"], **{role: True})
    if role == "member":
        user.missions.add(world["exam"])
    if role == "grader":
        BatchFactory(exam=world["exam"], academy=world["academy"], grader=user)
    response = client.get("/api/v1/exams/FRA-ECRIT/scripts", headers=auth(user))
    assert response.status_code == 403
    assert response.json()["error"]["message"]


def test_filter_options_linked(client, academy_world, auth):
    """R-MASS-5: GET /filter-options answers choices consistent with the other keys."""
    world = academy_world
    first = world["scripts"][0]
    response = client.get(
        f"/api/v1/exams/FRA-ECRIT/filter-options?departments={first.department.code}",
        headers=auth(world["coordinator"]),
    )
    assert response.status_code == 200
    body = response.json()
    assert [o["value"] for o in body["schools"]] == [first.school.uai]
    assert set(body) == {
        "departments",
        "schools",
        "class_groups",
        "qualifications",
        "juries",
        "graders",
        "batches",
        "subjects",
    }
    bad = client.get(
        "/api/v1/exams/FRA-ECRIT/filter-options?juries=NOPE", headers=auth(world["coordinator"])
    )
    assert bad.status_code == 400
    assert "Jury « NOPE » inconnu" in bad.json()["error"]["message"]


def test_get_script_detail(client, academy_world, auth):
    """API.md: scheme, marks, final_marks (= marks until conforming), history."""
    world = academy_world
    script = world["scripts"][0]
    body = client.get(
        f"/api/v1/scripts/{script.public_id}", headers=auth(world["coordinator"])
    ).json()
    assert body["marks"] == {"Q1": 3, "Q2": 4.5, "P2": 7}
    assert body["final_marks"] == body["marks"]
    assert body["initial_mark"] == 14.5
    assert body["final_mark"] == 14.5
    assert [node["code"] for node in body["scheme"]] == ["P1", "P2"]
    assert body["history"] == []
    assert body["special_marks"] == ["CB"]
    assert body["version"] == 1


def test_get_unlocked_or_foreign_script(client, academy_world, auth):
    """R-UNIT-1: unlocked batch is 409 with a French message; R-ACC-1: another academy 404."""
    world = academy_world
    headers = auth(world["coordinator"])
    unlocked = client.get(f"/api/v1/scripts/{world['scripts'][3].public_id}", headers=headers)
    assert unlocked.status_code == 409
    assert "n'est pas verrouillé" in unlocked.json()["error"]["message"]
    foreign = client.get(f"/api/v1/scripts/{world['foreign_script'].public_id}", headers=headers)
    assert foreign.status_code == 404


def test_put_marking_saves_and_shows_history(client, academy_world, auth):
    """R-UNIT-4: saving stores a version with its author, visible in the history."""
    world = academy_world
    script = world["scripts"][0]
    headers = auth(world["coordinator"])
    response = client.put(
        f"/api/v1/scripts/{script.public_id}/marking",
        {
            "marks": {"Q1": 4, "Q2": 5, "P2": 8},
            "special_mark": None,
            "annotations": [{"page": 0, "kind": "appreciation", "text": "Bien"}],
            "version": 1,
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["initial_mark"] == 17
    assert body["version"] == 2
    assert [(h["number"], h["label"]) for h in body["history"]] == [
        (2, "Modification"),
        (1, "Correction initiale"),
    ]
    assert body["annotations"][0]["text"] == "Bien"
    listed = client.get(
        f"/api/v1/exams/FRA-ECRIT/scripts?q={script.public_id}", headers=headers
    ).json()
    assert listed["results"][0]["final_mark"] == 17


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"marks": {"Q1": 4.2, "Q2": 5, "P2": 8}}, 400),
        ({"marks": {"Q1": 40, "Q2": 5, "P2": 8}}, 400),
        ({"marks": {"Q1": -4, "Q2": 5, "P2": 8}}, 400),
        ({"marks": {"Q1": "quatre", "Q2": 5, "P2": 8}}, 400),
        ({"marks": "rien"}, 400),
        ({"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "version": 7}, 409),
        ({"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "special_mark": "AB"}, 400),
        ({"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "annotations": [{"kind": "emoji"}]}, 400),
    ],
)
def test_put_marking_bad_input_writes_nothing(client, academy_world, auth, payload, status):
    """Bad input: French message, 4xx, nothing written (R-MARK-1, R-UNIT-4)."""
    world = academy_world
    script = world["scripts"][0]
    response = client.put(
        f"/api/v1/scripts/{script.public_id}/marking",
        payload,
        content_type="application/json",
        headers=auth(world["coordinator"]),
    )
    assert response.status_code == status, response.content
    assert response.json()["error"]["message"]
    assert not ScriptVersion.objects.exists()
    assert not AuditEntry.objects.exists()
    assert Script.objects.get(pk=script.pk).marks == {"Q1": 3, "Q2": 4.5, "P2": 7}


def test_put_marking_unlocked_batch_is_409(client, academy_world, auth):
    """R-UNIT-1: a script of an unlocked batch cannot be harmonised."""
    world = academy_world
    response = client.put(
        f"/api/v1/scripts/{world['scripts'][3].public_id}/marking",
        {"marks": {"Q1": 4, "Q2": 5, "P2": 8}},
        content_type="application/json",
        headers=auth(world["coordinator"]),
    )
    assert response.status_code == 409
    assert not ScriptVersion.objects.exists()


def test_put_marking_with_session_needs_csrf(academy_world):
    """R-UNIT-4: browser saves go through the session with Django's CSRF check."""
    from django.test import Client

    from tests.factories import PASSWORD

    world = academy_world
    client = Client(enforce_csrf_checks=True)
    client.login(username=world["coordinator"].username, password=PASSWORD)
    response = client.put(
        f"/api/v1/scripts/{world['scripts'][0].public_id}/marking",
        {"marks": {"Q1": 4, "Q2": 5, "P2": 8}},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not ScriptVersion.objects.exists()


def test_openapi_documents_the_endpoints(client):
    """API.md: the OpenAPI document served by the app lists the unit-harmonisation endpoints."""
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/exams/{exam}/filter-options",
        "/api/v1/exams/{exam}/scripts",
        "/api/v1/scripts/{script_id}",
        "/api/v1/scripts/{script_id}/marking",
    ):
        assert path in schema["paths"]


def test_filter_options_locked_only(client, academy_world, auth):
    """R-UNIT-1: `locked_only=true` offers only values of locked batches."""
    world = academy_world
    body = client.get(
        "/api/v1/exams/FRA-ECRIT/filter-options?locked_only=true",
        headers=auth(world["coordinator"]),
    ).json()
    assert [o["value"] for o in body["batches"]] == [world["locked_batch"].code]
