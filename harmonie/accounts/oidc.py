"""Sign-in through the academy's OpenID Connect provider (ProConnect or its own).

mozilla-django-oidc runs the authorisation code flow (PKCE, state, nonce, ID token
signature against the provider's JWKS); this module adds what Harmonie needs on top:
endpoints from the provider's discovery document (fetched once, lazily), checks of the
ID token's issuer and audience, and the rule of who may enter: only a user who already
exists in Harmonie (imported from the session file), matched on one configured claim,
and active. Nobody is created; role, academy and missions stay Harmonie's. Every
sign-in and refusal goes to the journal (never a token).
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import HttpRequest
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from harmonie.accounts.models import User
from harmonie.accounts.signals import sign_in_event

LOGGER = logging.getLogger(__name__)

# The session keys Harmonie adds to mozilla-django-oidc's own.
SESSION_ENDS_AT = "harmonie_oidc_session_ends_at"
ID_TOKEN = "oidc_id_token"  # noqa: S105 (a session key, not a secret)

# Harmonie setting → key of the provider's discovery document.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
    "OIDC_OP_ISSUER": "issuer",
}

_discovery_lock = threading.Lock()
_discovered: dict[str, dict[str, Any]] = {}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read."""


@dataclass
class OidcRefusal(Exception):
    """A refused sign-in: `reason` picks the French message, `identity` the claim's value."""

    reason: str
    identity: str = ""
    user: User | None = None
    detail: str = ""

    def __str__(self) -> str:
        return self.reason


def oidc_enabled() -> bool:
    """OIDC is offered once a client id and the provider (discovery or endpoint) are set."""
    return bool(
        settings.OIDC_RP_CLIENT_ID
        and (settings.OIDC_DISCOVERY_URL or settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    )


def provider_metadata() -> dict[str, Any]:
    """The provider's `.well-known/openid-configuration`, fetched once per process."""
    url = settings.OIDC_DISCOVERY_URL
    if not url:
        return {}
    with _discovery_lock:
        found = _discovered.get(url)
        if found is None:
            try:
                response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
                response.raise_for_status()
                found = response.json()
            except (requests.RequestException, ValueError) as error:
                raise ProviderUnavailable(f"{url}: {error}") from error
            if not isinstance(found, dict) or not found.get("authorization_endpoint"):
                raise ProviderUnavailable(f"{url}: pas de authorization_endpoint")
            _discovered[url] = found
    return found


def provider_metadata_forget() -> None:
    """Forget fetched discovery documents (tests start a provider per test)."""
    with _discovery_lock:
        _discovered.clear()


def oidc_setting(name: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, endpoints completed from the discovery document."""
    if name in DISCOVERED:
        return getattr(settings, name, "") or provider_metadata().get(DISCOVERED[name], "")
    return import_from_settings(name, *default)


def _identity(claims: dict[str, Any]) -> str:
    value = claims.get(settings.OIDC_USER_CLAIM)
    return value.strip() if isinstance(value, str) else ""


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in an existing, active Harmonie user matched on HARMONIE_OIDC_USER_CLAIM."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for every authenticate() call, local logins
        # included: endpoints are resolved only when an OIDC callback arrives.
        self.UserModel = get_user_model()

    def _configure(self) -> None:
        self.OIDC_OP_TOKEN_ENDPOINT = oidc_setting("OIDC_OP_TOKEN_ENDPOINT")
        self.OIDC_OP_USER_ENDPOINT = oidc_setting("OIDC_OP_USER_ENDPOINT")
        self.OIDC_OP_JWKS_ENDPOINT = oidc_setting("OIDC_OP_JWKS_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        if not (self.OIDC_OP_TOKEN_ENDPOINT and self.OIDC_OP_USER_ENDPOINT):
            raise ImproperlyConfigured("OIDC : point d'accès token ou userinfo manquant.")
        if not self.OIDC_OP_JWKS_ENDPOINT:
            raise ImproperlyConfigured("OIDC : jwks_uri manquant, signature invérifiable.")

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback passes a nonce: a username/password login never reaches here.
        if request is None or "nonce" not in kwargs or not oidc_enabled():
            return None
        try:
            self._configure()
            return super().authenticate(request, **kwargs)
        except OidcRefusal as refusal:
            request.oidc_refusal = refusal
        except jwt.ExpiredSignatureError:
            request.oidc_refusal = OidcRefusal("token_expired")
        except (jwt.InvalidTokenError, SuspiciousOperation) as error:
            LOGGER.warning("jeton d'identité refusé : %s", error)
            request.oidc_refusal = OidcRefusal("token_invalid", detail=type(error).__name__)
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else "?"
            request.oidc_refusal = OidcRefusal("provider_error", detail=f"http_{status}")
        except (requests.RequestException, ProviderUnavailable, ImproperlyConfigured) as error:
            LOGGER.warning("fournisseur d'identité injoignable : %s", error)
            request.oidc_refusal = OidcRefusal("provider_unavailable")
        return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)
        id_token = "nonce" in kwargs
        # mozilla-django-oidc leaves the audience and issuer unchecked.
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience or []
        if (id_token or audience is not None) and self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("audience du jeton inattendue")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("azp du jeton inattendu")
        issuer = oidc_setting("OIDC_OP_ISSUER")
        if issuer and (id_token or "iss" in payload) and payload.get("iss") != issuer:
            raise SuspiciousOperation("émetteur du jeton inattendu")
        if id_token and not ("exp" in payload and "sub" in payload):
            raise SuspiciousOperation("jeton d'identité sans exp ou sub")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        user_info = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(user_info, dict) or user_info.get("sub") != payload.get("sub"):
            # Raised as a refusal: mozilla-django-oidc would swallow a SuspiciousOperation.
            raise OidcRefusal("token_invalid", detail="userinfo_sub")
        # A claim the provider puts only in the ID token still counts.
        return {**payload, **user_info}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(_identity(claims))

    def filter_users_by_claims(self, claims: dict[str, Any]):
        value = _identity(claims)
        if not value:
            return self.UserModel.objects.none()
        if settings.OIDC_USER_FIELD == "email":
            return self.UserModel.objects.filter(email__iexact=value)
        return self.UserModel.objects.filter(username=value)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        identity = _identity(claims)
        if not identity:
            raise OidcRefusal("missing_claim")
        users = list(self.filter_users_by_claims(claims).select_related("academy")[:2])
        if not users:
            raise OidcRefusal("unknown", identity=identity)
        if len(users) > 1:
            raise OidcRefusal("ambiguous", identity=identity)
        user = users[0]
        if not user.is_active:
            raise OidcRefusal("inactive", identity=identity, user=user)
        # Never created, never updated from the provider: role, academy and missions
        # come from the session file (docs/decisions.md, "Sign-in").
        return user

    def get_user(self, user_id: int) -> User | None:
        return self.UserModel.objects.filter(pk=user_id, is_active=True).first()


# Refusal reason → (HTTP status, French message). `{contact}` and `{identity}` are filled.
REFUSALS: dict[str, tuple[int, str]] = {
    "unknown": (
        403,
        "Votre identité ({identity}) n'est pas connue d'Harmonie : seules les personnes "
        "déclarées pour la session d'examen peuvent se connecter. Adressez-vous à {contact}.",
    ),
    "inactive": (
        403,
        "Votre compte Harmonie ({identity}) est désactivé. Adressez-vous à {contact}.",
    ),
    "ambiguous": (
        403,
        "Plusieurs comptes Harmonie correspondent à votre identité ({identity}) : la "
        "connexion est refusée. Adressez-vous à {contact}.",
    ),
    "missing_claim": (
        403,
        "Le fournisseur d'identité n'a pas transmis l'information qui vous identifie "
        "dans Harmonie ({claim}). Adressez-vous à {contact}.",
    ),
    "bad_state": (
        400,
        "Ce retour de connexion n'est pas valide : il a déjà servi, il a expiré ou il "
        "ne provient pas de ce navigateur. Recommencez la connexion.",
    ),
    "token_expired": (
        403,
        "Le jeton d'identité reçu du fournisseur a expiré. Recommencez la connexion ; "
        "si le problème persiste, adressez-vous à {contact}.",
    ),
    "token_invalid": (
        403,
        "Le jeton d'identité reçu du fournisseur est invalide (signature, émetteur ou "
        "destinataire). Recommencez la connexion ; si le problème persiste, adressez-vous "
        "à {contact}.",
    ),
    "provider_error": (
        403,
        "Le fournisseur d'identité a refusé la connexion. Recommencez ; si le problème "
        "persiste, adressez-vous à {contact}.",
    ),
    "provider_unavailable": (
        503,
        "Le fournisseur d'identité ne répond pas. Réessayez dans quelques minutes ; si le "
        "problème persiste, adressez-vous à {contact}.",
    ),
}


def oidc_refusal_message(*, refusal: OidcRefusal) -> tuple[int, str]:
    status, template = REFUSALS.get(refusal.reason, REFUSALS["provider_error"])
    return status, template.format(
        contact=settings.OIDC_CONTACT,
        identity=refusal.identity or "?",
        claim=settings.OIDC_USER_CLAIM,
    )


def oidc_refusal_record(*, refusal: OidcRefusal) -> None:
    """Journal a refused sign-in: the reason and the claimed identity, never a token."""
    user = refusal.user
    sign_in_event.send(
        sender=OidcRefusal,
        user=user,
        action="auth.oidc_refused",
        target_type="user" if user else "identity",
        target_id=(user.username if user else refusal.identity or "-")[:64],
        after={
            "reason": refusal.reason,
            "claim": settings.OIDC_USER_CLAIM,
            "identity": refusal.identity,
            "provider": settings.OIDC_PROVIDER_NAME,
            "detail": refusal.detail[:64],
        },
    )


def oidc_login_record(*, request: HttpRequest, user: User) -> None:
    """Journal a sign-in and start the Harmonie session's own clock."""
    request.session[SESSION_ENDS_AT] = time.time() + settings.OIDC_SESSION_TTL_SECONDS
    sign_in_event.send(
        sender=User,
        user=user,
        action="auth.oidc_login",
        target_type="user",
        target_id=user.username,
        after={"claim": settings.OIDC_USER_CLAIM, "provider": settings.OIDC_PROVIDER_NAME},
    )


def oidc_session_expired(*, request: HttpRequest) -> bool:
    ends_at = request.session.get(SESSION_ENDS_AT)
    return ends_at is not None and time.time() > ends_at


def oidc_logout_url(*, request: HttpRequest) -> str | None:
    """The provider's end-session URL for this session's sign-in, or None (local login,
    no end_session_endpoint, provider unreachable: Harmonie's own logout still happens)."""
    id_token = request.session.get(ID_TOKEN)
    if not id_token or not oidc_enabled():
        return None
    try:
        endpoint = oidc_setting("OIDC_OP_END_SESSION_ENDPOINT")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    params = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("accounts:login")),
        "state": secrets.token_urlsafe(16),
    }
    return f"{endpoint}?{urlencode(params)}"


def oidc_logout_record(*, user: User) -> None:
    sign_in_event.send(
        sender=User,
        user=user,
        action="auth.oidc_logout",
        target_type="user",
        target_id=user.username,
        after={"provider": settings.OIDC_PROVIDER_NAME},
    )


def oidc_session_expiry_record(*, user: User) -> None:
    sign_in_event.send(
        sender=User,
        user=user,
        action="auth.oidc_session_expired",
        target_type="user",
        target_id=user.username,
    )
