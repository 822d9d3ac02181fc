"""Browser: the unit-harmonisation list (issue 13, items 1 and 8; R-UNIT-1, R-UNIT-3).

Each change of the filter form states the whole filter (never piled onto the current
address); every column sorts, special marks last both ways; previous page and « page n
sur m »; « harmonisé » and « conforme » filters; the export follows the page.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from harmonie.marking.models import Script
from tests.conftest import console_errors
from tests.factories import (
    CandidateFactory,
    DepartmentFactory,
    SchoolFactory,
    ScriptFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _demo_like(world) -> dict:
    """Departments 057 (3 scripts) and 088 (2 scripts) besides the world's ones (3)."""
    batch = world["locked_batch"]
    academy = world["academy"]
    made: dict = {}
    for code, marks in (
        ("057", [(2, 3, 3), (4, 4, 1), (1, 2, 5)]),
        ("088", [(3, 5, 1), (0, 1, 2)]),
    ):
        school = SchoolFactory(department=DepartmentFactory(code=code, academy=academy))
        made[code] = [
            ScriptFactory(
                batch=batch,
                candidate=CandidateFactory(school=school),
                marks={"Q1": q1, "Q2": q2, "P2": p2},
            )
            for q1, q2, p2 in marks
        ]
    return made


def _count(page) -> str:
    return page.get_by_test_id("script-count").inner_text()


def test_filters_state_the_whole_form_each_time(page, browser_login, academy_world):
    """Issue 13 item 1 (R-UNIT-3): choosing 057 then only 088 shows 088 alone, clearing
    shows all, min then max keeps both; the URL says the same filter."""
    errors = console_errors(page)
    _demo_like(academy_world)
    browser_login(academy_world["coordinator"])
    page.goto("/copies/epreuve/FRA-ECRIT/")
    expect(page.get_by_test_id("script-count")).to_have_text("8 copies")

    page.get_by_test_id("filter-departments").select_option("057")
    expect(page.get_by_test_id("script-count")).to_have_text("3 copies")
    assert "departments=057" in page.url

    page.get_by_test_id("filter-departments").select_option("088")
    expect(page.get_by_test_id("script-count")).to_have_text("2 copies")
    assert "departments=088" in page.url
    assert "057" not in page.url

    page.get_by_test_id("filter-departments").select_option([])
    expect(page.get_by_test_id("script-count")).to_have_text("8 copies")
    assert "departments" not in page.url

    page.get_by_test_id("mark-min").fill("8")
    page.get_by_test_id("mark-min").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"mark_min=8"))
    page.get_by_test_id("mark-max").fill("10")
    page.get_by_test_id("mark-max").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"(?=.*mark_min=8)(?=.*mark_max=10)"))
    # 057: 8, 9, 8; 088: 9, 3; the world's 14.5, 19 and the blank CB.
    expect(page.get_by_test_id("script-count")).to_have_text("4 copies")
    expect(page.get_by_test_id("filter-error")).to_have_count(0)
    assert page.url.count("mark_min") == 1

    # The address alone gives the same page (bookmark, reload).
    page.reload()
    expect(page.get_by_test_id("script-count")).to_have_text("4 copies")
    expect(page.get_by_test_id("mark-max")).to_have_value("10")
    assert errors == []


def test_every_column_sorts_pages_back_and_filters_yes_no(
    page, browser_login, academy_world, tmp_path
):
    """Issue 13 item 8 (R-UNIT-3, R-MASS-12): initial mark, harmonisation and batch sort
    too, special marks last both ways; « Page précédente » and « page n sur m »;
    « harmonisé » and « conforme » filters, followed by the export links; headers on one
    line."""
    errors = console_errors(page)
    world = academy_world
    made = _demo_like(world)
    raised = made["088"][1]  # 3 + 2 = 5
    Script.objects.filter(pk=raised.pk).update(
        delta=Decimal(2), final_mark=Decimal(5), is_harmonised=True
    )
    browser_login(world["coordinator"])
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/copies/epreuve/FRA-ECRIT/?limit=3")
    rows = page.get_by_test_id("script-row")
    expect(page.get_by_test_id("page-position")).to_have_text("Page 1 sur 3")
    expect(page.get_by_test_id("previous-page")).to_have_count(0)

    blank = world["scripts"][2]
    for key in ("initial_mark", "delta", "batch", "mark"):
        expect(page.get_by_test_id(f"sort-{key}")).to_be_visible()
    page.get_by_test_id("sort-delta").click()
    # The second click must land on the header the first one swapped in (a click on
    # the old one asks for the same ascending order again: CI, 2026-12-02).
    expect(page).to_have_url(re.compile(r"sort=delta"))
    expect(page.get_by_test_id("sort-delta")).to_contain_text("▲")
    page.get_by_test_id("sort-delta").click()
    expect(page).to_have_url(re.compile(r"sort=-delta"))
    expect(rows.first).to_have_attribute("data-id", raised.public_id)
    page.get_by_test_id("sort-initial_mark").click()
    expect(page).to_have_url(re.compile(r"sort=initial_mark"))
    expect(page.get_by_test_id("sort-initial_mark")).to_contain_text("▲")
    page.get_by_test_id("sort-initial_mark").click()
    expect(page).to_have_url(re.compile(r"sort=-initial_mark"))
    # Descending: 19 first … the blank script (CB) last, on page 3.
    expect(rows.first).to_have_attribute("data-id", world["scripts"][1].public_id)
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 2 sur 3")
    second_page = [rows.nth(i).get_attribute("data-id") for i in range(3)]
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 3 sur 3")
    expect(rows.last).to_have_attribute("data-id", blank.public_id)
    expect(page.get_by_test_id("next-page")).to_have_count(0)
    page.get_by_test_id("previous-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 2 sur 3")
    assert [rows.nth(i).get_attribute("data-id") for i in range(3)] == second_page
    page.get_by_test_id("previous-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 1 sur 3")
    assert "cursor" not in page.url
    page.get_by_test_id("sort-initial_mark").click()  # ascending: CB still last
    expect(page).to_have_url(re.compile(r"sort=initial_mark"))
    expect(page.get_by_test_id("sort-initial_mark")).to_contain_text("▲")
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 2 sur 3")
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 3 sur 3")
    expect(rows.last).to_have_attribute("data-id", blank.public_id)

    # Headers never break inside a word: one line each.
    heights = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=script-table] th')]"
        ".map(th => [th.textContent.trim(), th.scrollWidth <= th.clientWidth + 1])"
    )
    assert all(fits for _label, fits in heights), heights
    page.screenshot(path=str(tmp_path / "list-1400.png"), full_page=True)

    page.get_by_test_id("filter-harmonised").select_option("oui")
    expect(page.get_by_test_id("script-count")).to_have_text("1 copie")
    expect(rows.first).to_have_attribute("data-id", raised.public_id)
    assert "harmonised=oui" in page.url
    csv = page.get_by_test_id("export-csv").get_attribute("href")
    assert "harmonised=oui" in csv
    assert "sort=initial_mark" in csv
    page.get_by_test_id("filter-harmonised").select_option("")
    page.get_by_test_id("filter-conforming").select_option("non")
    # Raised by 2 without a spread: its leaves add up to 3, not 5.
    expect(page.get_by_test_id("script-count")).to_have_text("1 copie")
    # The count read « 1 copie » already (harmonised=oui): wait for the new address.
    expect(page).to_have_url(re.compile(r"conforming=non"))
    assert "harmonised" not in page.url
    assert "conforming=non" in page.get_by_test_id("export-xlsx").get_attribute("href")
    page.get_by_test_id("filter-conforming").select_option("oui")
    expect(page.get_by_test_id("script-count")).to_have_text("7 copies")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "list-390.png"), full_page=True)
    assert errors == []
