"""Sign-in through the identity provider against a REAL OpenID provider (oidc-provider,
started by tests/oidc/provider.py), driven with Django's test client and `requests` for
the provider's pages. Who may enter (R-ACC-1): only an existing, active Harmonie user,
matched on the configured claim; role, academy and missions stay Harmonie's; every
sign-in and refusal is journalled. The browser suite (tests/browser/test_oidc_login.py)
does the same with Chromium."""

from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import BACKEND_SESSION_KEY
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from harmonie.accounts.models import ApiToken, Role, User
from harmonie.accounts.oidc import OidcBackend, oidc_setting, provider_metadata_forget
from harmonie.audit.models import AuditEntry
from tests.factories import PASSWORD, UserFactory
from tests.oidc.provider import (
    ACCOUNTS,
    CLIENT_ID,
    TEST_CLIENT,
    harmonie_configure,
    provider_running,
    provider_sign_in,
)

pytestmark = pytest.mark.django_db

COORDINATOR = ACCOUNTS["sabrina.antonioli"]
UNKNOWN = ACCOUNTS["paul.inconnu"]
DEACTIVATED = ACCOUNTS["claire.partie"]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with provider_running(
        harmonie_urls=[TEST_CLIENT], log_dir=tmp_path_factory.mktemp("oidc")
    ) as running:
        yield running


@pytest.fixture
def oidc(settings, provider):
    harmonie_configure(settings, provider)
    yield provider
    provider_metadata_forget()


@pytest.fixture
def coordinator(academy_world):
    user = academy_world["coordinator"]
    # The session file gives the e-mail in lower case; the provider answers with capitals.
    user.email = COORDINATOR["email"].lower()
    user.save()
    return user


def sign_in(client: Client, login: str) -> object:
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    callback = provider_sign_in(start["Location"], login=login)
    assert callback.startswith(f"{TEST_CLIENT}/oidc/callback/?")
    return client.get(callback.removeprefix(TEST_CLIENT))


def test_authorisation_request_uses_pkce_state_and_nonce(client, oidc):
    """The code flow's request carries an S256 PKCE challenge, a state and a nonce."""
    response = client.get("/oidc/authenticate/")
    location = urlparse(response["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
    )
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0] in client.session["oidc_states"]
    assert query["nonce"][0] == client.session["oidc_states"][query["state"][0]]["nonce"]
    assert query["redirect_uri"] == [f"{TEST_CLIENT}/oidc/callback/"]


def test_provider_refuses_a_request_without_pkce(oidc):
    """The provider of the tests requires PKCE, as Harmonie registers itself."""
    response = requests.get(
        oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT"),
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid email",
            "redirect_uri": f"{TEST_CLIENT}/oidc/callback/",
            "state": "s",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code in (302, 303)
    error = parse_qs(urlparse(response.headers["Location"]).query)
    assert error["error"] == ["invalid_request"]
    assert "PKCE" in error["error_description"][0]


def test_coordinator_signs_in_and_keeps_harmonie_role_and_academy(client, oidc, coordinator):
    """R-ACC-1: matched on the e-mail (any case); the role and academy stay Harmonie's."""
    response = sign_in(client, "sabrina.antonioli")
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Académie Nancy-Metz" in home.content.decode()
    assert client.session[BACKEND_SESSION_KEY] == "harmonie.accounts.oidc.OidcBackend"
    coordinator.refresh_from_db()
    assert (coordinator.role, coordinator.academy.code) == (
        Role.ACADEMIC_COORDINATOR,
        "NANCY-METZ",
    )
    assert coordinator.username == "coord.nm"
    entry = AuditEntry.objects.get(action="auth.oidc_login")
    assert (entry.actor, entry.academy, entry.target_id) == (
        coordinator,
        coordinator.academy,
        "coord.nm",
    )
    assert "token" not in str(entry.after).lower()


def test_unknown_identity_is_refused_and_nobody_is_created(client, oidc, coordinator):
    """R-ACC-1: nobody is created on the fly; a French page says whom to contact."""
    users = User.objects.count()
    response = sign_in(client, "paul.inconnu")
    assert response.status_code == 403
    page = response.content.decode()
    assert "n&#x27;est pas connue d&#x27;Harmonie" in page
    assert "division des examens et concours (DEC)" in page
    assert UNKNOWN["email"] in page
    assert User.objects.count() == users
    assert client.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="auth.oidc_refused")
    assert entry.actor is None
    assert entry.after["reason"] == "unknown"
    assert entry.target_id == UNKNOWN["email"]


def test_deactivated_user_is_refused(client, oidc, coordinator, settings):
    settings.OIDC_CONTACT = "le bureau DEC 3 (dec3@ac-nancy-metz.fr)"
    UserFactory(username="claire.partie", email=DEACTIVATED["email"], is_active=False)
    response = sign_in(client, "claire.partie")
    assert response.status_code == 403
    page = response.content.decode()
    assert "est désactivé" in page
    assert "le bureau DEC 3 (dec3@ac-nancy-metz.fr)" in page
    assert client.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="auth.oidc_refused")
    assert entry.after["reason"] == "inactive"
    assert entry.target_id == "claire.partie"


def test_match_on_uid_claim_against_username(client, oidc, settings, academy_world):
    """HARMONIE_OIDC_USER_CLAIM=uid, HARMONIE_OIDC_USER_FIELD=username."""
    settings.OIDC_USER_CLAIM = "uid"
    settings.OIDC_USER_FIELD = "username"
    UserFactory(username=COORDINATOR["uid"], coordinator=True, academy=academy_world["academy"])
    response = sign_in(client, "sabrina.antonioli")
    assert response.status_code == 302
    assert client.get("/").context["user"].username == COORDINATOR["uid"]


def test_two_users_with_the_identity_are_refused(client, oidc, coordinator):
    UserFactory(username="autre", email=COORDINATOR["email"].upper())
    response = sign_in(client, "sabrina.antonioli")
    assert response.status_code == 403
    assert "Plusieurs comptes Harmonie" in response.content.decode()
    assert AuditEntry.objects.get(action="auth.oidc_refused").after["reason"] == "ambiguous"


def test_missing_claim_is_refused(client, oidc, settings, coordinator):
    settings.OIDC_USER_CLAIM = "siret"  # not released by this provider
    response = sign_in(client, "sabrina.antonioli")
    assert response.status_code == 403
    assert "(siret)" in response.content.decode()


def test_tampered_or_replayed_state_is_refused(client, oidc, coordinator):
    start = client.get("/oidc/authenticate/")
    callback = provider_sign_in(start["Location"], login="sabrina.antonioli")
    query = parse_qs(urlparse(callback).query)
    forged = client.get("/oidc/callback/", {"code": query["code"][0], "state": "forgé"})
    assert forged.status_code == 400
    assert "Ce retour de connexion n&#x27;est pas valide" in forged.content.decode()
    assert client.get("/").status_code == 302
    # The genuine answer still works once, then is refused as a replay.
    assert client.get(callback.removeprefix(TEST_CLIENT)).status_code == 302
    client.logout()
    assert client.get(callback.removeprefix(TEST_CLIENT)).status_code == 400
    reasons = list(
        AuditEntry.objects.filter(action="auth.oidc_refused").values_list(
            "after__reason", flat=True
        )
    )
    assert reasons == ["bad_state", "bad_state"]


def test_aborted_at_the_provider_is_refused_in_french(client, oidc):
    start = client.get("/oidc/authenticate/")
    browser = requests.Session()
    form = browser.get(start["Location"], timeout=10)
    abort = browser.get(form.url + "/abort", allow_redirects=False, timeout=10)
    while "/oidc/callback/" not in abort.headers["Location"]:
        abort = browser.get(abort.headers["Location"], allow_redirects=False, timeout=10)
    response = client.get(abort.headers["Location"].removeprefix(TEST_CLIENT))
    assert response.status_code == 403
    assert "Le fournisseur d&#x27;identité a refusé la connexion" in response.content.decode()
    entry = AuditEntry.objects.get(action="auth.oidc_refused")
    assert (entry.after["reason"], entry.after["detail"]) == ("provider_error", "access_denied")


def test_id_token_not_signed_by_the_provider_is_refused(oidc, settings):
    """The ID token's signature is checked against the provider's JWKS."""
    published = requests.get(oidc_setting("OIDC_OP_JWKS_ENDPOINT"), timeout=10).json()
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": oidc_setting("OIDC_OP_ISSUER"), "aud": CLIENT_ID, "sub": "x", "exp": 2**31},
        own_key,
        algorithm="RS256",
        headers={"kid": published["keys"][0]["kid"]},
    )
    backend = OidcBackend()
    backend._configure()
    with pytest.raises(SuspiciousOperation, match="verification failed"):
        backend.verify_token(forged, nonce=None)


def test_expired_id_token_is_refused(client, settings, tmp_path, coordinator):
    """The provider's clock runs late: its ID token has expired when it arrives."""
    with provider_running(
        harmonie_urls=[TEST_CLIENT], log_dir=tmp_path, id_token_ttl=60, clock_skew=120
    ) as late:
        harmonie_configure(settings, late)
        response = sign_in(client, "sabrina.antonioli")
        provider_metadata_forget()
    assert response.status_code == 403
    assert "Le jeton d&#x27;identité reçu du fournisseur a expiré" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.get(action="auth.oidc_refused").after["reason"] == "token_expired"


def test_session_ends_after_its_ttl(client, oidc, settings, coordinator):
    """HARMONIE_OIDC_SESSION_TTL: then the user is asked to sign in again."""
    settings.OIDC_SESSION_TTL_SECONDS = 0
    sign_in(client, "sabrina.antonioli")
    response = client.get("/statistiques/FRA-ECRIT/")
    assert response.status_code == 302
    assert response["Location"] == "/compte/connexion/?next=%2Fstatistiques%2FFRA-ECRIT%2F"
    login = client.get(response["Location"])
    assert "Votre session a expiré : reconnectez-vous." in login.content.decode()
    assert AuditEntry.objects.filter(action="auth.oidc_session_expired").count() == 1


def test_logout_goes_to_the_provider(client, oidc, coordinator):
    sign_in(client, "sabrina.antonioli")
    id_token = client.session["oidc_id_token"]
    response = client.post("/compte/deconnexion/")
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == oidc_setting(
        "OIDC_OP_END_SESSION_ENDPOINT"
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == [f"{TEST_CLIENT}/compte/connexion/"]
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="auth.oidc_logout", actor=coordinator).exists()


def test_local_logout_stays_local(client, oidc, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    assert client.post("/compte/deconnexion/")["Location"] == "/compte/connexion/"


def test_provider_down_is_a_french_page(client, settings):
    provider_metadata_forget()
    settings.OIDC_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_TIMEOUT = 2
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "Le fournisseur d&#x27;identité ne répond pas" in response.content.decode()
    provider_metadata_forget()


def test_without_oidc_configuration_no_button_and_no_oidc_urls(client):
    page = client.get("/compte/connexion/").content.decode()
    assert "ProConnect" not in page
    assert 'id="id_username"' in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_login_page_offers_proconnect_when_configured(client, oidc):
    page = client.get("/compte/connexion/?next=/journal/").content.decode()
    assert 'class="fr-connect fr-connect--proconnect"' in page
    assert 'href="/oidc/authenticate/?next=/journal/"' in page
    assert "S’identifier avec" in page


def test_next_is_kept_through_the_provider(client, oidc, coordinator):
    start = client.get("/oidc/authenticate/", {"next": "/statistiques/FRA-ECRIT/"})
    callback = provider_sign_in(start["Location"], login="sabrina.antonioli")
    response = client.get(callback.removeprefix(TEST_CLIENT))
    assert response["Location"] == "/statistiques/FRA-ECRIT/"


# Local login switched off (HARMONIE_LOCAL_LOGIN=0).


def test_local_login_off_refuses_the_form(client, settings, coordinator):
    settings.LOCAL_LOGIN = False
    response = client.post(
        "/compte/connexion/", {"username": coordinator.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "La connexion par identifiant et mot de passe est désactivée" in (
        response.content.decode()
    )
    assert client.get("/").status_code == 302
    assert 'id="id_username"' not in client.get("/compte/connexion/").content.decode()


def test_local_login_off_refuses_api_token_by_password(client, settings, coordinator):
    settings.LOCAL_LOGIN = False
    response = client.post(
        "/api/v1/auth/token",
        {"username": coordinator.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "local_login_disabled"
    assert "Jetons d'API" in error["message"]
    assert not ApiToken.objects.exists()


def test_local_login_on_keeps_the_form_beside_the_button(client, oidc):
    page = client.get("/compte/connexion/").content.decode()
    assert 'id="id_username"' in page
    assert "fr-connect" in page


def test_api_token_after_oidc_sign_in_shown_once(client, oidc, settings, coordinator):
    """With local login off, a token comes from « Jetons d'API » after an OIDC sign-in."""
    settings.LOCAL_LOGIN = False
    sign_in(client, "sabrina.antonioli")
    page = client.get("/compte/jetons/")
    assert page.status_code == 200
    assert page.context["token"] is None
    created = client.post("/compte/jetons/")
    token = created.context["token"]
    assert token
    assert token in created.content.decode()
    assert created["Cache-Control"] == "no-store"
    assert ApiToken.objects.get(user=coordinator).key_hash == ApiToken.hash_key(token)
    assert token not in client.get("/compte/jetons/").content.decode()
    exams = Client().get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"})
    assert exams.status_code == 200
    assert [exam["code"] for exam in exams.json()] == ["FRA-ECRIT"]


# The backend's matching rules, without a provider.


@pytest.mark.parametrize(
    ("claim", "field", "claims", "expected"),
    [
        ("email", "email", {"email": " S.Antonioli@AC-Nancy-Metz.fr "}, ["coord.nm"]),
        ("email", "email", {"email": ""}, []),
        ("email", "email", {}, []),
        ("email", "email", {"email": 42}, []),
        ("uid", "username", {"uid": "coord.nm"}, ["coord.nm"]),
        ("uid", "username", {"uid": "COORD.NM"}, []),
        ("uid", "username", {"email": "s.antonioli@ac-nancy-metz.fr"}, []),
    ],
)
def test_matching_rules(settings, claim, field, claims, expected):
    """R-ACC-1: one configured claim against one Harmonie field; e-mails ignore case,
    usernames do not; no claim, no user (never the user with an empty e-mail)."""
    settings.OIDC_USER_CLAIM = claim
    settings.OIDC_USER_FIELD = field
    UserFactory(username="coord.nm", email="s.antonioli@ac-nancy-metz.fr")
    UserFactory(username="sans.adresse", email="")
    found = OidcBackend().filter_users_by_claims(claims)
    assert [user.username for user in found] == expected


def test_local_password_never_reaches_the_oidc_backend(rf, settings):
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    UserFactory(username="coord.nm")
    request = rf.get("/oidc/callback/", {"code": "c", "state": "s"})
    assert OidcBackend().authenticate(request, username="coord.nm", password=PASSWORD) is None


def test_real_id_token_for_another_client_or_issuer_is_refused(client, oidc, settings, coordinator):
    """The ID token's audience and issuer are checked (mozilla-django-oidc skips them)."""
    sign_in(client, "sabrina.antonioli")
    id_token = client.session["oidc_id_token"]
    nonce = jwt.decode(id_token, options={"verify_signature": False})["nonce"]
    backend = OidcBackend()
    backend._configure()
    assert backend.verify_token(id_token, nonce=nonce)["sub"] == COORDINATOR["sub"]
    backend.OIDC_RP_CLIENT_ID = "un-autre-service"
    with pytest.raises(SuspiciousOperation, match="audience"):
        backend.verify_token(id_token, nonce=nonce)
    backend.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_OP_ISSUER = "https://un-autre-fournisseur.example"
    with pytest.raises(SuspiciousOperation, match="émetteur"):
        backend.verify_token(id_token, nonce=nonce)
    with pytest.raises(SuspiciousOperation, match="Nonce"):
        backend.verify_token(id_token, nonce="autre")
