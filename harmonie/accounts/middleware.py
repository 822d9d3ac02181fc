"""Ends a session opened through the identity provider once HARMONIE_OIDC_SESSION_TTL
has passed: the user is asked to sign in again (docs/decisions.md, "Sign-in")."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from harmonie.accounts.oidc import oidc_session_expired, oidc_session_expiry_record

EXPIRED_MESSAGE = "Votre session a expiré : reconnectez-vous."


class OidcSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if oidc_session_expired(request=request) and request.user.is_authenticated:
            oidc_session_expiry_record(user=request.user)
            logout(request)
            if request.path.startswith("/api/"):
                return self.get_response(request)  # now anonymous: the API's own 401
            messages.warning(request, EXPIRED_MESSAGE)
            login = reverse("accounts:login")
            if request.method == "GET":
                login += "?" + urlencode({"next": request.get_full_path()})
            if request.htmx:
                return HttpResponseClientRedirect(login)
            return redirect(login)
        return self.get_response(request)
