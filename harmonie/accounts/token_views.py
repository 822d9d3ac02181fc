"""« Jetons d'API »: a signed-in user (through the provider or locally) creates an API
token, shown once. The same service as POST /api/v1/auth/token makes it."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from harmonie.accounts.services import api_token_create
from harmonie.errors import DomainError


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    token = None
    error = None
    status = 200
    if request.method == "POST":
        try:
            token = api_token_create(user=request.user)
        except DomainError as refused:
            error = refused.message
            status = refused.status
    response = render(
        request,
        "accounts/api_tokens.html",
        {
            "page_title": "Jetons d'API",
            "token": token,
            "error": error,
            "ttl_hours": round(settings.API_TOKEN_TTL_SECONDS / 3600, 1),
            "breadcrumb": {"links": [], "current": "Jetons d'API"},
        },
        status=status,
    )
    # The token is shown once: never kept by a cache or the browser's history.
    response["Cache-Control"] = "no-store"
    return response
