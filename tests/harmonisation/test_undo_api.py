"""The trust and fairness additions of the harmonisation API (API.md "Additions"):
undo-simulation (R-MASS-14), `cancels` and `reason` (R-FAIR-5), `crossings` (R-FAIR-3),
comparisons (R-FAIR-4)."""

import pytest

from harmonie.harmonisation.models import Harmonisation, Simulation
from harmonie.marking.models import Script
from tests.factories import AcademyFactory, UserFactory

pytestmark = pytest.mark.django_db

RAISE_2 = {"filter": {}, "action": {"type": "raise", "points": 2}}


@pytest.fixture
def call(client, api_token, academy_world):
    def make(user):
        token = api_token(user)

        def do(method, path, body=None):
            kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            if body is not None:
                kwargs["data"] = body
                kwargs["content_type"] = "application/json"
            return getattr(client, method)(f"/api/v1{path}", **kwargs)

        return do

    return make


def _execute(do, scenarios, **extra):
    simulation = do("post", "/exams/FRA-ECRIT/simulations", {"scenarios": scenarios}).json()
    answer = do(
        "post", "/exams/FRA-ECRIT/harmonisations", {"simulation": simulation["id"], **extra}
    )
    assert answer.status_code == 201, answer.content
    return simulation, answer.json()


def test_undo_through_the_api(call, academy_world):
    """R-MASS-14: undo-simulation, executed through POST /harmonisations; `cancels` both
    ways; a second undo is 409 with the French message, nothing written."""
    do = call(academy_world["coordinator"])
    simulation, first = _execute(
        do, [RAISE_2], reason={"code": "grader_severity", "text": "Correcteur sévère"}
    )
    assert first["reason"] == {
        "code": "grader_severity",
        "label": "Sévérité d'un correcteur",
        "text": "Correcteur sévère",
    }
    assert first["cancels"] is None
    assert [c["threshold"] for c in simulation["crossings"]] == [8.0, 10.0, 12.0, 14.0, 16.0]
    assert simulation["crossings"][4]["up"] == 1  # 14.5 -> 16.5 crosses 16
    undo = do("post", f"/harmonisations/{first['id']}/undo-simulation")
    assert undo.status_code == 201, undo.content
    body = undo.json()
    assert body["undo"] == {
        "harmonisation": first["id"],
        "scenarios": [{"scenario": 1, "scripts": 2, "points": -2.0}],
    }
    assert body["changed"] == 2
    executed = do("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": body["id"]})
    assert executed.status_code == 201, executed.content
    cancellation = executed.json()
    assert cancellation["cancels"] == first["id"]
    assert cancellation["is_cancellation"] is True
    assert cancellation["reason"]["code"] == "other"
    original = do("get", f"/harmonisations/{first['id']}").json()
    assert original["cancelled_by"]["id"] == cancellation["id"]
    assert not Script.objects.filter(is_harmonised=True).exists()
    count = Simulation.objects.count()
    again = do("post", f"/harmonisations/{first['id']}/undo-simulation")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_undone"
    assert "déjà été annulée" in again.json()["error"]["message"]
    assert Simulation.objects.count() == count


def test_undo_refusals_through_the_api(call, academy_world):
    """R-MASS-14, R-ACC-1: another academy's harmonisation is 404; a stale undo is 409."""
    do = call(academy_world["coordinator"])
    _, first = _execute(do, [RAISE_2])
    undo = do("post", f"/harmonisations/{first['id']}/undo-simulation").json()
    _execute(do, [{"filter": {"mark_min": 18}, "action": {"type": "reset"}}])
    stale = do("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": undo["id"]})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_simulation"
    stranger = UserFactory(coordinator=True, academy=AcademyFactory(code="STRASBOURG"))
    answer = call(stranger)("post", f"/harmonisations/{first['id']}/undo-simulation")
    assert answer.status_code == 404
    assert Harmonisation.objects.count() == 2


def test_bad_reason_is_refused(call, academy_world):
    """R-FAIR-5: an unknown reason code is 400 in French, nothing executed."""
    do = call(academy_world["coordinator"])
    simulation = do("post", "/exams/FRA-ECRIT/simulations", {"scenarios": [RAISE_2]}).json()
    answer = do(
        "post",
        "/exams/FRA-ECRIT/harmonisations",
        {"simulation": simulation["id"], "reason": {"code": "caprice"}},
    )
    assert answer.status_code == 400
    assert "Motif « caprice » inconnu" in answer.json()["error"]["message"]
    assert not Harmonisation.objects.exists()


def test_comparison_through_the_api(call, academy_world):
    """R-FAIR-4: two simulations on the same data and how many candidates differ."""
    do = call(academy_world["coordinator"])
    answer = do(
        "post",
        "/exams/FRA-ECRIT/comparisons",
        {
            "a": {"scenarios": [{"filter": {}, "action": {"type": "raise", "points": 1}}]},
            "b": {"scenarios": [RAISE_2]},
        },
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["differ"] == 1
    assert body["a"]["mean_after"] != body["b"]["mean_after"]
    executed = do("post", "/exams/FRA-ECRIT/harmonisations", {"simulation": body["a"]["id"]})
    assert executed.status_code == 201
    bad = do("post", "/exams/FRA-ECRIT/comparisons", {"a": {"scenarios": []}, "b": {}})
    assert bad.status_code == 400
    assert "Version A" in bad.json()["error"]["message"]
