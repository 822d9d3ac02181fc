from django import forms
from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from harmonie.accounts.local_login import local_login_require
from harmonie.accounts.oidc import oidc_enabled, oidc_logout_record, oidc_logout_url
from harmonie.accounts.services import login_check
from harmonie.errors import DomainError


class LoginForm(forms.Form):
    username = forms.CharField(label="Identifiant", max_length=150)
    password = forms.CharField(label="Mot de passe", widget=forms.PasswordInput, max_length=256)


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return ""
    return target


def login_view(request: HttpRequest) -> HttpResponse:
    """The ProConnect button when OIDC is configured, the local form when enabled."""
    if request.user.is_authenticated:
        return redirect("dashboard:home")
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST":
        try:
            local_login_require()
            if not form.is_valid():
                error = "Saisissez votre identifiant et votre mot de passe."
                status = 400
            else:
                user = login_check(request=request, **form.cleaned_data)
                login(request, user)
                return redirect(_safe_next(request) or "dashboard:home")
        except DomainError as refused:
            error = refused.message
            status = refused.status
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "error": error,
            "page_title": "Connexion",
            "local_login": settings.LOCAL_LOGIN,
            "oidc": oidc_enabled(),
            "provider_name": settings.OIDC_PROVIDER_NAME,
            "proconnect": settings.OIDC_PROVIDER_NAME == "ProConnect",
            "next": _safe_next(request),
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends Harmonie's session, and the provider's when the user signed in through it."""
    provider_logout = oidc_logout_url(request=request)
    if provider_logout and request.user.is_authenticated:
        oidc_logout_record(user=request.user)
    logout(request)
    return redirect(provider_logout or "accounts:login")
