"""What every app's pages share: a refused action shown as a French page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from harmonie.errors import DomainError

_TITLES = {404: "Page introuvable", 403: "Accès refusé"}


def refused_page(request: HttpRequest, error: DomainError, *, title: str = "") -> HttpResponse:
    """The error's French message, with its status (404, 403, 409...) and a way back."""
    title = title or _TITLES.get(error.status, "Action impossible")
    return render(
        request,
        "refused.html",
        {"page_title": title, "message": error.message, "breadcrumb": {"current": title}},
        status=error.status,
    )
