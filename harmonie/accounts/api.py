"""POST and DELETE /api/v1/auth/token and the two ways to authenticate API calls."""

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from ninja.security import APIKeyCookie, HttpBearer

from harmonie.accounts.local_login import local_login_require
from harmonie.accounts.models import User
from harmonie.accounts.services import (
    api_token_create,
    api_token_revoke,
    api_token_user,
    login_check,
)

router = Router(tags=["authentification"])


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


@router.post("/token", auth=None, response=TokenOut, summary="Obtenir un jeton d'accès")
def token_create(request: HttpRequest, payload: TokenIn) -> dict:
    local_login_require()  # 403 when local accounts are off: tokens from « Jetons d'API »
    user = login_check(request=request, username=payload.username, password=payload.password)
    return {"token": api_token_create(user=user)}


@router.delete(
    "/token",
    auth=ApiKeyAuth(),
    response={204: None},
    summary="Révoquer le jeton d'accès envoyé",
)
def token_delete(request: HttpRequest):
    """The bearer token this request carries stops working at once."""
    key = request.headers.get("Authorization", "").partition(" ")[2].strip()
    api_token_revoke(key=key)
    return Status(204, None)
