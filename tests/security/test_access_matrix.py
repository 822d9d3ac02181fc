"""Role × endpoint × academy: every page and every API endpoint, for every role, on an
object of the user's academy or school (« own ») and on one of another academy
(« other »). R-ACC-1: a role without the right gets 403, an object outside the scope 404,
an anonymous visitor the login page (302) or a 401 from the API.

The tables list every URL pattern of the site and every operation of the OpenAPI
document: adding a URL without a row here fails `test_every_url_has_a_row`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api
from tests.security.conftest import ROLES, Side, World, api_headers, web_client

pytestmark = pytest.mark.django_db

LOGIN = "/compte/connexion/"


def row(coord, member, member_no_mission, officer, grader, school, anonymous) -> dict[str, int]:
    """Expected statuses in the order of ROLES (anonymous last)."""
    values = (coord, member, member_no_mission, officer, grader, school, anonymous)
    return dict(zip(ROLES, values, strict=True))


@dataclass(frozen=True)
class Endpoint:
    method: str
    url: Callable[[World, Side], str]
    own: dict[str, int]
    other: dict[str, int] | None = None  # None: the endpoint has no object in a scope
    data: dict | None = None


def _exam(w: World, s: Side) -> str:
    """The national paper for « own », an exam of the other academy only for « other »."""
    return w.shared_exam.code if s is w.own else s.exam.code


A = 302  # anonymous on a page: redirected to the login page
U = 401  # anonymous on the API

# Pages: URL pattern (as Django prints it) → endpoint.
PAGES: dict[str, Endpoint] = {
    "": Endpoint("get", lambda w, s: "/", row(200, 200, 200, 200, 200, 200, A)),
    "compte/connexion/": Endpoint(
        "get", lambda w, s: LOGIN, row(302, 302, 302, 302, 302, 302, 200)
    ),
    "compte/deconnexion/": Endpoint(
        "post", lambda w, s: "/compte/deconnexion/", row(302, 302, 302, 302, 302, 302, 302)
    ),
    # « Jetons d'API »: every signed-in user may create a token for himself.
    "compte/jetons/": Endpoint(
        "get", lambda w, s: "/compte/jetons/", row(200, 200, 200, 200, 200, 200, A)
    ),
    # Sign-in through the identity provider: 404 while no provider is configured (here).
    "oidc/authenticate/": Endpoint(
        "get", lambda w, s: "/oidc/authenticate/", row(404, 404, 404, 404, 404, 404, 404)
    ),
    "oidc/callback/": Endpoint(
        "get", lambda w, s: "/oidc/callback/", row(404, 404, 404, 404, 404, 404, 404)
    ),
    # R-ACC-1: the coordinator and the exam office read their academy's journal.
    "journal/": Endpoint("get", lambda w, s: "/journal/", row(200, 403, 403, 200, 403, 403, A)),
    "copies/epreuve/<str:exam_code>/": Endpoint(
        "get",
        lambda w, s: f"/copies/epreuve/{_exam(w, s)}/",
        row(200, 403, 404, 403, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "copies/correction/": Endpoint(
        "get", lambda w, s: "/copies/correction/", row(403, 403, 403, 403, 200, 403, A)
    ),
    "copies/correction/<str:exam_code>/": Endpoint(
        "get",
        lambda w, s: f"/copies/correction/{_exam(w, s)}/",
        row(403, 403, 404, 403, 200, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "copies/lot/<str:code>/": Endpoint(
        "get",
        lambda w, s: f"/copies/lot/{s.locked_batch.code}/",
        row(403, 403, 403, 403, 200, 403, A),
        row(403, 403, 403, 403, 404, 403, A),
    ),
    "copies/lot/<str:code>/verrouiller/": Endpoint(
        "post",
        lambda w, s: f"/copies/lot/{s.unlocked_batch.code}/verrouiller/",
        row(403, 403, 403, 403, 302, 403, A),
        row(403, 403, 403, 403, 404, 403, A),
    ),
    "copies/<str:public_id>/": Endpoint(
        "get",
        lambda w, s: f"/copies/{s.script.public_id}/",
        row(200, 403, 403, 403, 200, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "copies/<str:public_id>/pages/<int:number>.png": Endpoint(
        "get",
        lambda w, s: f"/copies/{s.script.public_id}/pages/1.png",
        row(200, 403, 403, 403, 200, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    # R-TRUST-1: the viewer's explanation block and the list export, same access as the
    # viewer and the list they belong to.
    "copies/<str:public_id>/explication/": Endpoint(
        "get",
        lambda w, s: f"/copies/{s.script.public_id}/explication/",
        row(200, 403, 403, 403, 200, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "copies/epreuve/<str:exam_code>/export.<slug:fmt>": Endpoint(
        "get",
        lambda w, s: f"/copies/epreuve/{_exam(w, s)}/export.csv",
        row(200, 403, 404, 403, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "statistiques/<str:exam>/": Endpoint(
        "get",
        lambda w, s: f"/statistiques/{_exam(w, s)}/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "statistiques/<str:exam>/export/<slug:table>.<slug:fmt>": Endpoint(
        "get",
        lambda w, s: f"/statistiques/{_exam(w, s)}/export/etablissements.csv",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "harmonisation/<str:exam>/": Endpoint(
        "get",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "harmonisation/<str:exam>/filtres/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/filtres/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
        data={"scenario": "0", "s0-action": "raise"},
    ),
    "harmonisation/<str:exam>/population/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/population/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
        data={"scenario": "0", "s0-action": "raise", "s0-points": "1"},
    ),
    "harmonisation/<str:exam>/simulation/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/simulation/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
        data={"s0-action": "raise", "s0-points": "1"},
    ),
    "harmonisation/<str:exam>/execution/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/execution/",
        row(400, 400, 404, 400, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
        data={"simulation": ""},
    ),
    "harmonisation/<str:exam>/comparaison/": Endpoint(
        "post",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/comparaison/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
        data={"draft_a": "s0-action=reset", "s0-action": "raise", "s0-points": "1"},
    ),
    "harmonisation/<str:exam>/historique/<int:harmonisation>/annulation/": Endpoint(
        "get",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/historique/{s.harmonisation_id}/annulation/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "harmonisation/<str:exam>/historique/": Endpoint(
        "get",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/historique/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "harmonisation/<str:exam>/conformite/": Endpoint(
        "get",
        lambda w, s: f"/harmonisation/{_exam(w, s)}/conformite/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    # R-FAIR-1, R-FAIR-6: the commission's pages, for the roles that mass-harmonise.
    "equite/<str:exam>/correcteurs/": Endpoint(
        "get",
        lambda w, s: f"/equite/{_exam(w, s)}/correcteurs/",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "equite/<str:exam>/proces-verbal.pdf": Endpoint(
        "get",
        lambda w, s: f"/equite/{_exam(w, s)}/proces-verbal.pdf",
        row(200, 200, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "validation/etablissement/": Endpoint(
        "get",
        lambda w, s: "/validation/etablissement/",
        row(403, 403, 403, 403, 403, 200, A),
    ),
    "validation/etablissement/<str:exam_code>/": Endpoint(
        "get",
        lambda w, s: f"/validation/etablissement/{_exam(w, s)}/",
        row(403, 403, 403, 403, 403, 200, A),
        row(403, 403, 403, 403, 403, 404, A),
    ),
    "validation/etablissement/<str:exam_code>/preparer/": Endpoint(
        "post",
        lambda w, s: f"/validation/etablissement/{_exam(w, s)}/preparer/",
        row(403, 403, 403, 403, 403, 302, A),
        row(403, 403, 403, 403, 403, 404, A),
    ),
    "validation/etablissement/<str:exam_code>/copies.zip": Endpoint(
        "get",
        lambda w, s: f"/validation/etablissement/{_exam(w, s)}/copies.zip",
        row(403, 403, 403, 403, 403, 200, A),
        row(403, 403, 403, 403, 403, 404, A),
    ),
    "validation/transmissions/<int:validation_id>/": Endpoint(
        "get",
        lambda w, s: f"/validation/transmissions/{s.validation_id}/",
        row(200, 403, 403, 200, 403, 403, A),
        row(404, 403, 403, 404, 403, 403, A),
    ),
    "validation/transmissions/<int:validation_id>/relancer/": Endpoint(
        "post",
        lambda w, s: f"/validation/transmissions/{s.validation_id}/relancer/",
        row(302, 403, 403, 403, 403, 403, A),
        row(404, 403, 403, 404, 403, 403, A),
    ),
    "validation/lots/<str:code>/<str:action>/": Endpoint(
        "post",
        lambda w, s: f"/validation/lots/{s.locked_batch.code}/deverrouiller/",
        row(403, 403, 403, 302, 403, 403, A),
        row(403, 403, 403, 404, 403, 403, A),
    ),
    "validation/<str:exam_code>/": Endpoint(
        "get",
        lambda w, s: f"/validation/{_exam(w, s)}/",
        row(200, 403, 404, 403, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "validation/<str:exam_code>/valider/": Endpoint(
        "post",
        lambda w, s: f"/validation/{_exam(w, s)}/valider/",
        row(302, 403, 404, 403, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    "validation/<str:exam_code>/lots/": Endpoint(
        "get",
        lambda w, s: f"/validation/{_exam(w, s)}/lots/",
        row(403, 403, 404, 200, 403, 403, A),
        row(404, 404, 404, 404, 404, 404, A),
    ),
    # The API's own documentation is public: it describes the contract (API.md), no data.
    "api/v1/openapi.json": Endpoint(
        "get", lambda w, s: "/api/v1/openapi.json", row(200, 200, 200, 200, 200, 200, 200)
    ),
    "api/v1/docs": Endpoint(
        "get", lambda w, s: "/api/v1/docs", row(200, 200, 200, 200, 200, 200, 200)
    ),
    "api/v1/": Endpoint("get", lambda w, s: "/api/v1/", row(404, 404, 404, 404, 404, 404, 404)),
    # No role is staff: Django's admin sends everyone to its own login page.
    "admin/": Endpoint("get", lambda w, s: "/admin/", row(302, 302, 302, 302, 302, 302, 302)),
}

# API operations: "METHOD /path" as in the OpenAPI document → endpoint.
API: dict[str, Endpoint] = {
    "POST /api/v1/auth/token": Endpoint(
        "post", lambda w, s: "/api/v1/auth/token", row(400, 400, 400, 400, 400, 400, 400), data={}
    ),
    # Revokes the bearer token sent (issue 12, item 6): every signed-in role may.
    "DELETE /api/v1/auth/token": Endpoint(
        "delete", lambda w, s: "/api/v1/auth/token", row(204, 204, 204, 204, 204, 204, U)
    ),
    "GET /api/v1/exams": Endpoint(
        "get", lambda w, s: "/api/v1/exams", row(200, 200, 200, 200, 200, 200, U)
    ),
    "GET /api/v1/exams/{exam}/filter-options": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/filter-options",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/scripts": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/scripts",
        row(200, 403, 404, 403, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/scripts/{script_id}": Endpoint(
        "get",
        lambda w, s: f"/api/v1/scripts/{s.script.public_id}",
        row(200, 403, 403, 403, 200, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "PUT /api/v1/scripts/{script_id}/marking": Endpoint(
        "put",
        lambda w, s: f"/api/v1/scripts/{s.script.public_id}/marking",
        row(200, 403, 403, 403, 409, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
        data={"marks": {"Q1": 4, "Q2": 5, "P2": 6}},
    ),
    "GET /api/v1/exams/{exam}/statistics": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/statistics",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "POST /api/v1/exams/{exam}/scenario-population": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/scenario-population",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
        data={"scenarios": [{"filter": {}, "action": {"type": "reset"}}]},
    ),
    "POST /api/v1/exams/{exam}/simulations": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/simulations",
        row(201, 201, 404, 201, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
        data={"scenarios": [{"filter": {}, "action": {"type": "reset"}}]},
    ),
    "POST /api/v1/exams/{exam}/harmonisations": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/harmonisations",
        row(404, 404, 404, 404, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
        data={"simulation": 999999},
    ),
    "POST /api/v1/exams/{exam}/comparisons": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/comparisons",
        row(201, 201, 404, 201, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
        data={
            "a": {"scenarios": [{"filter": {}, "action": {"type": "reset"}}]},
            "b": {"scenarios": [{"filter": {}, "action": {"type": "raise", "points": 1}}]},
        },
    ),
    "POST /api/v1/harmonisations/{harmonisation_id}/undo-simulation": Endpoint(
        "post",
        lambda w, s: f"/api/v1/harmonisations/{s.harmonisation_id}/undo-simulation",
        row(201, 201, 404, 201, 403, 403, U),
        row(404, 404, 404, 404, 403, 403, U),
    ),
    "GET /api/v1/exams/{exam}/harmonisations": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/harmonisations",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/harmonisations/{harmonisation_id}": Endpoint(
        "get",
        lambda w, s: f"/api/v1/harmonisations/{s.harmonisation_id}",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 403, 403, U),
    ),
    "GET /api/v1/exams/{exam}/conformity": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/conformity",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "POST /api/v1/exams/{exam}/conformity": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/conformity",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/grader-severity": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/grader-severity",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/grader-severity/proposal": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/grader-severity/proposal",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/minutes.pdf": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/minutes.pdf",
        row(200, 200, 404, 200, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/validation-preview": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/validation-preview",
        row(200, 403, 404, 403, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "POST /api/v1/exams/{exam}/validations": Endpoint(
        "post",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/validations",
        # 409 validation_in_progress: the world's validation is still being delivered; the
        # state is checked only once the role and the scope passed.
        row(409, 403, 404, 403, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/exams/{exam}/validations": Endpoint(
        "get",
        lambda w, s: f"/api/v1/exams/{_exam(w, s)}/validations",
        row(200, 403, 404, 403, 403, 403, U),
        row(404, 404, 404, 404, 404, 404, U),
    ),
    "GET /api/v1/validations/{validation_id}": Endpoint(
        "get",
        lambda w, s: f"/api/v1/validations/{s.validation_id}",
        row(200, 403, 403, 200, 403, 403, U),
        row(404, 403, 403, 404, 403, 403, U),
    ),
    "POST /api/v1/validations/{validation_id}/retry": Endpoint(
        "post",
        lambda w, s: f"/api/v1/validations/{s.validation_id}/retry",
        row(200, 403, 403, 403, 403, 403, U),
        row(404, 403, 403, 404, 403, 403, U),
    ),
    "POST /api/v1/batches/{code}/lock": Endpoint(
        "post",
        lambda w, s: f"/api/v1/batches/{s.unlocked_batch.code}/lock",
        # The grader locks his own batch when his marking is done (same service as his page).
        row(403, 403, 403, 200, 200, 403, U),
        row(403, 403, 403, 404, 404, 403, U),
    ),
    "POST /api/v1/batches/{code}/unlock": Endpoint(
        "post",
        lambda w, s: f"/api/v1/batches/{s.locked_batch.code}/unlock",
        row(403, 403, 403, 200, 403, 403, U),
        row(403, 403, 403, 404, 403, 403, U),
    ),
    "GET /api/v1/schools/{uai}/exams/{exam}/scripts.zip": Endpoint(
        "get",
        lambda w, s: f"/api/v1/schools/{s.school.uai}/exams/{w.shared_exam.code}/scripts.zip",
        row(403, 403, 403, 403, 403, 200, U),
        row(403, 403, 403, 403, 403, 404, U),
    ),
}


def _url_patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if route == "admin/":
                found.append(route)  # Django's admin: one row for all its pages
            elif route != "api/v1/":
                found.extend(_url_patterns(pattern, route))
            else:
                found.extend(
                    route + str(p.pattern)
                    for p in pattern.url_patterns
                    if isinstance(p, URLPattern)
                    and p.name in ("openapi-json", "openapi-view", "api-root")
                )
        else:
            found.append(prefix + str(pattern.pattern))
    return found


def _api_operations() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
    }


def test_every_url_has_a_row():
    """R-ACC-1: a new page or API endpoint must get its row in the matrix."""
    assert set(_url_patterns(get_resolver())) == set(PAGES)
    assert _api_operations() == set(API)


def _call(endpoint: Endpoint, url: str, user, *, api_call: bool):
    if api_call:
        client = web_client(None)
        headers = api_headers(user)
        if endpoint.method in ("post", "put"):
            return getattr(client, endpoint.method)(
                url, endpoint.data or {}, content_type="application/json", **headers
            )
        if endpoint.method == "delete":
            return client.delete(url, **headers)
        return client.get(url, **headers)
    client = web_client(user)
    if endpoint.method == "post":
        return client.post(url, endpoint.data or {})
    return client.get(url)


def _check(world: World, endpoint: Endpoint, *, api_call: bool) -> list[str]:
    wrong = []
    scopes = [("own", world.own, endpoint.own)]
    if endpoint.other is not None:
        scopes.append(("other", world.other, endpoint.other))
    for scope, side, expected in scopes:
        url = endpoint.url(world, side)
        for role in ROLES:
            user = world.user(role)
            response = _call(endpoint, url, user, api_call=api_call)
            status = response.status_code
            if status != expected[role]:
                wrong.append(
                    f"{role}/{scope} {endpoint.method.upper()} {url}: {status} ≠ {expected[role]}"
                )
            elif (
                role == "anonymous"
                and status == 302
                and url.startswith("/")
                and not (url.startswith(("/admin", "/compte/deconnexion")))
            ):
                assert response["Location"].startswith(LOGIN + "?next="), url
            if api_call and status >= 400:
                assert response.json()["error"]["message"], url
    return wrong


@pytest.mark.parametrize("route", sorted(PAGES))
def test_page_access(world, route):
    """R-ACC-1: pages answer 403 to a wrong role, 404 out of scope, login to anonymous."""
    wrong = _check(world, PAGES[route], api_call=False)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("operation", sorted(API))
def test_api_access(world, operation):
    """R-ACC-1: API answers 403 to a wrong role, 404 out of scope, 401 to anonymous."""
    wrong = _check(world, API[operation], api_call=True)
    assert not wrong, "\n".join(wrong)
