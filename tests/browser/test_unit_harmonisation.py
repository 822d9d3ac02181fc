"""Browser: a coordinator harmonises one script (R-UNIT-1, R-UNIT-3, R-UNIT-4).

Opens the list, filters, sorts, opens a script, changes a leaf mark and an annotation,
saves, and sees the new mark in the list and in the history.
"""

import pytest
from playwright.sync_api import expect

from harmonie.marking.models import Script
from harmonie.referential.scans import scan_render
from tests.factories import CandidateFactory, ScriptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_edits_a_script_from_the_list(
    page, browser_login, academy_world, settings, tmp_path
):
    world = academy_world
    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SCANS_ROOT.mkdir()
    (settings.SCANS_ROOT / "scan.pdf").write_bytes(
        scan_render(name="S-X", exam="FRA-ECRIT", seed=3)
    )
    first, second = world["scripts"][0], world["scripts"][1]
    # A second script in the same school as `first`, with a lower mark.
    low = ScriptFactory(
        batch=world["locked_batch"],
        candidate=CandidateFactory(school=first.school),
        marks={"Q1": 1, "Q2": 1, "P2": 1},
    )
    Script.objects.filter(pk=first.pk).update(pages=["scan.pdf"])

    browser_login(world["coordinator"])
    page.goto("/copies/epreuve/FRA-ECRIT/")
    rows = page.get_by_test_id("script-row")
    expect(rows).to_have_count(4)

    page.get_by_test_id("filter-schools").select_option(first.school.uai)
    expect(rows).to_have_count(2)
    assert f"schools={first.school.uai}" in page.url  # kept in the URL (bookmarkable)
    assert second.public_id not in page.get_by_test_id("script-table").inner_text()

    page.get_by_test_id("sort-mark").click()
    expect(rows.first).to_have_attribute("data-id", low.public_id)
    page.get_by_test_id("sort-mark").click()
    expect(rows.first).to_have_attribute("data-id", first.public_id)
    assert "sort=-mark" in page.url

    page.get_by_test_id(f"open-{first.public_id}").click()
    expect(page.locator("h1")).to_have_text(f"Copie {first.public_id}")
    expect(page.get_by_test_id("final-total")).to_have_text("14,5")
    # Next in the list order (-mark within the school) is the low script.
    expect(page.get_by_test_id("next-script")).to_have_attribute(
        "href", f"/copies/{low.public_id}/?schools={first.school.uai}&sort=-mark"
    )

    page.get_by_test_id("leaf-P2").fill("9")
    expect(page.get_by_test_id("initial-total")).to_have_text("16,5")
    page.get_by_test_id("leaf-Q1").fill("4.2")
    expect(page.get_by_test_id("leaf-Q1")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("leaf-Q1").fill("3")

    page.get_by_test_id("tool-tick").check()
    image = page.locator("#page-image")
    expect(image).to_be_visible()
    box = image.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.25)
    expect(page.get_by_test_id("annotation-tick")).to_have_count(1)
    page.get_by_test_id("tool-comment").check()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.get_by_test_id("comment-text").fill("Argument bien mené")
    page.get_by_test_id("appreciation").fill("Copie solide, bien construite.")

    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-message")).to_contain_text("Correction enregistrée")
    expect(page.get_by_test_id("final-total")).to_have_text("16,5")
    history = page.get_by_test_id("history-row")
    expect(history).to_have_count(2)
    assert "Correction initiale" in history.nth(1).inner_text()
    assert world["coordinator"].get_full_name() in history.nth(0).inner_text()
    expect(page.get_by_test_id("annotation-comment")).to_have_text("Argument bien mené")

    page.get_by_test_id("back").click()
    expect(page.get_by_test_id(f"final-{first.public_id}")).to_have_text("16,5")

    script = Script.objects.get(pk=first.pk)
    assert script.marks == {"Q1": 3, "Q2": 4.5, "P2": 9}
    assert {a["kind"] for a in script.annotations} == {"tick", "comment", "appreciation"}
    page.screenshot(path=str(tmp_path / "unit-list.png"), full_page=True)


def test_keyboard_goes_to_next_script(page, browser_login, academy_world):
    """Viewer: → / j opens the next script in the list order."""
    world = academy_world
    first, second = world["scripts"][0], world["scripts"][1]
    browser_login(world["coordinator"])
    page.goto(f"/copies/{second.public_id}/?sort=-mark")
    page.locator("body").press("ArrowRight")
    expect(page.locator("h1")).to_have_text(f"Copie {first.public_id}")
    page.locator("body").press("k")
    expect(page.locator("h1")).to_have_text(f"Copie {second.public_id}")
