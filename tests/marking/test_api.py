"""Unit-harmonisation API (API.md §2): filter options, script list, script, marking."""

from decimal import Decimal

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.marking.models import Script, ScriptVersion
from harmonie.marking.selectors import SORT_CHOICES
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


@pytest.mark.parametrize("sort", SORT_CHOICES)
def test_every_sort_with_cursor_pagination_covers_all_rows_once(client, academy_world, auth, sort):
    """R-UNIT-3 (issue 13 item 8): every column sortable, special marks last in both
    directions; keyset cursor pages neither skip nor repeat, forward and back, and say
    « page n sur m »."""
    world = academy_world
    for marks, delta in (
        ({"Q1": 1, "Q2": 1, "P2": 1}, Decimal(2)),
        ({"Q1": 3, "Q2": 4.5, "P2": 7}, Decimal(0)),
        ({"Q1": 2, "Q2": 2, "P2": 2}, Decimal(-1)),
    ):
        ScriptFactory(batch=world["locked_batch"], marks=marks, delta=delta)
    ScriptFactory(batch=world["locked_batch"], special_mark="AB", marks={})
    headers = auth(world["coordinator"])
    pages: list[list[dict]] = []
    cursor = None
    for number in range(1, 10):
        url = f"/api/v1/exams/FRA-ECRIT/scripts?sort={sort}&limit=2"
        if cursor:
            url += f"&cursor={cursor}"
        body = client.get(url, headers=headers).json()
        assert (body["page"], body["pages"]) == (number, 4)
        pages.append(body["results"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    seen = [row for page in pages for row in page]
    assert len(seen) == 7
    assert len({row["id"] for row in seen}) == 7
    key = sort.lstrip("-")
    column = {"mark": "final_mark", "id": "id"}.get(key, key)
    if column in ("final_mark", "initial_mark", "delta"):
        numbers = [row[column] for row in seen if not row["special_mark"]]
        assert numbers == sorted(numbers, reverse=sort.startswith("-"))
        # The special marks (CB, AB) come after every number, whichever the direction.
        assert [bool(row["special_mark"]) for row in seen] == [False] * 5 + [True] * 2
    else:
        values = [row[column] or "" for row in seen]
        assert values == sorted(values, reverse=sort.startswith("-"))
    # Back from the last page, page by page, to the first one.
    back = body["previous_cursor"]
    for number in range(len(pages) - 1, 0, -1):
        body = client.get(
            f"/api/v1/exams/FRA-ECRIT/scripts?sort={sort}&limit=2&cursor={back}", headers=headers
        ).json()
        assert body["page"] == number
        assert [row["id"] for row in body["results"]] == [row["id"] for row in pages[number - 1]]
        assert body["next_cursor"]
        back = body["previous_cursor"]
    assert back is None


def test_list_harmonised_and_conforming_filters(client, academy_world, auth):
    """Issue 13 item 8, R-MASS-12: « harmonisé / non harmonisé » reads `is_harmonised`;
    « conforme / non conforme » compares in SQL the leaf marks (final_marks, or marks
    while never spread) with the final mark."""
    world = academy_world
    batch = world["locked_batch"]
    raised = ScriptFactory(batch=batch, marks={"Q1": 1, "Q2": 1, "P2": 1}, delta=Decimal(2))
    Script.objects.filter(pk=raised.pk).update(is_harmonised=True)
    spread = ScriptFactory(batch=batch, marks={"Q1": 1, "Q2": 1, "P2": 1}, delta=Decimal(2))
    Script.objects.filter(pk=spread.pk).update(
        is_harmonised=True, final_marks={"Q1": 1.5, "Q2": 1.5, "P2": 2}
    )
    headers = auth(world["coordinator"])

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/exams/FRA-ECRIT/scripts?{query}", headers=headers)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    settled = {script.public_id for script in world["scripts"][:3]}
    assert ids("harmonised=oui") == {raised.public_id, spread.public_id}
    assert ids("harmonised=false") == settled
    assert ids("conforming=non") == {raised.public_id}
    assert ids("conforming=true") == settled | {spread.public_id}
    assert ids("conforming=non&harmonised=non") == set()
    assert (
        client.get("/api/v1/exams/FRA-ECRIT/scripts?conforming=peut-etre", headers=headers)
        .json()["error"]["message"]
        .startswith("Conformité : « peut-etre »")
    )


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
        ("mark_min=abc", "mark_min : nombre attendu (reçu « abc »)"),
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


def _refused_put(client, world, auth, payload, status):
    """PUT the marking of the first script; refused with `status`, nothing written."""
    script = world["scripts"][0]
    response = client.put(
        f"/api/v1/scripts/{script.public_id}/marking",
        payload,
        content_type="application/json",
        headers=auth(world["coordinator"]),
    )
    assert response.status_code == status, response.content
    assert not ScriptVersion.objects.exists()
    assert not AuditEntry.objects.exists()
    assert Script.objects.get(pk=script.pk).marks == {"Q1": 3, "Q2": 4.5, "P2": 7}
    return response.json()["error"]["message"]


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
    assert _refused_put(client, academy_world, auth, payload, status)


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


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"marks": "rien"}, "Requête invalide : marks : objet attendu (reçu « rien »)."),
        (
            {"marks": {"Q1": True, "Q2": 5, "P2": 8}},
            "Requête invalide : marks.Q1 : note attendue (nombre ou texte) (reçu « true »).",
        ),
        (
            {"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "annotations": {"kind": "tick"}},
            "Requête invalide : annotations : liste attendue.",
        ),
        (
            {"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "annotations": [{"kind": "tick", "x": "0,5"}]},
            "Requête invalide : annotations[0].x : nombre attendu (reçu « 0,5 »).",
        ),
        (
            {"marks": {"Q1": 4, "Q2": 5, "P2": 8}, "version": "1"},
            "Requête invalide : version : nombre entier attendu (reçu « 1 »).",
        ),
        ({"marks": {"Q1": 4}, "note": 12}, "Requête invalide : note : champ inconnu."),
    ],
)
def test_put_marking_type_errors_name_the_field(client, academy_world, auth, payload, message):
    """Issue 11 item 4: the marking body is typed; a type error names the field, in
    French, status 400, nothing written (R-MARK-1, R-UNIT-4)."""
    assert _refused_put(client, academy_world, auth, payload, 400) == message
