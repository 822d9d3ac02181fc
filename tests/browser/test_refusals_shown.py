"""Browser: a refusal answered to an htmx request is shown where the user looks, in
French, not dropped by htmx (which swaps no 4xx answer by default) (issue 11 item 6,
R-MASS-7)."""

import pytest

from tests.conftest import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_refused_simulation_shows_its_message(page, browser_login, academy_world):
    """A scenario whose min mark exceeds its max is refused (400): the message is in the
    simulation area and the console stays clean."""
    errors = console_errors(page)
    browser_login(academy_world["coordinator"])
    page.goto("/harmonisation/FRA-ECRIT/")
    page.fill("#s0-mark_min", "15")
    page.fill("#s0-mark_max", "5")
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    alert = page.locator("[data-testid=error]")
    alert.wait_for(timeout=5000)
    assert "min" in alert.inner_text().lower()
    # The browser logs the 400 itself; nothing else may reach the console.
    assert [e for e in errors if "responded with a status of 400" not in e] == []
