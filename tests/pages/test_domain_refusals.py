"""`harmonie.pages.domain_refusals`: the one mapping of domain refusals for pages
(issue 11 item 6): 404 and 403 pages, the refused page with its French message, or under
htmx an alert fragment with the refusal's status, retargeted when asked."""

import html

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from harmonie.errors import Conflict, Forbidden, InvalidInput, NotFound
from harmonie.pages import domain_refusals


def _request(*, htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    request = RequestFactory().get("/x/", headers=headers)
    HtmxMiddleware(lambda r: HttpResponse())(request)
    return request


def _raising(error):
    def view(request):
        raise error

    return view


@pytest.mark.parametrize(
    ("error", "raised"),
    [(NotFound("Hors périmètre."), Http404), (Forbidden("Non."), PermissionDenied)],
)
def test_page_out_of_scope_is_404_and_role_is_403(error, raised):
    with pytest.raises(raised, match=error.message):
        domain_refusals(_raising(error))(_request(htmx=False))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [InvalidInput("Note « abc » invalide."), Conflict("Déjà exécutée.")]
)
def test_page_other_refusal_is_the_refused_page_with_its_status(error):
    response = domain_refusals(_raising(error))(_request(htmx=False))
    assert response.status_code == error.status
    assert error.message in html.unescape(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [NotFound("Hors périmètre."), Forbidden("Non."), Conflict("Déjà exécutée.")]
)
def test_htmx_refusal_is_an_alert_fragment_in_place(error):
    response = domain_refusals(_raising(error))(_request(htmx=True))
    assert response.status_code == error.status
    body = html.unescape(response.content.decode())
    assert 'role="alert"' in body
    assert error.message in body
    assert "<html" not in body
    assert "HX-Retarget" not in response


@pytest.mark.django_db
def test_htmx_refusal_is_retargeted_when_asked():
    view = domain_refusals(htmx_target="#batch-refusal")(_raising(Forbidden("Non.")))
    response = view(_request(htmx=True))
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#batch-refusal"
    assert response["HX-Reswap"] == "innerHTML"


def test_a_view_that_answers_is_left_alone():
    ok = domain_refusals(lambda request: HttpResponse("ok"))
    assert ok(_request(htmx=True)).content == b"ok"
