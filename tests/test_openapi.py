"""The OpenAPI document and its page are served by the app itself (no CDN)."""

from pathlib import Path

import pytest

import harmonie

pytestmark = pytest.mark.django_db


def test_openapi_document_lists_the_contract(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/token" in schema["paths"]
    assert "/api/v1/exams" in schema["paths"]


def test_docs_page_uses_no_cdn(client, academy_world):
    client.force_login(academy_world["coordinator"])
    page = client.get("/api/v1/docs").content.decode()
    assert "cdn" not in page.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in page


BODIES = {
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/exams/{exam}/scenario-population"),
    ("post", "/api/v1/exams/{exam}/simulations"),
    ("post", "/api/v1/exams/{exam}/comparisons"),
    ("post", "/api/v1/exams/{exam}/harmonisations"),
    ("put", "/api/v1/scripts/{script_id}/marking"),
}
_TYPED = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "items", "properties")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def test_every_body_has_a_typed_schema(client):
    """API.md §2 (issue 11 item 4): each request body is described, field by field."""
    schema = client.get("/api/v1/openapi.json").json()
    with_body = set()
    for method, path, operation in _operations(schema):
        if "requestBody" not in operation:
            continue
        with_body.add((method, path))
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        properties = _resolve(schema, body).get("properties")
        assert properties, (method, path)
        for name, field in properties.items():
            assert any(key in _resolve(schema, field) for key in _TYPED), (method, path, name)
    assert with_body == BODIES


def test_scenario_schema_types_the_action_and_the_filter(client):
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    assert set(components["ScenarioIn"]["properties"]) == {"filter", "action"}
    assert set(components["ActionIn"]["properties"]) == {"type", "points"}
    filter_keys = set(components["ScriptFilterIn"]["properties"])
    assert {"departments", "graders", "mark_min", "mark_max", "mark_part"} <= filter_keys
    assert components["ScenariosIn"]["additionalProperties"] is False


def test_filter_queries_are_declared(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/exams/{exam}/scripts", "/api/v1/exams/{exam}/filter-options"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"schools", "graders", "mark_min", "mark_part"} <= names, path


FILTER_PARAMETERS = {
    "departments",
    "schools",
    "class_groups",
    "qualifications",
    "juries",
    "graders",
    "batches",
    "subjects",
    "mark_min",
    "mark_max",
    "mark_part",
}
# Every query parameter the code reads, per GET operation (none elsewhere).
QUERIES = {
    "/api/v1/exams/{exam}/scripts": FILTER_PARAMETERS
    | {"q", "sort", "cursor", "limit", "harmonised", "conforming"},
    "/api/v1/exams/{exam}/filter-options": FILTER_PARAMETERS | {"locked_only"},
    "/api/v1/exams/{exam}/statistics": FILTER_PARAMETERS | {"locked_only"},
    "/api/v1/exams/{exam}/grader-severity": FILTER_PARAMETERS | {"locked_only", "part", "basis"},
    "/api/v1/exams/{exam}/grader-severity/proposal": {"part"},
    "/api/v1/exams/{exam}/minutes.pdf": {"from", "to"},
}


def _types(schema: dict, node: dict) -> set[str]:
    """The JSON types a parameter's schema allows (`format` kept: `string/date`)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, item) for item in node["anyOf"]))
    if node.get("type") == "array":
        return {f"array/{kind}" for kind in _types(schema, node["items"])}
    return {node["type"] + (f"/{node['format']}" if "format" in node else "")}


def test_every_get_declares_the_query_it_reads_with_its_type(client):
    """Issue 11 item 4: each GET operation lists the query parameters its code reads,
    each with a type (filter keys, toggles, numbers, days)."""
    schema = client.get("/api/v1/openapi.json").json()
    declared = {}
    for method, path, operation in _operations(schema):
        query = {
            p["name"]: _types(schema, p["schema"])
            for p in operation.get("parameters", ())
            if p["in"] == "query"
        }
        assert method == "get" or not query, (method, path)
        if query:
            declared[path] = query
    assert {path: set(query) for path, query in declared.items()} == QUERIES
    for path, query in declared.items():
        assert all(types - {"null"} for types in query.values()), path
        for key in FILTER_PARAMETERS & set(query):
            if key in ("mark_min", "mark_max"):
                assert query[key] == {"number", "null"}, (path, key)
            elif key == "mark_part":
                assert query[key] == {"string", "null"}, (path, key)
            else:
                assert query[key] == {"array/string"}, (path, key)
        if "locked_only" in query:
            assert query["locked_only"] == {"boolean", "null"}, path
    assert declared["/api/v1/exams/{exam}/scripts"]["limit"] == {"integer", "null"}
    assert declared["/api/v1/exams/{exam}/minutes.pdf"]["from"] == {"string/date", "null"}


def test_no_endpoint_reads_the_query_string_by_hand():
    """Issue 11 item 4: the API reads its query through typed schemas; `request.GET` is
    only looked at to refuse a parameter no schema declares."""
    for module in sorted(Path(harmonie.__file__).parent.glob("*/api.py")):
        text = module.read_text(encoding="utf-8")
        reads = text.count("request.GET")
        assert reads == text.count("query_unknown_refuse(keys=request.GET"), module


def test_every_operation_declares_the_error_answers(client):
    """API.md §2: 400, 401, 403, 404 and 429 everywhere, 409 and 413 on writes, each in
    the shared error schema."""
    schema = client.get("/api/v1/openapi.json").json()
    assert "ApiError" in schema["components"]["schemas"]
    for method, path, operation in _operations(schema):
        expected = {"400", "401", "403", "404", "429"}
        if method in ("post", "put", "patch", "delete"):
            expected |= {"409", "413"}
        assert expected <= set(operation["responses"]), (method, path)
        for status in expected:
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
