"""Browser: the script viewer (issue 13 item 6; R-UNIT-4, R-MASS-12, R-TRUST-1).

A mark over a leaf's maximum is flagged on its field at once and no total shows it;
decimal comma in the fields; after « Rendre conforme » both the grader's and the spread
leaf marks; the history is readable whole; annotations can be added by keyboard; in the
page area the arrow keys scroll the page and do not change the script.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from harmonie.marking.models import Script
from harmonie.referential.scans import scan_render
from tests.conftest import console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scanned(academy_world, settings, tmp_path):
    """academy_world with a scanned page on its first script."""
    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SCANS_ROOT.mkdir()
    (settings.SCANS_ROOT / "scan.pdf").write_bytes(
        scan_render(name="S-X", exam="FRA-ECRIT", seed=3)
    )
    first = academy_world["scripts"][0]
    Script.objects.filter(pk=first.pk).update(pages=["scan.pdf"])
    return academy_world


def test_over_maximum_is_flagged_at_once_and_comma_everywhere(page, browser_login, scanned):
    """Issue 13 item 6 (R-UNIT-4): Q1 is on 4; « 5 » puts its field in the DSFR error
    state with a French message, the totals show « — », saving sends nothing; « 2.5 »
    and « 2,5 » are both accepted and shown « 2,5 »."""
    errors = console_errors(page)
    first = scanned["scripts"][0]
    browser_login(scanned["coordinator"])
    page.goto(f"/copies/{first.public_id}/")
    expect(page.get_by_test_id("leaf-Q2")).to_have_value("4,5")  # marked 4.5
    expect(page.get_by_test_id("final-total")).to_have_text("14,5")

    page.get_by_test_id("leaf-Q1").fill("5")
    expect(page.locator("#group-Q1")).to_have_class(
        "fr-input-group mark-group fr-input-group--error"
    )
    expect(page.get_by_test_id("error-Q1")).to_have_text("La note dépasse le maximum de 4 pour Q1.")
    expect(page.get_by_test_id("error-Q1")).to_be_visible()
    expect(page.get_by_test_id("leaf-Q1")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("final-total")).to_have_text("—")
    expect(page.get_by_test_id("initial-total")).to_have_text("—")
    expect(page.get_by_test_id("total-hint")).to_be_visible()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-message")).to_contain_text("Correction non enregistrée")
    expect(page.get_by_test_id("leaf-Q1")).to_be_focused()
    assert Script.objects.get(pk=first.pk).version == first.version

    page.get_by_test_id("leaf-Q1").fill("2.5")
    page.get_by_test_id("leaf-Q1").press("Tab")
    expect(page.get_by_test_id("leaf-Q1")).to_have_value("2,5")
    expect(page.locator("#group-Q1")).not_to_have_class("fr-input-group--error")
    expect(page.get_by_test_id("error-Q1")).to_be_hidden()
    expect(page.get_by_test_id("final-total")).to_have_text("14")
    page.get_by_test_id("leaf-Q2").fill("5,5")
    expect(page.get_by_test_id("final-total")).to_have_text("15")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-message")).to_contain_text("Correction enregistrée")
    expect(page.get_by_test_id("leaf-Q1")).to_have_value("2,5")
    assert Script.objects.get(pk=first.pk).marks == {"Q1": 2.5, "Q2": 5.5, "P2": 7}
    # The history says who and when in full (a list, not a cut-off table).
    row = page.get_by_test_id("history-row").first
    text = row.inner_text()
    assert scanned["coordinator"].get_full_name() in text
    assert "Version 2" in text
    box = row.bounding_box()
    editor = page.locator(".viewer-editor").bounding_box()
    assert box["x"] + box["width"] <= editor["x"] + editor["width"] + 1
    # « D'où vient cette note ? » is still loaded by htmx, after the save too.
    expect(page.get_by_test_id("explanation-block")).not_to_contain_text("Chargement")
    assert errors == []


def test_viewer_shows_the_spread_leaves_after_conformity(page, browser_login, scanned, tmp_path):
    """Issue 13 item 6, R-MASS-12: after « Rendre conforme » the viewer shows the
    grader's leaf marks and the spread ones side by side."""
    first = scanned["scripts"][0]
    Script.objects.filter(pk=first.pk).update(
        delta=Decimal(1),
        final_mark=Decimal("15.5"),
        is_harmonised=True,
        final_marks={"Q1": 3.5, "Q2": 4.5, "P2": 7.5},
    )
    browser_login(scanned["coordinator"])
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"/copies/{first.public_id}/")
    expect(page.get_by_test_id("conformity-note")).to_be_visible()
    expect(page.get_by_test_id("leaf-Q1")).to_have_value("3")
    expect(page.get_by_test_id("spread-Q1")).to_have_text("3,5")
    expect(page.get_by_test_id("spread-P1")).to_have_text("8")
    expect(page.get_by_test_id("spread-P2")).to_have_text("7,5")
    expect(page.get_by_test_id("spread-total")).to_have_text("15,5")
    expect(page.get_by_test_id("final-total")).to_have_text("15,5")
    page.screenshot(path=str(tmp_path / "viewer-1400.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "viewer-390.png"), full_page=True)


def test_annotation_by_keyboard_and_arrows_scroll_the_page(page, browser_login, scanned):
    """Issue 13 item 6 (R-UNIT-4): an annotation is placed without the mouse (type,
    position, text, « Ajouter »); in the page area the arrows scroll the page and the
    script stays; outside it, j / → still open the next script."""
    errors = console_errors(page)
    first, second = scanned["scripts"][0], scanned["scripts"][1]
    browser_login(scanned["coordinator"])
    page.goto(f"/copies/{first.public_id}/?sort=mark")
    expect(page.locator("#page-image")).to_be_visible()

    page.get_by_test_id("kb-kind").select_option("comment")
    page.get_by_test_id("kb-x").fill("30")
    page.get_by_test_id("kb-y").fill("40")
    page.get_by_test_id("kb-text").fill("Bonne introduction")
    page.get_by_test_id("kb-text").press("Enter")
    expect(page.get_by_test_id("annotation-comment")).to_have_text("Bonne introduction")
    expect(page.locator("#viewer-status")).to_contain_text("ajouté page 1 à 30 %")
    page.get_by_test_id("kb-kind").select_option("tick")
    page.get_by_test_id("kb-add").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("annotation-tick")).to_have_count(1)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-message")).to_contain_text("Correction enregistrée")
    kinds = {a["kind"]: a for a in Script.objects.get(pk=first.pk).annotations}
    assert kinds["comment"]["text"] == "Bonne introduction"
    assert (kinds["comment"]["x"], kinds["comment"]["y"]) == (0.3, 0.4)
    assert (kinds["tick"]["x"], kinds["tick"]["y"]) == (0.3, 0.4)  # the fields kept

    # Zoomed in, the page is larger than its area: arrows scroll it.
    page.locator("body").press("+")
    page.locator("body").press("+")
    area = page.get_by_test_id("viewer-scroll")
    area.focus()
    before = area.evaluate("(node) => [node.scrollLeft, node.scrollTop]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)
    after = area.evaluate("(node) => [node.scrollLeft, node.scrollTop]")
    assert after[0] > before[0]
    assert after[1] > before[1]
    expect(page.locator("h1")).to_have_text(f"Copie {first.public_id}")
    # Outside the page area the shortcut still opens the next script (mark order: 14,5 → 19).
    page.locator("h1").click()
    page.locator("body").press("j")
    expect(page.locator("h1")).to_have_text(f"Copie {second.public_id}")
    assert errors == []
