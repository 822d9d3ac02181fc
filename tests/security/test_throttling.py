"""Login throttling (R-ACC-1; issue 12, item 5): per username and per (username, address),
never per address alone; the address only from a configured trusted proxy header; no more
tries than allowed under concurrency; Django's admin throttled too (and not routed in
production)."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from harmonie.accounts.models import FailedLogin
from harmonie.accounts.services import (
    LoginRefused,
    LoginThrottled,
    client_address,
    login_check,
)
from tests.factories import PASSWORD, UserFactory
from tests.test_deploy import manage


def _login(client: Client, username: str, password: str, address: str = "10.0.0.1", **extra):
    return client.post(
        "/compte/connexion/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def _token(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_random_usernames_from_one_address_lock_nobody_out(settings):
    """Issue 12.5 (R-ACC-1): 40 failures with random names from the academy's proxy address
    used to lock every user of that address out; now the real users still sign in."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    UserFactory(username="coord.nm")
    UserFactory(username="dec.nm")
    client = Client()
    for index in range(40):
        assert _login(client, f"inconnu{index}", "faux").status_code == 401
    assert _login(client, "coord.nm", PASSWORD).status_code == 302
    assert _token(Client(), "dec.nm", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_per_username_and_address(settings):
    """R-ACC-1: 5 failures from one address lock that name there, not from elsewhere."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS = 20
    UserFactory(username="coord.nm")
    for _ in range(5):
        assert _token(Client(), "coord.nm", "faux", "10.0.0.9").status_code == 401
    refused = _token(Client(), "coord.nm", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert "Trop de tentatives" in refused.json()["error"]["message"]
    assert _login(Client(), "coord.nm", PASSWORD, "10.0.0.9").status_code == 429
    assert _token(Client(), "coord.nm", PASSWORD, "10.0.0.2").status_code == 200


@pytest.mark.django_db
def test_per_username_from_any_address(settings):
    """R-ACC-1: a guess spread over many addresses stops at the per-username limit."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS = 8
    UserFactory(username="coord.nm")
    for index in range(8):
        assert _token(Client(), "coord.nm", "faux", f"10.0.1.{index}").status_code == 401
    assert _token(Client(), "coord.nm", PASSWORD, "10.0.2.1").status_code == 429
    assert FailedLogin.objects.filter(username="coord.nm").count() == 8  # nothing more


@pytest.mark.django_db
def test_forwarded_header_ignored_unless_trusted(settings):
    """Issue 12.5: the address comes from the configured proxy header only."""
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    settings.TRUSTED_PROXY_HEADER = ""
    assert client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    chained = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_address(chained) == "1.2.3.4"  # the address the proxy saw, not the forged
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="x\x00y")
    assert client_address(garbage) == "inconnue"


@pytest.mark.django_db
def test_trusted_header_separates_users_behind_the_proxy(settings):
    """R-ACC-1: behind the proxy, one user's failures do not lock another address."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.TRUSTED_PROXY_HEADER = "X-Real-IP"
    UserFactory(username="coord.nm")
    for _ in range(3):
        _login(Client(), "coord.nm", "faux", "10.9.9.9", HTTP_X_REAL_IP="192.0.2.1")
    assert set(FailedLogin.objects.values_list("address", flat=True)) == {"192.0.2.1"}
    blocked = _login(Client(), "coord.nm", PASSWORD, "10.9.9.9", HTTP_X_REAL_IP="192.0.2.1")
    assert blocked.status_code == 429
    ok = _login(Client(), "coord.nm", PASSWORD, "10.9.9.9", HTTP_X_REAL_IP="192.0.2.2")
    assert ok.status_code == 302


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_concurrent_wrong_attempts_get_no_more_than_the_allowed_tries(settings):
    """Issue 12.5 (R-ACC-1): 40 wrong attempts at once get 5 refusals for the password and
    35 throttled answers, exactly: the check and the count happen under one lock."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrou consultatif, vraie concurrence)")
    settings.LOGIN_THROTTLE_ATTEMPTS = 5
    UserFactory(username="coord.nm")
    outcomes: Counter = Counter()
    barrier = threading.Barrier(40)
    lock = threading.Lock()

    def attempt() -> None:
        request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
        barrier.wait()
        try:
            login_check(request=request, username="coord.nm", password="faux")
        except LoginRefused:
            result = "refused"
        except LoginThrottled:
            result = "throttled"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter({"refused": 5, "throttled": 35})
    assert FailedLogin.objects.filter(username="coord.nm").count() == 5


@pytest.mark.django_db
def test_admin_login_is_throttled(settings):
    """Issue 12.5: /admin/ was not throttled; its login now counts like the login page."""
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    UserFactory(username="admin.nm", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(3):
        response = client.post(
            "/admin/login/", {"username": "admin.nm", "password": "faux"}, REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 200
    assert FailedLogin.objects.filter(username="admin.nm").count() == 3
    response = client.post(
        "/admin/login/", {"username": "admin.nm", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert "Trop de tentatives" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_is_not_routed_in_production(tmp_path):
    """Issue 12.5: production leaves Django's admin out (decisions.md, « Hardening »)."""
    result = manage(
        "shell",
        "-c",
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/admin/login/'); print('ROUTED')\n"
        "except Resolver404:\n    print('ABSENT')",
        env={
            "HARMONIE_PRODUCTION": "1",
            "HARMONIE_SECRET_KEY": "k" * 20 + "x9Q!z" * 10,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "ABSENT" in result.stdout
