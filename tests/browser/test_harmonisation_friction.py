"""Browser (issue 13, items 2, 3, 9, 10, 14): a coordinator's mass harmonisation without
friction. An expired session inside htmx sends him to the login page and back to his
draft; a double click executes once and the success stays; folded scenarios say what they
do; long lists are searchable by keyboard; the conformity page lists what it will change
and asks first; statistics tables scroll by keyboard; BEFORE / AFTER on one chart.
Every page here is checked by axe-core (no serious or critical violation) and the console
stays clean."""

from pathlib import Path

import pytest
from django.contrib.sessions.models import Session

from harmonie.harmonisation.models import Harmonisation
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from tests.conftest import console_errors
from tests.factories import PASSWORD, BatchFactory, ScriptFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
EDITOR = "/harmonisation/FRA-ECRIT/"


@pytest.fixture
def watched(page):
    """The page with axe-core loaded (init script, outside the CSP) and its console errors."""
    page.context.add_init_script(path=str(AXE))
    page.on("dialog", lambda dialog: dialog.accept())
    page.errors = console_errors(page)
    return page


def _axe(page) -> list[str]:
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => v.impact + " " + v.id + ": " + v.nodes.slice(0, 3)
                   .map(n => n.target.join(" ")).join(" | "));
        }"""
    )


def _clean(page) -> None:
    assert _axe(page) == []
    assert page.errors == []


@pytest.fixture
def many_batches(academy_world):
    """Twelve more locked batches (one script each): enough for the search field."""
    for _ in range(12):
        ScriptFactory(
            batch=BatchFactory(exam=academy_world["exam"], academy=academy_world["academy"]),
            marks={"Q1": 2, "Q2": 3, "P2": 4},
        )
    return academy_world


def _choose(page, select_id: str, value: str) -> None:
    """Check a value in the searchable list by its checkbox, then wait for htmx."""
    option = page.locator(f"#{select_id} option[value='{value}']")
    index = option.evaluate("o => o.index")
    page.click(f"label[for='{select_id}-opt-{index}']")
    page.wait_for_function(
        f"() => document.querySelector(\"#{select_id} option[value='{value}']\").selected"
        " && !document.querySelector('.htmx-request')"
    )


def test_expired_session_in_htmx_goes_to_login_and_back_to_the_draft(
    watched, browser_login, many_batches
):
    """Issue 13 item 2 (R-MASS-5, R-MASS-7): the login page is never swapped into a
    scenario; after signing in again the editor shows the same scenarios."""
    page = watched
    browser_login(many_batches["coordinator"])
    page.goto(EDITOR)
    batch = many_batches["locked_batch"].code
    _choose(page, "s0-batches", batch)
    page.fill("#s0-mark_max", "10")
    page.fill("#s0-points", "2")
    page.get_by_test_id("add-scenario").click()
    page.click("label[for=s1-action-lower]")
    page.fill("#s1-points", "0.5")

    Session.objects.all().delete()  # the session expires on the server
    page.get_by_test_id("population-button").first.click()
    page.wait_for_url("**/compte/connexion/?next=**")
    assert "next=%2Fharmonisation%2FFRA-ECRIT%2F" in page.url
    page.fill("#id_username", many_batches["coordinator"].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/harmonisation/FRA-ECRIT/")

    page.get_by_test_id("draft-restored").wait_for()
    assert page.get_by_test_id("scenario").count() == 2
    assert page.input_value("#s0-mark_max") == "10"
    assert page.input_value("#s0-points") == "2"
    assert page.is_checked("#s1-action-lower")
    assert page.input_value("#s1-points") == "0.5"
    page.wait_for_function(
        f"() => document.querySelector(\"#s0-batches option[value='{batch}']\").selected"
        " && !document.querySelector('.htmx-request')"
    )
    assert page.locator("#s0-batches-chosen .fr-tag").all_inner_texts() == [
        page.locator(f"#s0-batches option[value='{batch}']").inner_text().rsplit(" (", 1)[0]
    ]
    # The same draft simulates and executes; then it is forgotten.
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("execute").click()
    page.get_by_test_id("executed").wait_for()
    page.goto(EDITOR)
    assert page.get_by_test_id("draft-restored").is_hidden()
    assert page.get_by_test_id("scenario").count() == 1
    assert page.errors == []


def test_expired_session_on_a_linked_choice(watched, browser_login, many_batches):
    """Issue 13 item 2: a change of a linked list (R-MASS-5) with the session gone."""
    page = watched
    browser_login(many_batches["coordinator"])
    page.goto(EDITOR)
    page.fill("#s0-mark_min", "4")
    Session.objects.all().delete()
    option = page.locator("#s0-batches option").first
    index = option.evaluate("o => o.index")
    page.click(f"label[for='s0-batches-opt-{index}']")
    page.wait_for_url("**/compte/connexion/?next=**")
    assert page.locator("#scenarios").count() == 0  # a whole page, not a fragment
    page.fill("#id_username", many_batches["coordinator"].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/harmonisation/FRA-ECRIT/")
    page.get_by_test_id("draft-restored").wait_for()
    assert page.input_value("#s0-mark_min") == "4"
    value = option.get_attribute("value")
    page.wait_for_function(
        f"() => document.querySelector(\"#s0-batches option[value='{value}']\").selected"
    )


def _count_executions(page) -> list[str]:
    posts: list[str] = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and request.url.endswith("/execution/")
            else None
        ),
    )
    return posts


def _assert_success_stays(page, posts) -> None:
    page.get_by_test_id("executed").wait_for()
    page.wait_for_timeout(800)  # a second answer would have arrived by now
    assert len(posts) == 1
    assert page.get_by_test_id("executed").is_visible()
    assert page.locator("#execution [data-testid=error]").count() == 0


def test_double_click_executes_once_and_keeps_the_success(watched, browser_login, academy_world):
    """Issue 13 item 3 (R-MASS-9): editor, exact undo page (R-MASS-14), comparison (R-FAIR-4)."""
    page = watched
    user = academy_world["coordinator"]
    browser_login(user)
    page.goto(EDITOR)
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("execute").wait_for()
    posts = _count_executions(page)
    page.get_by_test_id("execute").dblclick()
    _assert_success_stays(page, posts)
    first = Harmonisation.objects.get()

    page.goto(f"/harmonisation/FRA-ECRIT/historique/{first.pk}/annulation/")
    page.get_by_test_id("undo-simulate").click()
    page.get_by_test_id("execute").wait_for()
    posts = _count_executions(page)
    page.get_by_test_id("execute").dblclick()
    _assert_success_stays(page, posts)
    assert Harmonisation.objects.filter(cancels=first).count() == 1
    _clean(page)

    page.goto(EDITOR)
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("keep-a").click()
    page.locator("summary.hm-scenario__title").first.click()
    page.fill("#s0-points", "2")
    page.get_by_test_id("compare").click()
    page.get_by_test_id("comparison").wait_for()
    _clean(page)
    posts = _count_executions(page)
    page.get_by_test_id("execute-b").get_by_role("button").dblclick()
    _assert_success_stays(page, posts)
    assert Harmonisation.objects.count() == 3
    _clean(page)


@pytest.mark.parametrize("width", [1400, 1024, 768, 390])
def test_editor_summary_selection_and_bounds(watched, browser_login, many_batches, width, tmp_path):
    """Issue 13 item 9 (R-MASS-5, R-MASS-7): searchable list by keyboard, chosen values
    stand out, Min./Max. inside the box, a folded scenario's one-line summary."""
    page = watched
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(many_batches["coordinator"])
    page.goto(EDITOR)
    # Min. / Max. stay inside the scenario's box.
    box = page.locator(".hm-scenario").first.bounding_box()
    for field in ("#s0-mark_min", "#s0-mark_max"):
        inner = page.locator(field).bounding_box()
        assert inner["x"] >= box["x"]
        assert inner["x"] + inner["width"] <= box["x"] + box["width"]
    # Nothing of the scenario (lists, search fields, buttons) sticks out of its box.
    outside = page.evaluate(
        """() => {
            const box = document.querySelector('.hm-scenario').getBoundingClientRect();
            return [...document.querySelectorAll('.hm-scenario *')]
              // A DSFR legend's box spans its fieldset's negative margins, not its text.
              .filter(el => el.tagName !== 'LEGEND')
              .filter(el => el.getClientRects().length && !el.closest('[hidden]'))
              .filter(el => el.getBoundingClientRect().right > box.right + 0.5)
              .map(el => el.tagName + '.' + el.className);
        }"""
    )
    assert outside == []

    # Keyboard only: the search field, type, ↓ to the list, Space to check.
    batch = many_batches["locked_batch"].code
    page.focus("#s0-batches-search")
    page.keyboard.type(batch[-4:])
    assert "correspondent à la recherche" in page.inner_text("#s0-batches-status")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("s0-batches-opt-")
    page.keyboard.press("Space")
    page.wait_for_function(
        f"() => document.querySelector(\"#s0-batches option[value='{batch}']\").selected"
        " && !document.querySelector('.htmx-request')"
    )
    # The block was re-rendered by htmx (linked choices): focus and search are kept.
    assert page.evaluate("document.activeElement.id") == focused
    assert page.input_value("#s0-batches-search") == batch[-4:]
    tag = page.locator("#s0-batches-chosen .fr-tag")
    assert tag.count() == 1
    # A chosen value stands out: filled blue France, not pale grey.
    assert tag.evaluate("t => getComputedStyle(t).backgroundColor") == "rgb(0, 0, 145)"

    page.fill("#s0-mark_max", "10")
    page.fill("#s0-points", "2")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("simulation").wait_for()
    scenario = page.get_by_test_id("scenario").first
    assert scenario.evaluate("d => d.open") is False
    summary = page.get_by_test_id("scenario-summary").first.inner_text()
    assert "note ≤ 10" in summary
    assert "+ 2" in summary
    assert batch in summary
    page.screenshot(path=str(tmp_path / f"editor-{width}.png"), full_page=True)
    _clean(page)

    # Removing the value by its tag, by keyboard.
    page.locator("summary.hm-scenario__title").first.click()
    page.locator("#s0-batches-chosen .fr-tag").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        # With « note ≤ 10 » that batch may leave the linked choices (R-MASS-5).
        f"() => (o => !o || !o.selected)(document.querySelector(\"#s0-batches option[value='{batch}']\"))"
        " && !document.querySelector('.htmx-request')"
    )
    assert page.locator("#s0-batches-chosen .fr-tag").count() == 0


def test_renumbered_scenarios_keep_their_lists(watched, browser_login, many_batches):
    """Issue 13 item 9 with R-MASS-7: a scenario moved up keeps its widget's ids in step."""
    page = watched
    browser_login(many_batches["coordinator"])
    page.goto(EDITOR)
    page.get_by_test_id("add-scenario").click()
    batch = many_batches["locked_batch"].code
    _choose(page, "s1-batches", batch)
    page.locator(".hm-scenario").nth(1).locator("[data-action=up]").click()
    assert page.locator("#s0-batches-search").count() == 1
    assert page.evaluate(
        f"() => document.querySelector(\"#s0-batches option[value='{batch}']\").selected"
    )
    assert page.locator("#s0-batches-chosen .fr-tag").count() == 1
    assert page.locator("label[for=s0-batches-search]").count() == 1
    assert page.locator("[aria-controls^=s1-batches]").count() == 1
    _clean(page)


@pytest.mark.parametrize("width", [1400, 390])
def test_conformity_lists_confirms_and_reports(
    watched, browser_login, academy_world, width, tmp_path
):
    """Issue 13 item 10 (R-MASS-12, R-UNIT-2)."""
    page = watched
    page.set_viewport_size({"width": width, "height": 900})
    user = academy_world["coordinator"]
    simulation = simulation_create(
        user=user, exam_code="FRA-ECRIT", scenarios=[{"action": {"type": "raise", "points": 1}}]
    )
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    browser_login(user)
    page.goto("/harmonisation/FRA-ECRIT/conformite/")
    rows = page.get_by_test_id("conformity-row")
    assert rows.count() == 2
    raised = sorted(script.public_id for script in academy_world["scripts"][:2])
    assert [rows.nth(i).locator("a").inner_text() for i in range(2)] == raised
    assert "+ 1" in rows.first.inner_text()
    page.screenshot(path=str(tmp_path / f"conformity-{width}.png"), full_page=True)
    _clean(page)
    # The list links to the viewer.
    rows.first.locator("a").click()
    page.wait_for_url(f"**/copies/{raised[0]}/")
    page.go_back()

    page.get_by_test_id("make-conforming").click()
    page.get_by_test_id("conformity-confirm").wait_for()
    assert Script.objects.filter(final_marks__isnull=False).count() == 0  # nothing yet
    _clean(page)
    page.get_by_test_id("cancel-conforming").click()
    assert page.get_by_test_id("conformity-confirm").count() == 0
    page.get_by_test_id("make-conforming").click()
    page.get_by_test_id("confirm-conforming").click()
    page.wait_for_url("**/conformite/")
    assert "2 copie(s) rendue(s) conforme(s)" in page.content()
    assert "conforme" in page.get_by_test_id("conformity-state").inner_text()
    assert page.get_by_test_id("make-conforming").count() == 0
    assert page.get_by_test_id("conformity-list").count() == 0
    assert Script.objects.filter(final_marks__isnull=False).count() == 2
    _clean(page)


@pytest.mark.parametrize("width", [1400, 390])
def test_statistics_tables_by_keyboard(watched, browser_login, academy_world, width, tmp_path):
    """Issue 13 item 14 (R-MASS-13): the scrolling tables take the focus and scroll."""
    page = watched
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(academy_world["coordinator"])
    page.goto("/statistiques/FRA-ECRIT/")
    region = page.get_by_test_id("table-repartition")
    assert region.get_attribute("tabindex") == "0"
    assert region.get_attribute("aria-label")
    # Tab reaches it; ↓ scrolls it.
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "table-repartition":
            break
    assert page.evaluate("document.activeElement.dataset.testid") == "table-repartition"
    page.keyboard.press("End")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=table-repartition]').scrollTop > 0"
    )
    page.screenshot(path=str(tmp_path / f"statistics-{width}.png"), full_page=True)
    _clean(page)


@pytest.mark.parametrize("width", [1400, 390])
def test_simulation_before_and_after_on_one_chart(
    watched, browser_login, academy_world, width, tmp_path
):
    """Issue 13 item 14 (R-MASS-8): BEFORE and AFTER on one chart, same scale as the two."""
    page = watched
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(academy_world["coordinator"])
    page.goto(EDITOR)
    page.fill("#s0-points", "1")
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("chart-both").wait_for()
    page.wait_for_function(
        "() => ['chart-both', 'chart-before', 'chart-after'].every("
        "id => Chart.getChart(document.querySelector(`[data-testid=${id}]`)))"
    )
    charts = page.evaluate(
        """() => ['chart-both', 'chart-before', 'chart-after'].map(id => {
            const chart = Chart.getChart(document.querySelector(`[data-testid=${id}]`));
            return {labels: chart.data.datasets.map(d => d.label), max: chart.scales.y.max};
        })"""
    )
    assert charts[0]["labels"] == ["Avant", "Après"]
    assert charts[1]["labels"] == ["Avant"]
    assert charts[2]["labels"] == ["Après"]
    assert charts[0]["max"] == charts[1]["max"] == charts[2]["max"]
    page.screenshot(path=str(tmp_path / f"simulation-{width}.png"), full_page=True)
    _clean(page)
