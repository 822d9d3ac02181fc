"""Browser: a coordinator undoes a harmonisation exactly from the history after a unit edit
(R-MASS-14), gives a reason (R-FAIR-5), sees the threshold crossings (R-FAIR-3), and
compares two versions before executing one (R-FAIR-4)."""

import pytest

from harmonie.harmonisation.models import Harmonisation
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from harmonie.marking.services import script_marking_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_exact_undo_after_a_unit_edit(page, browser_login, academy_world, tmp_path):
    """R-MASS-14, R-MASS-11, R-FAIR-5 clicked through."""
    user = academy_world["coordinator"]
    simulation = simulation_create(
        user=user,
        exam_code="FRA-ECRIT",
        scenarios=[{"filter": {"mark_max": 15}, "action": {"type": "raise", "points": 2}}],
    )
    first = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, name="Moins de 15"
    )
    edited = academy_world["scripts"][0]
    # A unit edit takes the 14.5 to 16.5 as marked: out of « ≤ 15 », still raised.
    script_marking_update(
        user=user,
        public_id=edited.public_id,
        marks={"Q1": 4, "Q2": 5.5, "P2": 7},
        special_mark=None,
        annotations=None,
    )
    page.on("dialog", lambda dialog: dialog.accept())
    browser_login(user)
    # The seed's way: replay with resets. The page says who it would leave harmonised.
    page.goto(f"/harmonisation/FRA-ECRIT/?replay={first.pk}")
    page.click("label[for=s0-action-reset]")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("replay-leftover").wait_for()
    assert "1 candidat(s)" in page.get_by_test_id("replay-leftover").inner_text()
    page.get_by_test_id("exact-undo-link").click()

    page.get_by_test_id("undo-original").wait_for()
    assert "Moins de 15" in page.get_by_test_id("undo-original").inner_text()
    page.get_by_test_id("undo-simulate").click()
    page.get_by_test_id("undo-summary").wait_for()
    assert "1 copie(s), - 2 point(s)" in page.get_by_test_id("undo-summary").inner_text()
    page.select_option("#reason-code", "scheme_error")
    page.fill("#reason-text", "Filtre trop large")
    page.screenshot(path=str(tmp_path / "undo.png"), full_page=True)
    page.get_by_test_id("execute").click()
    page.get_by_test_id("executed").wait_for()
    assert Harmonisation.objects.get(cancels=first).reason_code == "scheme_error"
    edited.refresh_from_db()
    assert edited.final_mark == edited.initial_mark

    page.goto("/harmonisation/FRA-ECRIT/historique/")
    assert "Annule l'harmonisation" in page.get_by_test_id("history-cancels").inner_text()
    assert (
        "Annulée par l'harmonisation" in page.get_by_test_id("history-cancelled-by").text_content()
    )
    assert (
        "Erreur de barème — Filtre trop large"
        in page.get_by_test_id("history-item").first.inner_text()
    )
    assert page.get_by_test_id("undo").count() == 0


def test_compare_two_versions_then_execute_b(page, browser_login, academy_world):
    """R-FAIR-4, R-FAIR-3: draft A kept, B edited, one view, B executed."""
    page.on("dialog", lambda dialog: dialog.accept())
    browser_login(academy_world["coordinator"])
    page.goto("/harmonisation/FRA-ECRIT/")
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("crossings").wait_for()
    assert page.get_by_test_id("crossing").count() == 5
    page.get_by_test_id("keep-a").click()
    assert page.get_by_test_id("compare-banner").is_visible()
    page.locator("summary.hm-scenario__title").first.click()
    page.fill("#s0-points", "2")
    page.get_by_test_id("compare").click()
    page.get_by_test_id("comparison").wait_for()
    assert (
        "1 candidat(s) auraient une note finale différente"
        in page.get_by_test_id("comparison-differ").inner_text()
    )
    assert page.locator("#comparison canvas.hm-chart").count() == 4
    page.get_by_test_id("execute-b").get_by_role("button").click()
    page.get_by_test_id("executed").wait_for()
    script = Script.objects.get(pk=academy_world["scripts"][0].pk)
    assert script.delta == 2
