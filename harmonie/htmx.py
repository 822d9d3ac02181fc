"""htmx requests that need a login (issue 13, item 2).

`login_required` answers an anonymous request with a 302 to the login page. htmx follows
that redirect inside its XMLHttpRequest and would swap the login page into the fragment's
target (a scenario's filter block, the execution area). For an htmx request
(`request.htmx`, django-htmx) the redirect becomes `HX-Redirect`: the browser itself goes to
the login page, with `next` set to the screen it was on (`HX-Current-URL`), not to the
fragment's address, so that the login brings the user back to the same screen.
"""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


def htmx_return_path(*, request: HttpRequest) -> str:
    """The path (and query) of the page the htmx request came from, if it is ours."""
    current = request.htmx.current_url or "" if request.htmx else ""
    if not current or not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(current)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class HtmxLoginRedirectMiddleware:
    """After django-htmx's `HtmxMiddleware` and the authentication middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code not in (301, 302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        back = htmx_return_path(request=request)
        return HttpResponseClientRedirect(login + ("?" + urlencode({"next": back}) if back else ""))
