"""Browser (issue 13, item 4): at phone width (390 px) the DSFR header's « Menu » button opens
the menu modal, which shows who is signed in and « Se déconnecter »; the DSFR script finds
the markup it expects (no console error). R-ACC-2: the signed-in user's role is shown."""

import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_phone_menu_shows_the_user_and_logs_out(browser, live_server, academy_world, tmp_path):
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    coordinator = academy_world["coordinator"]
    coordinator.first_name, coordinator.last_name = "Élodie", "Lambert"
    coordinator.save()
    page.goto("/compte/connexion/")
    page.fill("#id_username", coordinator.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.wait_for_load_state("load")
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    # At phone width the tools links are hidden in the header bar: only the menu shows them.
    modal = page.locator("#header-menu")
    assert not modal.get_by_role("button", name="Se déconnecter").is_visible()
    menu.click()
    page.wait_for_function(
        "() => document.querySelector('#header-menu').classList.contains('fr-modal--opened')"
    )
    # Names one way (first then last), the role in neutral words (issue 13 item 11).
    assert modal.get_by_test_id("current-user-mobile").inner_text().strip() == (
        "Élodie Lambert · coordination académique"
    )
    page.screenshot(path=str(tmp_path / "menu-390.png"))
    modal.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/compte/connexion/**")
    context.close()
    assert errors == []
