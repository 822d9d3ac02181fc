"""The error pages in French on the DSFR layout (issue 13, item 7): 400, 403, 404 and 500,
`<html lang="fr">`, no Django internal name, a bad pagination cursor a 400 (not a 500).
R-ACC-1: a role without the right gets the 403 page."""

import pytest
from django.test import Client
from django.urls import path

from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("panne")


urlpatterns = [path("panne/", _boom)]
handler500 = "harmonie.error_pages.server_error"


def _french(response, title: str) -> str:
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert f"<h1>{title}</h1>" in html
    for english in ("Not Found", "Forbidden", "Server Error", "Bad Request", "Resolver404"):
        assert english not in html
    return html


def test_unknown_address_is_a_french_404(client):
    html = _french(client.get("/cette-page-n-existe-pas/"), "Page introuvable")
    assert "Erreur 404" in html


def test_out_of_scope_object_404_shows_the_domain_message(academy_world):
    """R-ACC-1: an exam outside the coordinator's scope is a 404 page, with the refusal's own
    French message under the explanation."""
    client = login_client(academy_world["coordinator"])
    response = client.get("/statistiques/INCONNUE/")
    assert response.status_code == 404
    html = _french(response, "Page introuvable")
    assert 'data-testid="error-detail"' in html


def test_grader_opening_statistics_gets_the_french_403(academy_world):
    """R-ACC-1: a grader has no statistics."""
    grader = academy_world["locked_batch"].grader
    response = login_client(grader).get("/statistiques/FRA-ECRIT/")
    assert response.status_code == 403
    html = _french(response, "Accès refusé")
    assert "Erreur 403" in html


def test_garbage_cursor_on_the_list_is_a_400_in_french(academy_world):
    """The unit list with a forged cursor: a 400 with its French message, not a 500."""
    client = login_client(academy_world["coordinator"])
    response = client.get("/copies/epreuve/FRA-ECRIT/?cursor=garbage")
    assert response.status_code == 400
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "Curseur de pagination invalide" in html


@pytest.mark.urls("tests.pages.test_error_pages")
def test_server_error_is_a_french_page_without_the_database():
    client = Client(raise_request_exception=False)
    response = client.get("/panne/")
    assert response.status_code == 500
    html = _french(response, "Erreur inattendue")
    assert "panne" not in html  # no internal detail


def test_bare_permission_denied_shows_no_internal_name(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from harmonie.error_pages import permission_denied

    request = rf.get("/")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "PermissionDenied" not in response.content.decode()
