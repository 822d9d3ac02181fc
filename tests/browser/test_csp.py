"""Browser: under the Content-Security-Policy (issue 12, item 8) the pages raise no
violation, Chart.js draws, htmx swaps with the CSRF header, and a form's confirmation comes
from app.js (no inline handler). Debian's Chromium reports every blocked script or style."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


def _violations(page) -> list[str]:
    return page.evaluate("() => window.__csp || []")


def test_pages_run_under_the_csp_without_violation(page, browser_login, academy_world):
    """No violation on the dashboard, statistics (Chart.js, htmx filters), the editor
    (htmx population count) and the list; the console stays free of CSP errors."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(WATCH)
    browser_login(academy_world["coordinator"])
    assert _violations(page) == []

    page.goto("/statistiques/FRA-ECRIT/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    height = page.evaluate(
        "() => document.querySelector('[data-height]').getBoundingClientRect().height"
    )
    assert height >= 300  # the size comes from data-height through app.js
    page.fill("#filter-mark_min", "10")
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**mark_min=10**")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"
    )
    assert _violations(page) == []

    page.goto("/harmonisation/FRA-ECRIT/")
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []

    page.goto("/copies/epreuve/FRA-ECRIT/")
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []
    assert errors == []


def test_batch_lock_confirmation_without_inline_handler(page, browser_login, academy_world):
    """R-VAL-9: the grader's lock form asks first (data-confirm, app.js); refusing keeps the
    batch unlocked."""
    batch = academy_world["unlocked_batch"]
    page.add_init_script(WATCH)
    browser_login(batch.grader)
    page.goto(f"/copies/lot/{batch.code}/")
    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("form[data-confirm] button[type=submit]").click()
    page.wait_for_timeout(300)
    assert questions
    assert questions[0].startswith("Verrouiller le lot")
    batch.refresh_from_db()
    assert batch.locked is False
    assert _violations(page) == []
