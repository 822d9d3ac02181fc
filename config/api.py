"""The JSON API under /api/v1 (API.md §2): routers of each app, one error format."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from harmonie.accounts.api import ApiKeyAuth, SessionAuth
from harmonie.accounts.api import router as auth_router
from harmonie.edge import CSRF_MESSAGE, EdgeParser, EdgeRefusal, openapi_errors_add
from harmonie.errors import DomainError
from harmonie.explanation.api import router as explanation_router
from harmonie.fairness.api import router as fairness_router
from harmonie.harmonisation.api import router as harmonisation_router
from harmonie.marking.api import router as marking_router
from harmonie.schemas import validation_details, validation_message
from harmonie.statistics.api import router as statistics_router
from harmonie.validation.api import router as validation_router


class HarmonieAPI(NinjaAPI):
    """The OpenAPI document declares the error answers of every operation (API.md §2)."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return openapi_errors_add(super().get_openapi_schema(**kwargs))

    def validation_error_from_error_contexts(self, error_contexts: list[Any]) -> ValidationError:
        """As Django Ninja's, but each error keeps the value refused, which the French
        message quotes (« nombre attendu (reçu « abc ») »); the details do not echo it."""
        errors = []
        for context in error_contexts:
            model = context.model
            for error in context.pydantic_validation_error.errors(
                include_url=False, include_context=False
            ):
                where = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                errors.append({**error, "loc": (model.__ninja_param_source__, *where)})
        return ValidationError(errors)


api = HarmonieAPI(
    title="Harmonie API",
    version="1",
    description="Harmonisation des notes des épreuves corrigées à l'écran (contrat : API.md).",
    urls_namespace="api",
    docs_url="/docs",
    auth=[ApiKeyAuth(), SessionAuth()],
    parser=EdgeParser(),
)


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: object = None
) -> HttpResponse:
    return api.create_response(
        request,
        {"error": {"code": code, "message": message, "details": details}},
        status=status,
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(
        request, status=exc.status, code=exc.code, message=exc.message, details=exc.details
    )


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        request,
        status=400,
        code="invalid",
        message=validation_message(exc.errors),
        details=validation_details(exc.errors),
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, status=401, code="unauthenticated", message="Authentification requise."
    )


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(
        request, status=403, code="forbidden", message="Votre rôle ne permet pas cette action."
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message="Ressource introuvable.")


@api.exception_handler(EdgeRefusal)
def on_edge_refusal(request: HttpRequest, exc: EdgeRefusal) -> HttpResponse:
    return error_response(request, status=exc.status, code=exc.code, message=exc.message)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:  # Django Ninja's CSRF check on the session
        return error_response(request, status=403, code="csrf_failed", message=CSRF_MESSAGE)
    if exc.status_code == 400:
        return error_response(
            request,
            status=400,
            code="invalid",
            message="Corps de requête illisible : un objet JSON est attendu.",
        )
    return error_response(request, status=exc.status_code, code="error", message=str(exc))


api.add_router("/auth", auth_router)
api.add_router("/", marking_router)
api.add_router("/", explanation_router)
api.add_router("/", statistics_router)
api.add_router("/", harmonisation_router)
api.add_router("/", validation_router)
api.add_router("/", fairness_router)
