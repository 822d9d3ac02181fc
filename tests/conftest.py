import pytest
from django.test import Client

from harmonie.marking.population import population_cache_clear
from tests.factories import PASSWORD, BatchFactory, ExamFactory, ScriptFactory, UserFactory


@pytest.fixture
def exam(db):
    return ExamFactory(code="FRA-ECRIT")


@pytest.fixture
def academy_world(exam):
    """One academy with a coordinator, a locked and an unlocked batch; another academy."""
    locked = BatchFactory(exam=exam, academy__code="NANCY-METZ", academy__label="Nancy-Metz")
    unlocked = BatchFactory(exam=exam, academy=locked.academy, unlocked=True)
    scripts = [
        ScriptFactory(batch=locked, marks={"Q1": 3, "Q2": 4.5, "P2": 7}),
        ScriptFactory(batch=locked, marks={"Q1": 4, "Q2": 6, "P2": 9}),
        ScriptFactory(batch=locked, blank=True),
        ScriptFactory(batch=unlocked, marks={"Q1": 1, "Q2": 2, "P2": 3}),
    ]
    other = BatchFactory(exam=exam, academy__code="STRASBOURG", academy__label="Strasbourg")
    foreign = ScriptFactory(batch=other)
    coordinator = UserFactory(username="coord.nm", coordinator=True, academy=locked.academy)
    return {
        "exam": exam,
        "academy": locked.academy,
        "locked_batch": locked,
        "unlocked_batch": unlocked,
        "scripts": scripts,
        "other_academy": other.academy,
        "foreign_script": foreign,
        "coordinator": coordinator,
    }


def login_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def api_token(client):
    def make(user) -> str:
        response = client.post(
            "/api/v1/auth/token",
            {"username": user.username, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return make


def console_errors(page) -> list[str]:
    """Every console error and uncaught exception of a browser page, as it happens: a test
    asserts the list is empty (issue 13: no console error on any page)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven headless by Playwright (no browser download)."""
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium absent : `apt-get install chromium` (fait par .ci/run)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django's ORM calls from the test body
    # are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    def login(user) -> None:
        page.goto("/compte/connexion/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")

    return login


@pytest.fixture(autouse=True)
def _fresh_population_cache():
    """Test databases reuse ids after a rollback or a flush: never serve another test's
    loaded population (harmonie.marking.population keeps them per process)."""
    population_cache_clear()
    yield
    population_cache_clear()


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Cached answers are keyed by marks versions that tests' factories do not bump."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
