"""Authentication services: throttled login and API tokens."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
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
    return request.META.get("REMOTE_ADDR", "") or "inconnue"


def login_check(*, request: HttpRequest | None, username: str, password: str) -> User:
    """Authenticate, refusing while too many recent failures for this name or address."""
    address = client_address(request) if request else "inconnue"
    since = timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    recent = FailedLogin.objects.filter(at__gte=since).filter(
        Q(username=username) | Q(address=address)
    )
    if recent.count() >= settings.LOGIN_THROTTLE_ATTEMPTS * 4 or (
        recent.filter(username=username).count() >= settings.LOGIN_THROTTLE_ATTEMPTS
    ):
        raise LoginThrottled("Trop de tentatives de connexion. Réessayez dans quelques minutes.")
    user = authenticate(request, username=username, password=password)
    if user is None:
        FailedLogin.objects.create(username=username[:150], address=address)
        raise LoginRefused("Identifiant ou mot de passe incorrect.")
    FailedLogin.objects.filter(username=username).delete()
    return user


def api_token_create(*, user: User) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(seconds=settings.API_TOKEN_TTL_SECONDS),
    )
    return key


def api_token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token.user
