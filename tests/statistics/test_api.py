"""GET /api/v1/exams/{exam}/statistics (R-MASS-13, R-ACC-1, R-UNIT-2, R-MASS-7)."""

import pytest

from tests.conftest import login_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/exams/FRA-ECRIT/statistics"


def _get(api_token, user, query: str = ""):
    from django.test import Client

    return Client().get(
        f"{URL}{'?' + query if query else ''}",
        headers={"authorization": f"Bearer {api_token(user)}"},
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("coordinator", 200),
        ("member", 200),
        ("exam_officer", 200),
        ("member_without_mission", 404),
        ("grader", 403),
        ("school_head", 403),
        ("coordinator_elsewhere", 404),
    ],
)
def test_who_may_read_statistics(academy_world, api_token, role, status):
    """R-ACC-1: coordinator, member with mission and exam officer read; others 403;
    out of scope 404."""
    exam, academy = academy_world["exam"], academy_world["academy"]
    if role == "member":
        user = UserFactory(member=True, academy=academy, missions=[exam])
    elif role == "member_without_mission":
        user = UserFactory(member=True, academy=academy)
    elif role == "grader":
        user = academy_world["locked_batch"].grader
    elif role == "school_head":
        user = UserFactory(school_head=True, school=academy_world["scripts"][0].school)
    elif role == "coordinator_elsewhere":
        user = UserFactory(coordinator=True)
    else:
        user = UserFactory(**{role: True}, academy=academy)
    response = _get(api_token, user)
    assert response.status_code == status, response.content
    if status != 200:
        assert response.json()["error"]["message"]


def test_statistics_body(academy_world, api_token):
    """R-MASS-13: histogram on the step with zeros, groups, special marks apart."""
    body = _get(api_token, academy_world["coordinator"]).json()
    assert body["count"] == 3
    assert body["mean"] == pytest.approx(13.17)
    assert len(body["histogram"]) == 41
    assert body["histogram"][0] == {"mark": 0.0, "count": 0}
    assert sum(item["count"] for item in body["histogram"]) == 3
    assert body["special_marks"] == [{"code": "CB", "count": 1}]
    assert {"code", "label", "count", "mean", "std"} == set(body["by_school"][0])
    assert sum(row["count"] for row in body["by_grader"]) == 3
    assert sum(row["count"] for row in body["by_qualification"]) == 3


def test_filter_in_query_string_with_api_keys(academy_world, api_token):
    """R-MASS-7: the filter object's keys in the query string, plus locked_only."""
    script = academy_world["scripts"][0]
    body = _get(
        api_token,
        academy_world["coordinator"],
        f"departments={script.department.code}&mark_min=10&mark_max=15&locked_only=true",
    ).json()
    assert body["count"] == 1
    assert body["filter"] == {
        "departments": [script.department.code],
        "mark_min": 10.0,
        "mark_max": 15.0,
    }
    assert body["locked_only"] is True


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("schools=9999999X", "9999999X"),
        ("mark_min=abc", "mark_min : nombre attendu (reçu « abc »)"),
        ("mark_min=12&mark_max=8", "Note min."),
        ("mark_max=25", "Note max."),
        ("mark_part=P9&mark_min=1", "P9"),
        ("nope=1", "Paramètre « nope » inconnu"),
        ("locked_only=maybe", "locked_only : oui ou non attendu (true, false) (reçu « maybe »)"),
    ],
)
def test_bad_filter_is_a_french_400(academy_world, api_token, query, word):
    """R-MASS-13: bad input answers 400 with a French message naming the key (a value of
    the wrong type by the typed query, issue 11 item 4: its parameter and the value)."""
    response = _get(api_token, academy_world["coordinator"], query)
    assert response.status_code == 400
    assert word in response.json()["error"]["message"]


def test_typed_query_reads_lists_either_way_and_ignores_empty_values(academy_world, api_token):
    """R-MASS-7: lists repeated or comma-separated, marks in French notation, empty
    values (an empty form field) are no filter, yes/no as oui/non (issue 11 item 4)."""
    first, second = academy_world["scripts"][0], academy_world["scripts"][1]
    user = academy_world["coordinator"]
    codes = sorted({first.school.uai, second.school.uai})
    repeated = _get(api_token, user, f"schools={codes[0]}&schools={codes[-1]}").json()
    commas = _get(api_token, user, f"schools={','.join(codes)}&mark_max=20,0").json()
    assert repeated["filter"]["schools"] == commas["filter"]["schools"] == codes
    assert repeated["count"] == commas["count"]
    empty = _get(api_token, user, "schools=&mark_min=&locked_only=").json()
    assert (empty["filter"], empty["locked_only"]) == ({}, False)
    assert _get(api_token, user, "locked_only=oui").json()["locked_only"] is True


def test_no_candidate_identity(academy_world, api_token):
    """R-UNIT-2: no candidate number nor script id in the statistics."""
    text = _get(api_token, academy_world["coordinator"]).content.decode()
    for script in academy_world["scripts"]:
        assert script.candidate.number not in text
        assert script.public_id not in text


def test_browser_session_works(academy_world):
    """The page's session authenticates the API too."""
    assert login_client(academy_world["coordinator"]).get(URL).status_code == 200


def test_each_academy_sees_its_own_scripts(academy_world, api_token):
    """R-ACC-1: the other academy's coordinator counts only their script."""
    other = UserFactory(coordinator=True, academy=academy_world["other_academy"])
    body = _get(api_token, other).json()
    assert body["count"] == 1
    assert [row["code"] for row in body["by_school"]] == [
        academy_world["foreign_script"].school.uai
    ]
