"""CSRF on every form and every state-changing call made with the browser's session
(R-ACC-1): without the token the request is refused (403) and nothing is written; with it
the same request goes through. Bearer-token API calls carry no cookie, so no CSRF."""

import re
from pathlib import Path

import pytest
from django.test import Client

from harmonie.audit.models import AuditEntry
from harmonie.harmonisation.models import Harmonisation, Simulation
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Exam
from harmonie.validation.models import DeliveryMessage, Validation
from tests.factories import PASSWORD
from tests.security.conftest import ROLES, csrf_token_set, web_client
from tests.security.test_access_matrix import API, PAGES, Endpoint

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
# Obtaining a token: credentials in the body, no session cookie involved.
# Bearer only: no session, so no CSRF (DELETE revokes the token it is sent with).
NO_SESSION = {"POST /api/v1/auth/token", "DELETE /api/v1/auth/token"}


def _writes() -> tuple:
    """What a refused request must leave untouched."""
    return (
        AuditEntry.objects.count(),
        Validation.objects.count(),
        DeliveryMessage.objects.count(),
        Harmonisation.objects.count(),
        Simulation.objects.count(),
        tuple(Batch.objects.order_by("pk").values_list("locked", flat=True)),
        tuple(Script.objects.order_by("pk").values_list("version", "final_mark", "final_marks")),
        tuple(Exam.objects.order_by("pk").values_list("marks_version", flat=True)),
    )


def _allowed_role(endpoint: Endpoint) -> str:
    """The first signed-in role that gets past the role check (else the anonymous visitor)."""
    signed_in = [role for role in ROLES if role != "anonymous" and role in endpoint.own]
    return next((role for role in signed_in if endpoint.own[role] not in (401, 403)), "anonymous")


def _unsafe(table: dict[str, Endpoint], prefix: str = "") -> list[tuple[str, str]]:
    return [
        (prefix, key)
        for key, endpoint in sorted(table.items())
        if endpoint.method in UNSAFE and key not in NO_SESSION
    ]


# Unsafe methods on routes the matrix checks with GET.
EXTRA: dict[str, Endpoint] = {
    "POST compte/connexion/": Endpoint(
        "post",
        lambda w, s: "/compte/connexion/",
        {"anonymous": 302},
        data={"username": "coord.nm", "password": PASSWORD},
    ),
    "POST harmonisation/<str:exam>/conformite/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{w.shared_exam.code}/conformite/",
        {"coordinator": 302},
    ),
}

CASES = _unsafe(PAGES, "page") + _unsafe(EXTRA, "extra") + _unsafe(API, "api")


def _send(client: Client, endpoint: Endpoint, url: str, *, api_call: bool, token: str | None):
    extra = {"HTTP_X_CSRFTOKEN": token} if token else {}
    method = getattr(client, endpoint.method)
    if api_call:
        return method(url, endpoint.data or {}, content_type="application/json", **extra)
    return method(url, endpoint.data or {}, **extra)


def test_every_unsafe_endpoint_is_covered():
    kinds = {key for _kind, key in CASES}
    assert "compte/deconnexion/" in kinds
    assert "PUT /api/v1/scripts/{script_id}/marking" in kinds
    assert len(CASES) >= 20


@pytest.mark.parametrize(("kind", "key"), CASES)
def test_unsafe_request_without_csrf_token_is_refused(world, kind, key):
    """R-ACC-1: a forged cross-site POST with the victim's session cookie does nothing."""
    api_call = kind == "api"
    endpoint = {"api": API, "page": PAGES, "extra": EXTRA}[kind][key]
    role = _allowed_role(endpoint)
    user = world.user(role)
    client = web_client(user, enforce_csrf=True)
    url = endpoint.url(world, world.own)
    before = _writes()
    refused = _send(client, endpoint, url, api_call=api_call, token=None)
    assert refused.status_code == 403, (role, url, refused.status_code)
    assert _writes() == before
    # The same request with the token goes through: the refusal was the CSRF check.
    token = csrf_token_set(client)
    accepted = _send(client, endpoint, url, api_call=api_call, token=token)
    assert accepted.status_code == endpoint.own[role], (role, url, accepted.status_code)


def test_every_post_form_carries_the_csrf_token(world):
    """R-ACC-1: every `method="post"` form rendered by the app embeds the CSRF token."""
    pages = {
        "coordinator": [
            "/",
            f"/harmonisation/{world.shared_exam.code}/conformite/",
            f"/validation/{world.shared_exam.code}/",
            f"/validation/transmissions/{world.own.validation_id}/",
        ],
        "exam_officer": [f"/validation/{world.shared_exam.code}/lots/"],
        "grader": [f"/copies/lot/{world.own.unlocked_batch.code}/"],
        "school": [f"/validation/etablissement/{world.shared_exam.code}/"],
        "anonymous": ["/compte/connexion/"],
    }
    forms = 0
    for role, urls in pages.items():
        client = web_client(world.user(role))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
                if re.search(r'method="post"', form, flags=re.I):
                    forms += 1
                    assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])
    assert forms >= 8


def test_htmx_sends_the_csrf_header(world):
    """htmx requests (editor, batches, filters) carry the token in a header set by
    harmonie/app.js from the page's csrf-token meta (no inline script: CSP, issue 12.8)."""
    client = web_client(world.user("coordinator"))
    html = client.get(f"/harmonisation/{world.shared_exam.code}/").content.decode()
    assert '<meta name="csrf-token" content="' in html
    assert "/static/harmonie/app.js" in html
    script = (Path(__file__).resolve().parents[2] / "harmonie/static/harmonie/app.js").read_text()
    assert 'event.detail.headers["X-CSRFToken"] = csrfToken()' in script
