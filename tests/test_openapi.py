"""The OpenAPI document and its page are served by the app itself (no CDN)."""

import pytest

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
