"""What every app's pages share: a refused action shown as a French page, and domain
refusals turned into Django's 404 and 403 pages."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from harmonie.errors import DomainError, Forbidden, NotFound

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


def domain_errors_as_http(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Out of scope is a 404 page, a role without the right a 403 page; any other domain
    refusal (bad input 400, state 409) the refused page with its French message."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except Forbidden as error:
            raise PermissionDenied(error.message) from None
        except DomainError as error:
            return refused_page(request, error)

    return wrapper
