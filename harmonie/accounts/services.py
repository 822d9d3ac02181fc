"""Authentication services: throttled login and API tokens."""

import hashlib
import hmac
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from harmonie.accounts.models import ApiToken, FailedLogin, User
from harmonie.errors import DomainError


class LoginThrottled(DomainError):
    status = 429
    code = "throttled"


class LoginRefused(DomainError):
    status = 401
    code = "bad_credentials"


def client_address(request: HttpRequest) -> str:
    """The client's address: the trusted reverse proxy's header when one is configured
    (`TRUSTED_PROXY_HEADER`, its last address: the one the proxy saw), else REMOTE_ADDR.
    Anything that is not an IP address counts as « inconnue » (never stored as sent)."""
    raw = request.META.get("REMOTE_ADDR", "")
    header = settings.TRUSTED_PROXY_HEADER
    if header:
        name = "HTTP_" + header.upper().replace("-", "_")
        forwarded = request.META.get(name, "")
        if forwarded:
            raw = forwarded.split(",")[-1]
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return "inconnue"


def _throttle_lock(*, username: str) -> None:
    """Serialise the attempts on one username until the transaction ends: PostgreSQL
    advisory lock; SQLite's write transactions are already serial (IMMEDIATE)."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(username.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def login_attempt_reserve(*, username: str, address: str) -> int:
    """Count the attempt as a failure before checking the password, under a lock on the
    username, refusing past the limits (R-ACC-1): 40 concurrent wrong attempts get no more
    than the allowed tries. Per (username, address) and per username from any address,
    never per address alone: behind an academy's proxy every user shares one address.
    Returns the id of the reserved failure (deleted by a successful login)."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    with transaction.atomic():
        _throttle_lock(username=username)
        FailedLogin.objects.filter(username=username, at__lt=since).delete()
        recent = FailedLogin.objects.filter(username=username, at__gte=since)
        if (
            recent.filter(address=address).count() >= settings.LOGIN_THROTTLE_ATTEMPTS
            or recent.count() >= settings.LOGIN_THROTTLE_USERNAME_ATTEMPTS
        ):
            raise LoginThrottled(
                "Trop de tentatives de connexion. Réessayez dans quelques minutes."
            )
        return FailedLogin.objects.create(username=username, address=address).pk


def login_check(*, request: HttpRequest | None, username: str, password: str) -> User:
    """Authenticate, refusing while too many recent failures for this name (R-ACC-1)."""
    address = client_address(request) if request else "inconnue"
    username = username[:150]
    reserved = login_attempt_reserve(username=username, address=address)
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise LoginRefused("Identifiant ou mot de passe incorrect.")
    FailedLogin.objects.filter(Q(pk=reserved) | Q(username=username, address=address)).delete()
    return user


def _password_stamp(user: User) -> str:
    """Changes whenever the password does (any path: service, admin, changepassword)."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{user.pk}:{user.password}".encode(), hashlib.sha256
    ).hexdigest()


def api_token_create(*, user: User) -> str:
    """A new token; past `API_TOKENS_PER_USER` live tokens the oldest are revoked."""
    key = ApiToken.new_key()
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        ApiToken.objects.create(
            user=user,
            key_hash=ApiToken.hash_key(key),
            password_stamp=_password_stamp(user),
            expires_at=now + timedelta(seconds=settings.API_TOKEN_TTL_SECONDS),
        )
        keep = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
        extra = list(keep.values_list("pk", flat=True)[settings.API_TOKENS_PER_USER :])
        if extra:
            ApiToken.objects.filter(pk__in=extra).delete()
    return key


def api_token_user(*, key: str) -> User | None:
    """The token's user, if the token is live, the user active and the password unchanged
    since the token was made."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if not hmac.compare_digest(token.password_stamp, _password_stamp(token.user)):
        return None
    return token.user


def api_token_revoke(*, key: str) -> bool:
    """`DELETE /api/v1/auth/token`: the token sent is revoked at once."""
    deleted, _ = ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).delete()
    return bool(deleted)


def api_tokens_revoke_all(*, user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def user_password_set(*, user: User, password: str) -> None:
    """Change a password and revoke every API token of the user (API.md additions)."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        api_tokens_revoke_all(user=user)


def user_deactivate(*, user: User) -> None:
    """Deactivate an account and revoke every API token of the user."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        api_tokens_revoke_all(user=user)
