"""GET /exams/{exam}/grader-severity, its proposal and the minutes PDF (R-FAIR-1, R-FAIR-2,
R-FAIR-6): shapes, refusals in French, access."""

import pytest

from harmonie.accounts.models import User
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/exams/FRA-ECRIT"


def test_grader_severity_answers_the_api_md_shape(generated, client, api_token):
    """R-FAIR-1: API.md's keys for every grader, flags from the estimate."""
    token = api_token(generated["coordinator"])
    response = client.get(f"{BASE}/grader-severity", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    body = response.json()
    assert body["tolerance"] == 2.0
    assert body["method"].startswith("Moindres carrés")
    row = body["graders"][0]
    assert set(row) >= {"grader", "name", "scripts", "mean", "effect", "ci_low", "ci_high", "flag"}
    assert row["flag"] == "lenient"
    assert row["ci_low"] > 2
    assert {r["grader"] for r in body["graders"]} == generated["academy_graders"]
    part = client.get(
        f"{BASE}/grader-severity?part=P2&departments=057", HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert (part["part"], part["tolerance"], part["filter"]) == (
        "P2",
        1.0,
        {"departments": ["057"]},
    )


def test_bad_part_is_a_400_in_french(generated, client, api_token):
    token = api_token(generated["coordinator"])
    response = client.get(f"{BASE}/grader-severity?part=X", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert "partie « X » inconnue" in response.json()["error"]["message"]


def test_proposal_is_ready_for_a_simulation(generated, client, api_token):
    """R-FAIR-2: the proposal's scenarios go to POST /simulations as they are; nothing
    was executed by asking for it."""
    from harmonie.harmonisation.models import Harmonisation

    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(generated['member'])}"}
    proposal = client.get(f"{BASE}/grader-severity/proposal", **headers).json()
    assert proposal["scenarios"]
    assert proposal["reason"]["code"] in ("grader_severity", "grader_leniency")
    assert not Harmonisation.objects.exists()
    simulation = client.post(
        f"{BASE}/simulations",
        {"scenarios": proposal["scenarios"]},
        content_type="application/json",
        **headers,
    )
    assert simulation.status_code == 201, simulation.content
    applied = [s["applied"] for s in simulation.json()["scenarios"]]
    assert all(n > 0 for n in applied)


def test_roles_without_mass_harmonisation_get_403(generated, client, api_token):
    """R-ACC-1: a grader or a school account may not read grader effects."""
    grader = User.objects.filter(role="grader", academy__code="NANCY-METZ").first()
    grader.set_password("harmonie2026")
    grader.save()
    token = api_token(grader)
    for path in ("grader-severity", "grader-severity/proposal", "minutes.pdf"):
        response = client.get(f"{BASE}/{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 403, path
        assert response.json()["error"]["message"]


def test_page_shows_flagged_graders_and_the_proposal_button(generated):
    """R-FAIR-1, R-FAIR-2: the « Correcteurs » page names flagged graders, has the table
    with its caption and the button that loads the proposal into the editor."""
    client = login_client(generated["coordinator"])
    response = client.get("/equite/FRA-ECRIT/correcteurs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<caption>Effets correcteurs" in html
    # R-FAIR-2: the proposal goes to the editor as a draft in its address.
    assert 'data-testid="proposal-button" href="/harmonisation/FRA-ECRIT/?draft=' in html
    assert 'id="graders-chart-data"' in html
    # No inline script of this page's own (the chart's code is a static file).
    content = html.split("<h1>Effets correcteurs")[1].split('id="graders-chart-data"')[0]
    assert content.count("<script") == 1  # the json_script data, opened just before
    assert "fairness/graders.js" in html
    refused = client.get("/equite/FRA-ECRIT/correcteurs/?part=Z")
    assert refused.status_code == 400
    assert "partie « Z » inconnue" in refused.content.decode()


def test_typed_queries_refuse_in_french(generated, client, api_token):
    """R-FAIR-1, R-FAIR-6 (issue 11 item 4): the typed queries keep the parsers' French
    refusals (part, basis, range), name the parameter of a value of the wrong type, refuse
    an undeclared parameter; the minutes read `from` and `to` as days."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token(generated['coordinator'])}"}

    def message(path: str) -> str:
        response = client.get(f"{BASE}/{path}", **headers)
        assert response.status_code == 400, (path, response.content)
        return response.json()["error"]["message"]

    assert "« Notes lues » : « brut » inconnu (initial ou final)" in message(
        "grader-severity?basis=brut"
    )
    assert "la note finale n'existe que pour la note globale" in message(
        "grader-severity?part=P2&basis=final"
    )
    assert "locked_only : oui ou non attendu" in message("grader-severity?locked_only=2")
    assert "mark_max : nombre attendu (reçu « haut »)" in message("grader-severity?mark_max=haut")
    assert "Paramètre « colour » inconnu" in message("grader-severity?colour=red")
    assert "Établissement « 9999999X » inconnu" in message("grader-severity?schools=9999999X")
    assert "partie « X » inconnue" in message("grader-severity/proposal?part=X")
    assert "from : date attendue (AAAA-MM-JJ) (reçu « 2026-13-01 »)" in message(
        "minutes.pdf?from=2026-13-01"
    )
    assert "la date de début suit la date de fin" in message(
        "minutes.pdf?from=2026-06-10&to=2026-06-01"
    )
    severity = client.get(f"{BASE}/grader-severity?locked_only=oui&basis=final", **headers)
    assert (severity.json()["locked_only"], severity.json()["basis"]) == (True, "final")
    pdf = client.get(f"{BASE}/minutes.pdf?from=2026-06-01&to=2026-06-10", **headers)
    assert pdf.status_code == 200
    assert "FRA-ECRIT-2026-06-01-2026-06-10.pdf" in pdf["Content-Disposition"]
