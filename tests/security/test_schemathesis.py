"""Schemathesis against /api/v1/openapi.json, with every role's token (issue 6, part 5;
issue 12, item 9): generated parameters and bodies, on random and on real objects of the
user's academy, never give a 5xx and every documented answer, errors included, matches its
schema. API.md §2: bad input is a 4xx with a French message, never a 500.

The normal suite runs a smoke pass (3 examples per operation and role); `make test-attack`
(run by .ci/run on PostgreSQL) sets HARMONIE_FUZZ_EXAMPLES for the bounded attack pass."""

import os
from collections import Counter

import pytest
import requests
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from harmonie.accounts.services import api_token_create
from tests.security.conftest import ROLES, World

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = int(os.environ.get("HARMONIE_FUZZ_EXAMPLES", "3"))  # per operation and role

_APP = []


def _app():
    if not _APP:
        _APP.append(get_wsgi_application())
    return _APP[0]


def _real_parameters(world: World) -> dict[str, str]:
    side = world.own
    return {
        "exam": world.shared_exam.code,
        "script_id": side.script.public_id,
        "harmonisation_id": str(side.harmonisation_id),
        "validation_id": str(side.validation_id),
        "code": side.locked_batch.code,
        "uai": side.school.uai,
    }


def _operations():
    from config.api import api

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in _operations()}


@pytest.fixture
def connections_kept():
    """As Django's test client does: the WSGI handler must not close the test's database
    connection at the end of each request (PostgreSQL would lose the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_api_never_fails_and_keeps_its_schema(world, connections_kept, label):
    """API.md §2: no 5xx, answers as documented, for every role (R-ACC-1)."""
    from config.api import api

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())
    assert api.get_openapi_schema()["paths"]
    operation = schema[OPERATIONS[label].path][OPERATIONS[label].method.upper()]
    tokens = {role: api_token_create(user=world.user(role)) for role in ROLES if world.user(role)}
    tokens["anonymous"] = None
    real = _real_parameters(world)

    calls: Counter = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), on_real=st.booleans())
    def run(case, on_real, role):
        if on_real and case.path_parameters:
            case.path_parameters = {
                name: real.get(name, value) for name, value in case.path_parameters.items()
            }
        headers = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
        response = case.call(headers=headers)
        calls[role] += 1
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400 and response.headers.get("content-type", [""])[0].startswith(
            "application/json"
        ):
            assert response.json()["error"]["message"], (role, case.path, response.text)
        if response.status_code >= 400:  # API.md §2: every error in the error format
            assert response.headers.get("content-type", [""])[0].startswith("application/json")
            assert set(response.json()["error"]) == {"code", "message", "details"}

    for role in sorted(tokens):  # every role, each with its own examples
        run(role=role)
    assert set(calls) == set(tokens), calls  # the pass really ran for every role
    assert min(calls.values()) >= 1


def test_every_operation_is_fuzzed_and_declares_its_errors():
    """Issue 12.9: the pass covers every operation of the schema, and each declares the
    error answers of API.md §2 (400, 401, 403, 404, 429; 409 and 413 on writes)."""
    from config.api import api

    schema = api.get_openapi_schema()
    declared = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert declared == set(OPERATIONS)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "429"}
            if method in ("post", "put", "patch", "delete"):
                expected |= {"409", "413"}
            assert expected <= set(operation["responses"]), (method, path)
            error = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}


def test_schema_component_names_are_unique():
    """Two response classes with one name share one OpenAPI component and one of them is
    documented wrongly (three `ReasonOut` did): every Schema class name is unique."""
    from ninja import Schema

    from config.api import api

    api.get_openapi_schema()  # imports every router
    seen: dict[str, str] = {}
    duplicates = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("harmonie."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            duplicates.append((seen[cls.__name__], where))
        seen[cls.__name__] = where
    assert not duplicates


def test_the_fuzzer_sees_a_schema_violation():
    """The checks are real: an answer that breaks its documented schema is reported."""
    schema = schemathesis.openapi.from_dict(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {
                                    "application/json": {
                                        "schema": {
                                            "type": "object",
                                            "required": ["count"],
                                            "properties": {"count": {"type": "integer"}},
                                        }
                                    }
                                },
                            }
                        }
                    }
                }
            },
        }
    )
    operation = schema["/x"]["GET"]
    case = operation.Case()

    response = requests.models.Response()
    response.status_code = 200
    response._content = b'{"count": "douze"}'
    response.headers["Content-Type"] = "application/json"
    response.request = requests.Request("GET", "http://localhost/x").prepare()
    response.url = "http://localhost/x"
    with pytest.raises(FailureGroup) as failure:
        case.validate_response(response, checks=[response_schema_conformance])
    assert any(isinstance(error, JsonSchemaError) for error in failure.value.exceptions)
