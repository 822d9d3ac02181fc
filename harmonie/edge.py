"""The edge: one place that refuses malformed requests before any view or query sees them.

`EdgeMiddleware` checks the path, the query string, the cookies, the form fields and the
JSON body (parsed once here; the API's parser reuses the result) for NUL characters, lone
surrogates, excessive JSON nesting, too many fields and bodies over the size limit. A
refusal is a 400 (413 for a body too large) with a French message: in the API error format
under /api/v1 (API.md §2), a French page elsewhere. It also puts every error answer of an
/api/v1 path that is not already JSON (Django's 404 for an unknown path, 405, a 500) in
the API error format, adds the Permissions-Policy header, and serves as CSRF_FAILURE_VIEW.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from ninja.parser import Parser

API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_MESSAGE = (
    "Requête refusée : le jeton de sécurité (CSRF) est absent ou invalide. "
    "Rechargez la page puis réessayez."
)
_STATUS_ERRORS = {
    400: ("invalid", "Requête invalide."),
    401: ("unauthenticated", "Authentification requise."),
    403: ("forbidden", "Accès refusé."),
    404: ("not_found", "Ressource introuvable : ce chemin n'existe pas dans l'API."),
    405: ("method_not_allowed", "Méthode HTTP non autorisée pour ce chemin."),
    413: ("too_large", "Corps de requête trop volumineux."),
    429: ("throttled", "Trop de requêtes. Réessayez dans quelques minutes."),
}
_SERVER_ERROR = ("server_error", "Erreur interne du serveur.")


class EdgeRefusal(Exception):
    def __init__(self, message: str, *, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def _max_depth() -> int:
    return getattr(settings, "HARMONIE_JSON_MAX_DEPTH", 16)


def text_check(value: str, *, where: str) -> None:
    """Refuse a NUL character or a lone surrogate (neither can be stored nor encoded)."""
    if "\x00" in value:
        raise EdgeRefusal(f"Caractère nul (U+0000) refusé dans {where}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EdgeRefusal(
            f"Caractère Unicode invalide (demi-codet isolé) refusé dans {where}."
        ) from None


def json_check(value: Any, *, max_depth: int | None = None) -> None:
    """Walk a parsed JSON value (without recursion): texts as `text_check`, depth bounded."""
    limit = _max_depth() if max_depth is None else max_depth
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            text_check(item, where=f"le corps JSON ({path or 'racine'})")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            raise EdgeRefusal(
                f"Corps JSON trop imbriqué ({path or 'racine'}) : au plus {limit} niveaux."
            )
        if isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                text_check(key, where=f"une clé du corps JSON ({path or 'racine'})")
                stack.append((child, depth + 1, child_path))
        else:
            for index, child in enumerate(item):
                stack.append((child, depth + 1, f"{path}[{index}]"))


def _pairs_check(pairs: Iterable[tuple[str, list[str]]], *, what: str) -> None:
    for key, values in pairs:
        text_check(key, where=f"le nom d'un {what}")
        for value in values:
            text_check(value, where=f"le {what} « {key[:40]} »")


def _body_limit_text() -> str:
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " Mo"


def request_check(request: HttpRequest) -> None:
    """Raise EdgeRefusal for a request no view should see."""
    text_check(request.path_info, where="l'adresse de la page")
    try:
        _pairs_check(request.GET.lists(), what="paramètre")
    except TooManyFieldsSent:
        raise EdgeRefusal("Trop de paramètres dans l'adresse.") from None
    for name, value in request.COOKIES.items():
        text_check(name + value, where="un cookie")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    try:
        if content_type in FORM_TYPES:
            if request.method == "POST":
                _pairs_check(request.POST.lists(), what="champ")
                for field, files in request.FILES.lists():
                    for upload in files:
                        text_check(upload.name or "", where=f"le nom du fichier « {field} »")
            return
        body = request.body
    except RequestDataTooBig:
        raise EdgeRefusal(
            f"Corps de requête trop volumineux (au plus {_body_limit_text()}).",
            status=413,
            code="too_large",
        ) from None
    except TooManyFieldsSent:
        raise EdgeRefusal("Trop de champs dans le formulaire.") from None
    if not body or not (content_type == "application/json" or is_api_path(request.path_info)):
        return
    try:
        data = json.loads(body)
    except RecursionError:
        raise EdgeRefusal(f"Corps JSON trop imbriqué : au plus {_max_depth()} niveaux.") from None
    except ValueError:
        return  # not JSON: the view answers (the API: « un objet JSON est attendu »)
    json_check(data)
    request._edge_json = data  # read once, reused by EdgeParser


def api_error(*, status: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": details}}, status=status
    )


def refusal_response(request: HttpRequest, *, status: int, code: str, message: str):
    if is_api_path(request.path_info):
        return api_error(status=status, code=code, message=message)
    title = "Requête refusée" if status != 413 else "Requête trop volumineuse"
    return render(
        request,
        "refused.html",
        {"page_title": title, "message": message, "breadcrumb": {"current": title}},
        status=status,
    )


class EdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request_check(request)
        except EdgeRefusal as refusal:
            return refusal_response(
                request, status=refusal.status, code=refusal.code, message=refusal.message
            )
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = policy
        if (
            response.status_code >= 400
            and is_api_path(request.path_info)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _STATUS_ERRORS.get(response.status_code, _SERVER_ERROR)
            replaced = api_error(status=response.status_code, code=code, message=message)
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response


class EdgeParser(Parser):
    """Django Ninja's JSON parser, reusing the body the edge already parsed and checked."""

    def parse_body(self, request: HttpRequest) -> Any:
        if hasattr(request, "_edge_json"):
            return request._edge_json
        data = json.loads(request.body)
        json_check(data)
        return data


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the refusal in French, in the API format under /api/v1."""
    return refusal_response(request, status=403, code="csrf_failed", message=CSRF_MESSAGE)


ERROR_SCHEMA = {
    "title": "ApiError",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "En français."},
                "details": {},
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Requête invalide (message en français)",
    "401": "Authentification requise ou identifiants refusés",
    "403": "Rôle insuffisant ou jeton CSRF absent",
    "404": "Absent ou hors du périmètre de l'utilisateur",
    "409": "État incompatible (lot déverrouillé, simulation périmée, ...)",
    "413": "Corps de requête trop volumineux",
    "429": "Trop de tentatives",
}


def openapi_errors_add(schema: dict) -> dict:
    """Declare the API error answers (API.md §2) on every operation of the OpenAPI document:
    400, 401, 403, 404 and 429 everywhere, 409 on writes, 413 where a body is accepted."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ApiError"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/ApiError"}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = ["400", "401", "403", "404", "429"]
            if method in ("post", "put", "patch", "delete"):
                statuses += ["409", "413"]
            for status in statuses:
                operation["responses"].setdefault(
                    status,
                    {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return schema
