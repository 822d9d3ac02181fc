"""The mass harmonisation API runs the whole flow without a browser (API.md §2)."""

import pytest

from harmonie.harmonisation.models import Harmonisation, Simulation
from harmonie.marking.models import Script

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client, api_token, academy_world):
    token = api_token(academy_world["coordinator"])

    def do(method, path, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = "application/json"
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return do


def test_whole_flow(call, academy_world):
    """R-MASS-6, R-MASS-8, R-MASS-9, R-MASS-11, R-MASS-2, R-MASS-12 through the API."""
    scenarios = [
        {"filter": {"mark_max": 15}, "action": {"type": "raise", "points": 1.5}},
        {"filter": {}, "action": {"type": "lower", "points": 1}},
    ]
    population = call("post", "/exams/FRA-ECRIT/scenario-population", {"scenarios": scenarios})
    assert population.status_code == 200, population.content
    assert population.json()["scenarios"][0]["total"] == 2
    simulation = call("post", "/exams/FRA-ECRIT/simulations", {"scenarios": scenarios})
    assert simulation.status_code == 201, simulation.content
    body = simulation.json()
    assert [s["applied"] for s in body["scenarios"]] == [1, 1]
    assert len(body["before"]) == 41
    executed = call(
        "post", "/exams/FRA-ECRIT/harmonisations", {"simulation": body["id"], "name": "Lot 1"}
    )
    assert executed.status_code == 201, executed.content
    harmonisation = executed.json()
    assert harmonisation["name"] == "Lot 1"
    assert [s["action_label"] for s in harmonisation["scenarios"]] == ["+ 1,5", "- 1"]
    again = call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": body["id"]})
    assert again.status_code == 409
    assert call("get", "/exams/FRA-ECRIT/conformity").json()["state"] == "not_conforming"
    made = call("post", "/exams/FRA-ECRIT/conformity").json()
    assert made == {
        "state": "conforming",
        "not_conforming_count": 0,
        "has_parts": True,
        "made_conforming": 2,
    }
    replay = call("get", f"/harmonisations/{harmonisation['id']}").json()["replay"]
    for scenario in replay:
        scenario["action"] = {"type": "reset"}
    cancel = call("post", "/exams/FRA-ECRIT/simulations", {"scenarios": replay}).json()
    done = call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": cancel["id"]}).json()
    assert done["is_cancellation"]
    history = call("get", "/exams/FRA-ECRIT/harmonisations").json()
    assert [h["id"] for h in history] == [done["id"], harmonisation["id"]]
    assert set(
        Script.objects.filter(academy=academy_world["academy"]).values_list("delta", flat=True)
    ) == {0}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"scenarios": []}, 400, "au moins un scénario"),
        ({}, 400, "au moins un scénario"),
        (
            {"scenarios": [{"filter": {"juries": ["NOPE"]}, "action": {"type": "reset"}}]},
            400,
            "NOPE",
        ),
        (
            {"scenarios": [{"filter": {"couleur": "bleu"}, "action": {"type": "reset"}}]},
            400,
            "couleur",
        ),
        ({"scenarios": [{"action": {"type": "raise", "points": "abc"}}]}, 400, "abc"),
        ({"scenarios": "tout"}, 400, "scenarios : liste attendue"),
    ],
)
def test_bad_input(call, body, status, message):
    """R-MASS-1, R-MASS-4: a French message, a 4xx, nothing written."""
    response = call("post", "/exams/FRA-ECRIT/simulations", body)
    assert response.status_code == status, response.content
    assert message in response.json()["error"]["message"]
    assert Simulation.objects.count() == 0


def test_execution_errors(call, academy_world):
    """R-MASS-9: stale, foreign or unknown simulation ids; exam out of scope."""
    assert (
        call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": 424242}).status_code == 404
    )
    assert call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": "x"}).status_code == 400
    assert call("post", "/exams/FRA-ECRIT/harmonisations", {}).status_code == 400
    response = call(
        "post", "/exams/NOPE/simulations", {"scenarios": [{"action": {"type": "reset"}}]}
    )
    assert response.status_code == 404
    assert "introuvable" in response.json()["error"]["message"]
    sim = call(
        "post",
        "/exams/FRA-ECRIT/simulations",
        {"scenarios": [{"action": {"type": "raise", "points": 1}}]},
    ).json()
    other = call(
        "post",
        "/exams/FRA-ECRIT/simulations",
        {"scenarios": [{"action": {"type": "raise", "points": 2}}]},
    ).json()
    assert (
        call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": sim["id"]}).status_code
        == 201
    )
    stale = call("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": other["id"]})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_simulation"
    assert Harmonisation.objects.count() == 1


def test_grader_is_forbidden(client, api_token, academy_world):
    """R-ACC-1: a grader of the exam cannot simulate (403)."""
    grader = academy_world["locked_batch"].grader
    token = api_token(grader)
    response = client.post(
        "/api/v1/exams/FRA-ECRIT/simulations",
        {"scenarios": [{"action": {"type": "reset"}}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/exams/FRA-ECRIT/simulations",
            {"scenarios": [{"action": {"type": "raise", "points": True}}]},
            "Requête invalide : scenarios[0].action.points : nombre attendu (reçu « true »).",
        ),
        (
            "/exams/FRA-ECRIT/simulations",
            {"scenarios": [{"filter": {"graders": "corr.a"}, "action": {"type": "reset"}}]},
            "Requête invalide : scenarios[0].filter.graders : liste attendue (reçu « corr.a »).",
        ),
        (
            "/exams/FRA-ECRIT/simulations",
            {"scenarios": [], "couleur": "bleu"},
            "Requête invalide : couleur : champ inconnu.",
        ),
        (
            "/exams/FRA-ECRIT/simulations",
            {"scenarios": [{"action": {"type": "reset"}}], "display": {"mark_min": "dix"}},
            "Requête invalide : display.mark_min : nombre attendu (reçu « dix »).",
        ),
        (
            "/exams/FRA-ECRIT/comparisons",
            {"a": {"scenarios": [{"action": {"type": "reset"}}]}},
            "Requête invalide : b : champ obligatoire.",
        ),
        (
            "/exams/FRA-ECRIT/harmonisations",
            {"simulation": 1, "reason": {"code": ["other"]}},
            "Requête invalide : reason.code : texte attendu.",
        ),
    ],
)
def test_type_errors_are_french_with_the_field_path(call, path, body, message):
    """Issue 11 item 4: a type error is a 400 in the API format naming the field, in
    French (never Django Ninja's English 422); nothing is written (R-MASS-1)."""
    response = call("post", path, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == message
    assert error["details"][0]["field"] == message.split(" : ")[1]
    assert Simulation.objects.count() == 0
    assert Harmonisation.objects.count() == 0


def test_points_in_french_notation_still_accepted(call):
    """R-MASS-1: « 1,5 » is read as 1.5, as before the bodies were typed."""
    response = call(
        "post",
        "/exams/FRA-ECRIT/simulations",
        {"scenarios": [{"action": {"type": "raise", "points": "1,5"}}]},
    )
    assert response.status_code == 201, response.content
    assert Simulation.objects.get().scenarios[0]["action"] == {"type": "raise", "points": 1.5}
