"""Browser: a coordinator opens the statistics from the dashboard, filters, exports
(R-MASS-13, R-UNIT-5, R-MASS-7)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_reads_filters_and_exports_statistics(
    page, browser_login, academy_world, tmp_path
):
    browser_login(academy_world["coordinator"])
    page.get_by_test_id("exam-FRA-ECRIT").get_by_role("link", name="Statistiques").click()
    page.wait_for_url("**/statistiques/FRA-ECRIT/")
    assert page.get_by_test_id("stats-count").inner_text() == "3"
    # Charts drawn by Chart.js, each with its table (R-MASS-13).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => window.Chart && Chart.getChart(c))"
    )
    assert page.locator("canvas[data-chart]").count() == 4
    assert page.get_by_test_id("table-repartition").locator("tbody tr").count() == 41

    # Filter through htmx: only the results part is refreshed, the URL keeps the filter.
    page.click("label[for=filter-locked_only]")
    page.fill("#filter-mark_min", "10")
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**locked_only=1**")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stats-count]').textContent === '2'"
    )
    assert "mark_min=10" in page.url
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"
    )

    # Exports carry the filter.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-etablissements-csv").click()
    path = tmp_path / "etablissements.csv"
    download_info.value.save_as(path)
    text = path.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "UAI;Établissement;Copies;Moyenne;Écart type"
    assert sum(int(line.split(";")[2]) for line in text.splitlines()[1:]) == 2
    page.screenshot(path=str(tmp_path / "statistics.png"), full_page=True)

    # Back to the dashboard through the breadcrumb (R-ACC-2).
    page.locator(".fr-breadcrumb__link").first.click()
    page.wait_for_url("**/")


def test_scenario_filter_link_opens_filtered_statistics(page, browser_login, academy_world):
    """R-MASS-7: a link with the filter object's keys opens the page filtered."""
    script = academy_world["scripts"][0]
    browser_login(academy_world["coordinator"])
    page.goto(f"/statistiques/FRA-ECRIT/?schools={script.school.uai}&mark_max=15")
    assert page.get_by_test_id("stats-count").inner_text() == "1"
    assert page.locator("#filter-schools option:checked").get_attribute("value") == (
        script.school.uai
    )
