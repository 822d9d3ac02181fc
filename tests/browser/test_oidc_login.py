"""Browser: staff sign in through a REAL OpenID provider (oidc-provider, started on a free
loopback port by tests/oidc/provider.py) with Debian's Chromium. R-ACC-1: only an
existing, active Harmonie user enters, with Harmonie's role and academy; refusals are
French pages; logout ends the provider's session too."""

from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from harmonie.accounts.models import ApiToken
from harmonie.audit.models import AuditEntry
from tests.factories import UserFactory
from tests.oidc.provider import ACCOUNTS, PASSWORD, harmonie_configure, provider_running

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COORDINATOR = ACCOUNTS["sabrina.antonioli"]


@pytest.fixture(scope="module")
def oidc_provider(live_server, tmp_path_factory):
    with provider_running(
        harmonie_urls=[live_server.url], log_dir=tmp_path_factory.mktemp("oidc")
    ) as provider:
        yield provider


@pytest.fixture
def oidc(settings, oidc_provider):
    harmonie_configure(settings, oidc_provider)
    return oidc_provider


@pytest.fixture
def coordinator(academy_world):
    user = academy_world["coordinator"]
    user.email = COORDINATOR["email"].lower()
    user.save()
    return user


def at_provider(page, provider, login: str) -> None:
    """Fill the provider's own login form."""
    page.wait_for_url(f"{provider.url}/interaction/**")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#provider-submit")


def start(page) -> None:
    page.goto("/compte/connexion/")
    page.click("a.fr-connect")


def test_coordinator_signs_in_through_the_provider(page, oidc, coordinator, live_server, tmp_path):
    """Done when: a coordinator lands on the dashboard of his academy."""
    start(page)
    at_provider(page, oidc, "sabrina.antonioli")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Tableau de bord"
    assert "Académie Nancy-Metz" in page.locator("main").inner_text()
    assert coordinator.get_full_name() in page.get_by_test_id("current-user").inner_text()
    assert "Statistiques" in page.get_by_test_id("exam-FRA-ECRIT").inner_text()
    page.screenshot(path=str(tmp_path / "oidc-dashboard.png"), full_page=True)
    assert AuditEntry.objects.filter(action="auth.oidc_login", actor=coordinator).count() == 1


def test_login_page_shows_the_proconnect_button(page, oidc, tmp_path):
    page.goto("/compte/connexion/")
    button = page.locator("a.fr-connect.fr-connect--proconnect")
    assert button.inner_text().split() == ["S’identifier", "avec", "ProConnect"]
    assert page.get_by_role("link", name="Qu’est-ce que ProConnect ?").is_visible()
    assert page.locator("#id_username").is_visible()  # local accounts on by default
    page.screenshot(path=str(tmp_path / "oidc-login.png"), full_page=True)


def test_unknown_identity_gets_a_french_refusal(page, oidc, coordinator):
    start(page)
    at_provider(page, oidc, "paul.inconnu")
    refusal = page.get_by_test_id("oidc-refused")
    assert page.locator("h1").inner_text() == "Connexion refusée"
    text = refusal.inner_text()
    assert "n'est pas connue d'Harmonie" in text
    assert "la division des examens et concours (DEC) de votre académie" in text
    page.goto("/")
    assert "/compte/connexion/" in page.url
    assert AuditEntry.objects.get(action="auth.oidc_refused").after["reason"] == "unknown"


def test_deactivated_user_gets_a_french_refusal(page, oidc, coordinator):
    UserFactory(username="claire.partie", email=ACCOUNTS["claire.partie"]["email"], is_active=False)
    start(page)
    at_provider(page, oidc, "claire.partie")
    text = page.get_by_test_id("oidc-refused").inner_text()
    assert "Votre compte Harmonie (claire.partie@ac-nancy-metz.fr) est désactivé" in text
    assert AuditEntry.objects.get(action="auth.oidc_refused").after["reason"] == "inactive"


def test_tampered_or_replayed_callback_is_refused(page, oidc, coordinator, live_server):
    """The provider's answer, replayed from another browser session with its state
    changed, then as it was: both refused with a French page, nobody signed in."""
    callbacks: list[str] = []
    page.on(
        "request",
        lambda request: callbacks.append(request.url) if "/oidc/callback/" in request.url else None,
    )
    start(page)
    at_provider(page, oidc, "sabrina.antonioli")
    page.wait_for_url(f"{live_server.url}/")
    page.context.clear_cookies()
    genuine = urlparse(callbacks[0])
    query = {key: values[0] for key, values in parse_qs(genuine.query).items()}
    tampered = {**query, "state": query["state"][::-1]}
    for url in (f"/oidc/callback/?{urlencode(tampered)}", callbacks[0]):
        response = page.goto(url)
        assert response.status == 400
        assert "Ce retour de connexion n'est pas valide" in (
            page.get_by_test_id("oidc-refused").inner_text()
        )
    page.goto("/")
    assert "/compte/connexion/" in page.url
    reasons = AuditEntry.objects.filter(action="auth.oidc_refused").values_list(
        "after__reason", flat=True
    )
    assert list(reasons) == ["bad_state", "bad_state"]


def test_expired_id_token_is_refused(page, settings, coordinator, live_server, tmp_path):
    """The provider's clock runs two minutes late and its ID tokens last one."""
    with provider_running(
        harmonie_urls=[live_server.url], log_dir=tmp_path, id_token_ttl=60, clock_skew=120
    ) as late:
        harmonie_configure(settings, late)
        start(page)
        at_provider(page, late, "sabrina.antonioli")
        text = page.get_by_test_id("oidc-refused").inner_text()
    assert "Le jeton d'identité reçu du fournisseur a expiré" in text
    page.goto("/")
    assert "/compte/connexion/" in page.url


def test_expired_session_asks_to_sign_in_again(page, oidc, settings, coordinator, live_server):
    settings.OIDC_SESSION_TTL_SECONDS = 2
    start(page)
    at_provider(page, oidc, "sabrina.antonioli")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_timeout(2500)
    page.goto("/")
    assert "/compte/connexion/" in page.url
    assert "Votre session a expiré : reconnectez-vous." in page.locator("body").inner_text()
    # The provider's own session still runs: signing in again is one click.
    page.click("a.fr-connect")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Tableau de bord"


def test_logout_ends_the_provider_session_too(page, oidc, coordinator, live_server):
    start(page)
    at_provider(page, oidc, "sabrina.antonioli")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{oidc.url}/session/end**")
    page.get_by_role("button", name="Oui, me déconnecter").click()
    page.wait_for_url(f"{live_server.url}/compte/connexion/**")
    assert page.locator("h1").inner_text() == "Connexion à Harmonie"
    page.goto("/")
    assert "/compte/connexion/" in page.url
    # Signed out at the provider: it asks for the password again.
    page.click("a.fr-connect")
    page.wait_for_url(f"{oidc.url}/interaction/**")
    assert page.locator("#login").is_visible()
    assert AuditEntry.objects.filter(action="auth.oidc_logout", actor=coordinator).exists()


def test_local_login_off_then_api_token_from_the_page(
    page, oidc, settings, coordinator, live_server
):
    """HARMONIE_LOCAL_LOGIN=0: no form; a token from « Jetons d'API » after the sign-in."""
    settings.LOCAL_LOGIN = False
    page.goto("/compte/connexion/")
    assert page.locator("#id_username").count() == 0
    page.click("a.fr-connect")
    at_provider(page, oidc, "sabrina.antonioli")
    page.wait_for_url(f"{live_server.url}/")
    page.goto("/compte/jetons/")
    page.get_by_test_id("token-create").click()
    token = page.get_by_test_id("api-token").inner_text()
    assert ApiToken.objects.filter(user=coordinator).count() == 1
    exams = requests.get(
        f"{live_server.url}/api/v1/exams",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert exams.status_code == 200
    assert [exam["code"] for exam in exams.json()] == ["FRA-ECRIT"]
    page.goto("/compte/jetons/")
    assert page.get_by_test_id("api-token").count() == 0  # shown once
