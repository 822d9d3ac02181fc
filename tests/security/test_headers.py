"""Headers (issue 12, item 8): a Content-Security-Policy without 'unsafe-inline' (no inline
script, no inline event handler, no inline style in any template) and a Permissions-Policy
on every page; `check --deploy` stays clean (tests/test_deploy.py)."""

import re
from pathlib import Path

import pytest

from tests.security.conftest import web_client

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = sorted((ROOT / "harmonie").rglob("templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def test_templates_exist():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_inline_script_handler_or_style_in_templates(template):
    """Issue 12.8: inline code would need 'unsafe-inline'; JSON data blocks are allowed."""
    text = template.read_text(encoding="utf-8")
    scripts = [tag for tag in INLINE_SCRIPT.findall(text) if "application/json" not in tag]
    assert not scripts, scripts
    assert not HANDLER.findall(text)
    assert not STYLE_ATTRIBUTE.findall(text)


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (None, "/compte/connexion/"),
        ("coordinator", "/"),
        ("coordinator", "/statistiques/{exam}/"),
        ("coordinator", "/harmonisation/{exam}/"),
        ("coordinator", "/copies/epreuve/{exam}/"),
        ("coordinator", "/copies/{script}/"),
        ("grader", "/copies/lot/{batch}/"),
        (None, "/api/v1/docs"),
    ],
)
def test_pages_carry_a_strict_csp_and_permissions_policy(world, role, url):
    """Issue 12.8: script-src and style-src without 'unsafe-inline', scripts by nonce or
    from the app itself; every rendered <script> has a src or is a JSON data block."""
    client = web_client(world.user(role) if role else None)
    response = client.get(
        url.format(
            exam=world.shared_exam.code,
            script=world.own.script.public_id,
            batch=world.own.unlocked_batch.code,
        )
    )
    assert response.status_code == 200, url
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    html = response.content.decode()
    scripts = [tag for tag in INLINE_SCRIPT.findall(html) if "application/json" not in tag]
    assert not scripts, scripts
    assert not STYLE_ATTRIBUTE.findall(html)


def test_api_answers_carry_the_headers_too(world):
    response = web_client(None).get("/api/v1/exams")
    assert response.status_code == 401
    assert "Content-Security-Policy" in response
    assert "Permissions-Policy" in response
