"""Login page, API tokens and throttling (R-ACC-1)."""

import pytest
from django.test import Client

from harmonie.accounts.models import FailedLogin
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_then_dashboard(client):
    UserFactory(username="coord.nm")
    response = client.post("/compte/connexion/", {"username": "coord.nm", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_french_message_nothing_logged_in(client):
    UserFactory(username="coord.nm")
    response = client.post("/compte/connexion/", {"username": "coord.nm", "password": "non"})
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()
    assert client.get("/").status_code == 302


def test_login_is_throttled_after_repeated_failures(client, settings):
    """R-ACC-1: login attempts are throttled."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    UserFactory(username="coord.nm")
    for _ in range(3):
        client.post("/compte/connexion/", {"username": "coord.nm", "password": "non"})
    response = client.post("/compte/connexion/", {"username": "coord.nm", "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_success_clears_failures(client):
    UserFactory(username="coord.nm")
    client.post("/compte/connexion/", {"username": "coord.nm", "password": "non"})
    client.post("/compte/connexion/", {"username": "coord.nm", "password": PASSWORD})
    assert not FailedLogin.objects.filter(username="coord.nm").exists()


def test_login_form_is_csrf_protected():
    UserFactory(username="coord.nm")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/compte/connexion/", {"username": "coord.nm", "password": PASSWORD})
    assert response.status_code == 403


def test_open_redirect_is_refused(client):
    UserFactory(username="coord.nm")
    response = client.post(
        "/compte/connexion/?next=https://example.org/",
        {"username": "coord.nm", "password": PASSWORD},
    )
    assert response["Location"] == "/"


def test_api_token_and_bearer(client):
    UserFactory(username="coord.nm")
    response = client.post(
        "/api/v1/auth/token",
        {"username": "coord.nm", "password": PASSWORD},
        content_type="application/json",
    )
    token = response.json()["token"]
    exams = client.get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"})
    assert exams.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "coord.nm", "password": "non"}, 401, "bad_credentials"),
        ({"username": "coord.nm"}, 400, "invalid"),
        ("pas du json", 400, "invalid"),
    ],
)
def test_api_token_bad_input(client, body, status, code):
    UserFactory(username="coord.nm")
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_api_without_token_is_401_in_api_format(client):
    response = client.get("/api/v1/exams")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Authentification requise."


def test_bad_token_is_401(client):
    response = client.get("/api/v1/exams", headers={"Authorization": "Bearer faux"})
    assert response.status_code == 401
