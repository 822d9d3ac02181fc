"""The site's error pages in French (issue 13, item 7): Django's handlers for 400, 403, 404
and 500 (config/urls.py), on the DSFR layout. A refusal's own French message (a domain
error turned into Http404/PermissionDenied by harmonie/pages.py) is shown under the page's
explanation; Django's internal names (« Resolver404 ») never are. The API's errors are JSON
(harmonie/edge.py), not these pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

_PAGES = {
    400: (
        "Requête invalide",
        "La demande envoyée au serveur n'est pas valide : revenez à la page précédente et "
        "vérifiez les paramètres de l'adresse ou du formulaire.",
    ),
    403: (
        "Accès refusé",
        "Votre rôle ne vous permet pas d'ouvrir cette page. Si vous pensez devoir y accéder, "
        "adressez-vous à votre coordination académique.",
    ),
    404: (
        "Page introuvable",
        "La page que vous cherchez est introuvable : l'adresse est erronée, ou cet objet "
        "n'existe pas dans votre périmètre.",
    ),
}
_INTERNAL = ("Http404", "Resolver404", "PermissionDenied", "BadRequest", "SuspiciousOperation")


def _detail(exception: BaseException | None) -> str:
    """The exception's own message when it is one written for people (French), else ''."""
    if exception is None or not exception.args:
        return ""
    message = exception.args[0]
    if not isinstance(message, str) or message in _INTERNAL:
        return ""
    return message


def _page(request: HttpRequest, status: int, exception: BaseException | None) -> HttpResponse:
    title, lead = _PAGES[status]
    return render(
        request,
        f"{status}.html",
        {
            "page_title": _(title),
            "error_status": status,
            "error_lead": _(lead),
            "error_detail": _detail(exception) if status != 400 else "",
        },
        status=status,
    )


@requires_csrf_token
def bad_request(request: HttpRequest, exception: BaseException) -> HttpResponse:
    return _page(request, 400, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: BaseException) -> HttpResponse:
    return _page(request, 403, exception)


def page_not_found(request: HttpRequest, exception: BaseException) -> HttpResponse:
    return _page(request, 404, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """A page that needs neither the database nor the context processors: whatever failed
    may fail again."""
    return HttpResponse(loader.get_template("500.html").render(), status=500)
