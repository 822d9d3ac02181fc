"""What every app's pages share: the one decorator that turns domain refusals into
Django's 404 and 403 pages, the refused page, or an htmx alert fragment."""

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


def refused_fragment(request: HttpRequest, error: DomainError) -> HttpResponse:
    """The error's French message as an alert, in place of an htmx request's target."""
    return render(request, "refused_fragment.html", {"message": error.message}, status=error.status)


View = Callable[..., HttpResponse]


def domain_refusals(view: View | None = None, *, htmx_target: str = "") -> Any:
    """The one mapping of domain refusals for pages (issue 11).

    For an htmx request (django-htmx's `request.htmx`), the French message as an alert
    fragment with the refusal's status, swapped where the request aimed, or into
    `htmx_target` when the request's own target cannot hold an alert (a table row).
    For a page: out of scope is Django's 404 page, a role without the right its 403 page,
    any other refusal (bad input 400, state 409) the refused page with its message.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DomainError as error:
                if getattr(request, "htmx", False):
                    response = refused_fragment(request, error)
                    if htmx_target:
                        response["HX-Retarget"] = htmx_target
                        response["HX-Reswap"] = "innerHTML"
                    return response
                if isinstance(error, NotFound):
                    raise Http404(error.message) from None
                if isinstance(error, Forbidden):
                    raise PermissionDenied(error.message) from None
                return refused_page(request, error)

        return wrapper

    return decorate(view) if view is not None else decorate
