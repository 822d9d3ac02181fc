"""Browser: a coordinator logs in and reads the dashboard (R-ACC-2)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_logs_in_and_sees_dashboard(page, browser_login, academy_world, tmp_path):
    browser_login(academy_world["coordinator"])
    assert page.locator("h1").inner_text() == "Tableau de bord"
    card = page.get_by_test_id("exam-FRA-ECRIT")
    assert "Écrit de français" in card.inner_text()
    assert "Statistiques" in card.inner_text()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_wrong_password_is_answered_in_french(page, academy_world):
    page.goto("/compte/connexion/")
    page.fill("#id_username", academy_world["coordinator"].username)
    page.fill("#id_password", "mauvais")
    page.click("button[type=submit]")
    assert (
        page.get_by_test_id("login-error").inner_text() == "Identifiant ou mot de passe incorrect."
    )
