"""Bad input refused at the edge (issue 12, items 1, 2 and 7; API.md §2): NUL bytes, lone
surrogates, deep nesting, oversized bodies, unknown paths and CSRF refusals answer a 4xx with
a French message (in the API error format under /api/v1), never a 500, and nothing is
written. Every case runs on SQLite and, with DATABASE_URL, on PostgreSQL (where a NUL
reached the database as a DataError)."""

import json

import pytest
from django.test import Client

from harmonie.accounts.models import ApiToken, FailedLogin
from harmonie.audit.models import AuditEntry
from harmonie.harmonisation.models import Harmonisation, Simulation
from harmonie.marking.models import Script, ScriptVersion
from tests.factories import PASSWORD
from tests.security.conftest import api_headers, csrf_token_set, web_client

NUL_MESSAGE = "Caractère nul (U+0000) refusé"


def _rows() -> tuple:
    return (
        FailedLogin.objects.count(),
        ApiToken.objects.count(),
        AuditEntry.objects.count(),
        Simulation.objects.count(),
        Harmonisation.objects.count(),
        ScriptVersion.objects.count(),
        tuple(Script.objects.order_by("pk").values_list("version", "final_mark", "annotations")),
    )


def _api_refused(response, *, status: int = 400, contains: str = NUL_MESSAGE) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert contains in error["message"], error
    return error


def test_token_endpoint_refuses_nul_username(world):
    """Issue 12.1: the unauthenticated token endpoint with a NUL in `username` (R-ACC-1)."""
    before = _rows()
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "coord.nm\x00", "password": PASSWORD},
        content_type="application/json",
    )
    _api_refused(response)
    assert _rows() == before


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "schools=%00",
        "graders=%00",
        "batches=%00",
        "cursor=%00",
        "sort=%00",
        "%00=1",
    ],
)
def test_script_list_refuses_nul_in_query(world, query):
    """Issue 12.1: the unit-harmonisation list's query string (R-UNIT-2 list)."""
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    response = web_client(None).get(
        f"/api/v1/exams/{world.shared_exam.code}/scripts?{query}", **headers
    )
    _api_refused(response)
    assert _rows() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/exams/{exam}/statistics?class_groups=%00",
        "/api/v1/exams/{exam}/filter-options?schools=%00",
        "/api/v1/exams/%00/scripts",
        "/api/v1/scripts/S%00",
        "/api/v1/exams/{exam}/harmonisations?x=%00",
    ],
)
def test_api_refuses_nul_in_paths_and_queries(world, url):
    """Issue 12.1: statistics, linked choices and path parameters."""
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    response = web_client(None).get(url.format(exam=world.shared_exam.code), **headers)
    _api_refused(response)
    assert _rows() == before


def test_annotation_text_with_nul_is_refused(world):
    """Issue 12.1: an annotation text with \\u0000 (R-UNIT-4); the script is unchanged."""
    script = world.own.script
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    body = {
        "marks": script.marks,
        "annotations": [{"kind": "comment", "page": 0, "text": "bien\u0000vu"}],
    }
    response = web_client(None).put(
        f"/api/v1/scripts/{script.public_id}/marking",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )
    _api_refused(response)
    assert _rows() == before


@pytest.mark.parametrize(
    ("raw", "contains"),
    [
        ('{"marks": {}, "annotations": [{"kind": "comment", "text": "\\ud800"}]}', "demi-codet"),
        ('{"marks": {"\\u0000": 1}}', NUL_MESSAGE),
        ('{"marks": ' + "[" * 40 + "]" * 40 + "}", "trop imbriqué"),
        ("[" * 100_000 + "]" * 100_000, "trop imbriqué"),
    ],
)
def test_json_body_refused_at_the_edge(world, raw, contains):
    """API.md §2: lone surrogates, NUL in keys, deep nesting (even past Python's recursion)."""
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    response = web_client(None).put(
        f"/api/v1/scripts/{world.own.script.public_id}/marking",
        raw,
        content_type="application/json",
        **headers,
    )
    _api_refused(response, contains=contains)
    assert _rows() == before


def test_body_over_the_limit_is_413_in_the_api_format(world, settings):
    """Issue 12.7: Django's English 400 for a body over the limit becomes a French 413."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    headers = api_headers(world.user("coordinator"))
    before = _rows()
    body = json.dumps({"scenarios": [{"filter": {}, "action": {"type": "reset"}}] * 2000})
    response = web_client(None).post(
        f"/api/v1/exams/{world.shared_exam.code}/simulations",
        body,
        content_type="application/json",
        **headers,
    )
    error = _api_refused(response, status=413, contains="trop volumineux")
    assert error["code"] == "too_large"
    assert _rows() == before


@pytest.mark.parametrize(
    "page",
    [
        "/copies/epreuve/{exam}/?q=%00",
        "/copies/epreuve/{exam}/?schools=%00",
        "/statistiques/{exam}/?class_groups=%00",
        "/statistiques/{exam}/export/synthese.csv?schools=%00",
        "/statistiques/{exam}/export/synthese.xlsx?q=%00",
        "/harmonisation/{exam}/?s1-schools=%00",
    ],
)
def test_pages_refuse_nul_with_a_french_page(world, page):
    """Issue 12.1: the HTML list, statistics and exports answer a French 400 page."""
    before = _rows()
    client = web_client(world.user("coordinator"))
    response = client.get(page.format(exam=world.shared_exam.code))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert NUL_MESSAGE in response.content.decode()
    assert _rows() == before


@pytest.mark.parametrize("form", ["simulation", "population"])
def test_editor_forms_refuse_nul(world, form):
    """Issue 12.1: the editor's simulation/ and population/ forms (R-MASS-6, R-MASS-8)."""
    before = _rows()
    client = web_client(world.user("coordinator"))
    response = client.post(
        f"/harmonisation/{world.shared_exam.code}/{form}/",
        {"s1-action": "raise", "s1-points": "1", "s1-graders": "corr.nm\x00", "scenario": "1"},
    )
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()
    assert _rows() == before


def test_login_form_refuses_nul(world):
    """R-ACC-1: the login form never stores a NUL (FailedLogin)."""
    before = _rows()
    response = Client().post("/compte/connexion/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()
    assert _rows() == before


def test_nul_in_a_cookie_is_refused(world):
    """A session cookie with a NUL would reach the sessions table."""
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    response = client.get("/api/v1/exams")
    _api_refused(response)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/n-existe-pas", 404, "not_found"),
        ("get", "/api/v1/", 404, "not_found"),
        ("post", "/api/v1/exams", 405, "method_not_allowed"),
    ],
)
def test_every_api_path_answers_in_the_error_format(world, method, path, status, code):
    """Issue 12.7: an unknown path was Django's English HTML 404."""
    response = getattr(web_client(None), method)(path, **api_headers(world.user("coordinator")))
    error = _api_refused(response, status=status, contains="")
    assert error["code"] == code
    assert error["message"]
    assert "Not Found" not in error["message"]


def test_api_csrf_refusal_in_french(world):
    """Issue 12.7: a session call without the CSRF header is a French 403, nothing written."""
    client = web_client(world.user("coordinator"), enforce_csrf=True)
    before = _rows()
    response = client.post(
        f"/api/v1/exams/{world.shared_exam.code}/conformity", content_type="application/json"
    )
    error = _api_refused(response, status=403, contains="CSRF")
    assert error["code"] == "csrf_failed"
    assert _rows() == before


def test_page_csrf_refusal_in_french(world):
    """Issue 12.7: Django's English CSRF page is replaced by a French one."""
    client = web_client(world.user("coordinator"), enforce_csrf=True)
    response = client.post(f"/harmonisation/{world.shared_exam.code}/simulation/", {})
    assert response.status_code == 403
    assert "jeton de sécurité (CSRF)" in response.content.decode()
    csrf_token_set(client)  # the same client still works with the token (no state kept)
