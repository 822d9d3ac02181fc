"""Browser: a coordinator builds two scenarios, simulates, executes, finds it in the
history, replays it as a cancellation and executes that (R-MASS-1..11)."""

import pytest

from harmonie.harmonisation.models import Harmonisation
from harmonie.marking.models import Script

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_scenarios_simulate_execute_replay_cancel(page, browser_login, academy_world, tmp_path):
    """R-MASS-7, R-MASS-8, R-MASS-9, R-MASS-11, R-MASS-2 clicked through."""
    page.on("dialog", lambda dialog: dialog.accept())
    browser_login(academy_world["coordinator"])
    page.goto("/harmonisation/FRA-ECRIT/")
    assert page.locator("h1").inner_text() == "Harmonisation en masse"

    # Scenario 1: raise by 1 the candidates up to 15.
    page.fill("#s0-mark_max", "15")
    page.fill("#s0-points", "1")
    page.get_by_test_id("population-button").first.click()
    assert page.get_by_test_id("population-total").inner_text() == "2"
    assert page.get_by_test_id("population-harmonisable").inner_text() == "1"

    # Scenario 2: lower by 0.5 everyone else; it cannot be removed below the first.
    page.get_by_test_id("add-scenario").click()
    scenarios = page.get_by_test_id("scenario")
    assert scenarios.count() == 2
    assert scenarios.nth(1).locator(".hm-number").inner_text() == "2"
    assert not scenarios.nth(0).locator("[data-action=remove]").is_visible()
    page.click("label[for=s1-action-lower]")
    page.fill("#s1-points", "0.5")

    page.get_by_test_id("simulate").click()
    page.get_by_test_id("simulation").wait_for()
    assert page.get_by_test_id("chart-before").is_visible()
    assert page.get_by_test_id("chart-after").is_visible()
    outcomes = page.get_by_test_id("simulation-scenario").all_inner_texts()
    assert outcomes[0].startswith("Scénario n°1 : 1 candidat(s) harmonisé(s)")
    assert outcomes[1].startswith("Scénario n°2 : 1 candidat(s) harmonisé(s)")
    page.screenshot(path=str(tmp_path / "simulation.png"), full_page=True)

    page.fill("#harmonisation-name", "Essai navigateur")
    page.get_by_test_id("execute").click()
    page.get_by_test_id("executed").wait_for()
    assert (
        "L'harmonisation s'est effectuée avec succès"
        in page.get_by_test_id("executed").inner_text()
    )
    assert page.get_by_test_id("new-harmonisation").is_visible()
    first = Harmonisation.objects.get()
    assert first.name == "Essai navigateur"

    page.goto("/harmonisation/FRA-ECRIT/historique/")
    item = page.get_by_test_id("history-item").first
    assert "Essai navigateur" in item.inner_text()
    assert "Note max. : 15" in item.inner_text()
    item.get_by_test_id("replay").click()
    page.get_by_test_id("replay-notice").wait_for()
    assert page.get_by_test_id("scenario").count() == 2
    assert page.input_value("#s0-mark_max") == "15"
    page.click("label[for=s0-action-reset]")
    page.click("label[for=s1-action-reset]")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("simulation").wait_for()
    page.get_by_test_id("execute").click()
    page.get_by_test_id("executed").wait_for()

    page.goto("/harmonisation/FRA-ECRIT/historique/")
    assert (
        "annulation d'harmonisation"
        in page.get_by_test_id("history-item").first.inner_text().lower()
    )
    assert Harmonisation.objects.filter(is_cancellation=True).count() == 1
    assert set(
        Script.objects.filter(academy=academy_world["academy"]).values_list("delta", flat=True)
    ) == {0}
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)


def test_stale_simulation_hides_execution(page, browser_login, academy_world):
    """R-MASS-9: editing a scenario after the simulation asks for a new one."""
    browser_login(academy_world["coordinator"])
    page.goto("/harmonisation/FRA-ECRIT/")
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("simulation").wait_for()
    assert page.get_by_test_id("execute").is_visible()
    page.click("summary")
    page.fill("#s0-points", "2")
    assert page.get_by_test_id("stale-notice").is_visible()
    assert not page.get_by_test_id("execute").is_visible()


def test_copy_filters_to_statistics(page, browser_login, academy_world):
    """R-MASS-7: a scenario's filters are copied to the statistics page's query string."""
    browser_login(academy_world["coordinator"])
    page.goto("/harmonisation/FRA-ECRIT/")
    batch = academy_world["locked_batch"].code
    # The list is the searchable multi-select (issue 13, item 9): its checkbox.
    index = page.locator(f"#s0-batches option[value='{batch}']").evaluate("o => o.index")
    page.click(f"label[for='s0-batches-opt-{index}']")
    page.wait_for_function(
        f"() => Array.from(document.querySelectorAll('#s0-batches option:checked')).some(o => o.value === '{batch}')"
    )
    page.fill("#s0-mark_min", "8")
    link = page.locator("[data-action=copy-stats]").first
    link.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
    link.click()
    href = link.get_attribute("href")
    assert href.startswith("/statistiques/FRA-ECRIT/?")
    assert f"batches={batch}" in href
    assert "mark_min=8" in href
