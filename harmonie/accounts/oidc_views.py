"""/oidc/authenticate/ and /oidc/callback/: mozilla-django-oidc's views, with French
refusal pages and the journal."""

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from harmonie.accounts.oidc import (
    ID_TOKEN,
    OidcRefusal,
    ProviderUnavailable,
    oidc_enabled,
    oidc_login_record,
    oidc_refusal_message,
    oidc_refusal_record,
    oidc_setting,
)


def oidc_refused_response(request: HttpRequest, refusal: OidcRefusal) -> HttpResponse:
    oidc_refusal_record(refusal=refusal)
    status, message = oidc_refusal_message(refusal=refusal)
    return render(
        request,
        "accounts/oidc_refused.html",
        {
            "page_title": "Connexion refusée",
            "message": message,
            "reason": refusal.reason,
            "provider_name": settings.OIDC_PROVIDER_NAME,
            "local_login": settings.LOCAL_LOGIN,
        },
        status=status,
    )


class OidcLoginView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider with state, nonce and a PKCE challenge."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        # The library reads the endpoints here; Harmonie reads them per request (discovery).
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable:
            return oidc_refused_response(request, OidcRefusal("provider_unavailable"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class OidcCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: code exchanged, tokens checked, the user matched or refused."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        state = request.GET.get("state")
        states = request.session.get("oidc_states")
        if not isinstance(states, dict) or state not in states:
            # Tampered, replayed or from another browser: the library would answer a
            # bare 400 (SuspiciousOperation) or a silent redirect.
            return oidc_refused_response(request, OidcRefusal("bad_state"))
        if "code" not in request.GET and not request.GET.get("error"):
            return oidc_refused_response(request, OidcRefusal("bad_state"))
        if request.GET.get("error"):
            # The library forgets the state, logs out, then calls login_failure().
            error = "".join(c for c in request.GET["error"] if c.isalnum() or c == "_")[:64]
            request.oidc_refusal = OidcRefusal("provider_error", detail=error)
        return super().get(request)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        oidc_login_record(request=self.request, user=self.user)
        return response

    def login_failure(self) -> HttpResponse:
        self.request.session.pop(ID_TOKEN, None)
        refusal = getattr(self.request, "oidc_refusal", None)
        if refusal is None:
            refusal = OidcRefusal("token_invalid")
        return oidc_refused_response(self.request, refusal)
