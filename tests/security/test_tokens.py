"""API tokens (issue 12, item 6; API.md additions): `DELETE /api/v1/auth/token` revokes the
token sent; a password change or a deactivation revokes every token of the user, by the
services and by any other path (Django's admin, `changepassword`); tokens are capped per
user, the oldest revoked (R-ACC-1)."""

import pytest
from django.test import Client

from harmonie.accounts.models import ApiToken
from harmonie.accounts.services import (
    api_token_create,
    user_deactivate,
    user_password_set,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _status(token: str) -> int:
    return Client().get("/api/v1/exams", headers={"Authorization": f"Bearer {token}"}).status_code


def test_delete_revokes_the_token_sent_only():
    """API.md: `DELETE /auth/token` revokes the bearer token it is sent with."""
    user = UserFactory(username="coord.nm", coordinator=True)
    sent, kept = api_token_create(user=user), api_token_create(user=user)
    response = Client().delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {sent}"})
    assert response.status_code == 204
    assert _status(sent) == 401
    assert _status(kept) == 200
    assert ApiToken.objects.filter(user=user).count() == 1


def test_delete_without_a_token_is_401_in_the_api_format():
    response = Client().delete("/api/v1/auth/token")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Authentification requise."


def test_password_change_revokes_every_token():
    """API.md: a password change revokes all of a user's tokens."""
    user = UserFactory(username="coord.nm", coordinator=True)
    tokens = [api_token_create(user=user) for _ in range(3)]
    other = api_token_create(user=UserFactory(username="dec.nm", exam_officer=True))
    user_password_set(user=user, password="nouveau-mot-de-passe-2026")
    assert [_status(token) for token in tokens] == [401, 401, 401]
    assert ApiToken.objects.filter(user=user).count() == 0
    assert _status(other) == 200


def test_password_changed_elsewhere_also_revokes():
    """Issue 12.6: a password set by Django's admin or `changepassword` (no service, no
    signal) stops the tokens too: each token carries a stamp of the password hash."""
    user = UserFactory(username="coord.nm", coordinator=True)
    token = api_token_create(user=user)
    assert _status(token) == 200
    user.set_password("change-par-l-admin-2026")
    user.save()
    assert _status(token) == 401


@pytest.mark.parametrize("how", ["service", "direct"])
def test_deactivation_revokes(how):
    """Issue 12.6: a deactivated account's tokens stop working."""
    user = UserFactory(username="coord.nm", coordinator=True)
    token = api_token_create(user=user)
    if how == "service":
        user_deactivate(user=user)
        assert ApiToken.objects.filter(user=user).count() == 0
    else:
        user.is_active = False
        user.save()
    assert _status(token) == 401


def test_tokens_are_capped_per_user_oldest_revoked(settings):
    """Issue 12.6: past the cap, creating a token revokes the oldest."""
    settings.API_TOKENS_PER_USER = 3
    user = UserFactory(username="coord.nm", coordinator=True)
    tokens = [api_token_create(user=user) for _ in range(5)]
    assert ApiToken.objects.filter(user=user).count() == 3
    assert [_status(token) for token in tokens] == [401, 401, 200, 200, 200]
