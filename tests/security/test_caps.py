"""Caps refused at once (issue 12, item 2; API.md §2 « thousands of scenarios »): scenarios
per harmonisation (100, `HARMONIE_SCENARIOS_MAX`), values per filter list (500), annotations
per script (500). 20,000 scenarios held a worker 30 s and ended in a 500; now a 400 in
French at once, and nothing is written."""

import json
import time

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.harmonisation.models import Harmonisation, Simulation
from harmonie.marking.models import Script, ScriptVersion
from tests.security.conftest import api_headers, web_client

SCENARIO = {"filter": {"graders": ["corr.nm"]}, "action": {"type": "raise", "points": 1}}


def _rows() -> tuple:
    return (
        Simulation.objects.count(),
        Harmonisation.objects.count(),
        AuditEntry.objects.count(),
        ScriptVersion.objects.count(),
        tuple(Script.objects.order_by("pk").values_list("version", "final_mark")),
    )


@pytest.mark.parametrize("count", [101, 20_000])
@pytest.mark.parametrize("endpoint", ["simulations", "scenario-population"])
def test_too_many_scenarios_refused_at_once(world, endpoint, count):
    """R-MASS-1 (issue 12.2): past 100 scenarios, a 400 before any scenario is read."""
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    started = time.monotonic()
    response = web_client(None).post(
        f"/api/v1/exams/{world.shared_exam.code}/{endpoint}",
        json.dumps({"scenarios": [SCENARIO] * count}),
        content_type="application/json",
        **headers,
    )
    assert time.monotonic() - started < 3
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["message"] == "Trop de scénarios : au plus 100 par harmonisation."
    assert _rows() == before


def test_hundred_scenarios_still_accepted(world):
    """R-MASS-1: the cap itself is allowed."""
    response = web_client(None).post(
        f"/api/v1/exams/{world.shared_exam.code}/scenario-population",
        json.dumps({"scenarios": [SCENARIO] * 100}),
        content_type="application/json",
        **api_headers(world.user("coordinator")),
    )
    assert response.status_code == 200, response.content


def test_cap_is_a_setting(world, settings):
    settings.HARMONIE_SCENARIOS_MAX = 2
    response = web_client(None).post(
        f"/api/v1/exams/{world.shared_exam.code}/scenario-population",
        json.dumps({"scenarios": [SCENARIO] * 3}),
        content_type="application/json",
        **api_headers(world.user("coordinator")),
    )
    assert response.status_code == 400
    assert "au plus 2 par harmonisation" in response.json()["error"]["message"]


def test_editor_form_with_too_many_scenarios(world):
    """The editor's simulation form (R-MASS-8) is held to the same cap."""
    data = {}
    for index in range(1, 103):
        data[f"s{index}-action"] = "reset"
    client = web_client(world.user("coordinator"))
    before = _rows()
    response = client.post(f"/harmonisation/{world.shared_exam.code}/simulation/", data)
    assert 400 <= response.status_code < 500
    assert "Trop de scénarios" in response.content.decode()
    assert _rows() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/exams/{exam}/scripts?schools={values}",
        "/api/v1/exams/{exam}/statistics?graders={values}",
        "/api/v1/exams/{exam}/filter-options?batches={values}",
    ],
)
def test_filter_lists_are_capped(world, url):
    """Issue 12.2: a filter list of 501 values is refused before any query."""
    values = ",".join(f"X{index}" for index in range(501))
    response = web_client(None).get(
        url.format(exam=world.shared_exam.code, values=values),
        **api_headers(world.user("coordinator")),
    )
    assert response.status_code == 400
    assert "au plus 500 valeurs" in response.json()["error"]["message"]


def test_annotations_are_capped(world):
    """R-UNIT-4: at most 500 annotations on a script; the script is unchanged."""
    script = world.own.script
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    body = {
        "marks": script.marks,
        "annotations": [{"kind": "tick", "page": 0, "x": 0.1, "y": 0.1}] * 501,
    }
    response = web_client(None).put(
        f"/api/v1/scripts/{script.public_id}/marking",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 400
    assert "Trop d'annotations (au plus 500)." in response.json()["error"]["message"]
    assert _rows() == before
