"""Browser: a coordinator opens « Correcteurs » from the statistics, reads the chart and
the table, sees the flagged graders named and the proposal button; downloads the
procès-verbal (R-FAIR-1, R-FAIR-2, R-FAIR-6)."""

from pathlib import Path

import pypdfium2
import pytest

from harmonie.fairness.selectors import grader_severity
from harmonie.harmonisation.models import Harmonisation
from harmonie.referential.models import Exam
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_reads_grader_effects_and_downloads_the_minutes(
    page, browser_login, generated, tmp_path
):
    coordinator = generated["coordinator"]
    flagged = grader_severity(user=coordinator, exam=Exam.objects.get(code="FRA-ECRIT")).flagged
    assert flagged
    browser_login(coordinator)
    page.goto("/statistiques/FRA-ECRIT/")
    page.get_by_test_id("graders-link").click()
    page.wait_for_url("**/equite/FRA-ECRIT/correcteurs/")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('graders-chart'))"
    )
    table = page.get_by_test_id("graders-table")
    assert table.locator("caption").inner_text().startswith("Effets correcteurs")
    assert table.locator("tbody tr").count() == len(generated["academy_graders"])
    names = page.get_by_test_id("flagged-graders").inner_text()
    for row in flagged:
        assert row.name in names
        assert table.locator(f"tr[data-grader='{row.grader}'][data-flag='{row.flag}']").count() == 1
    # The chart names flagged graders under its axis, nobody else.
    ticks = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('graders-chart'));"
        " return c.scales.x.ticks.map(t => c.scales.x.options.ticks.callback(t.value, t.value))"
        ".filter(Boolean); }"
    )
    assert sorted(ticks) == sorted(row.name for row in flagged)
    button = page.get_by_test_id("proposal-button")
    assert button.inner_text() == "Proposer une harmonisation"
    assert button.get_attribute("href").startswith("/harmonisation/FRA-ECRIT/?draft=")
    page.screenshot(path=str(tmp_path / "graders.png"), full_page=True)

    # R-FAIR-2: the proposal loads into the editor, one scenario per flagged grader with
    # its grader chosen and the reason filled in; nothing is executed.
    flagged_to_act = [row for row in flagged if row.flag in ("lenient", "severe")]
    button.click()
    page.get_by_test_id("draft-notice").wait_for()
    assert page.get_by_test_id("scenario").count() == len(flagged_to_act)
    chosen = page.eval_on_selector_all(
        "select[name$='-graders'] option:checked", "options => options.map(o => o.value)"
    )
    assert sorted(chosen) == sorted(row.grader for row in flagged_to_act)
    page.get_by_test_id("simulate").click()
    page.get_by_test_id("simulation").wait_for()
    assert page.input_value("#reason-code") in ("grader_severity", "grader_leniency")
    assert not Harmonisation.objects.exists()
    page.go_back()
    page.wait_for_url("**/equite/FRA-ECRIT/correcteurs/")

    # Per part: the form keeps the choice and the tolerance follows the part.
    page.select_option("#graders-part", "P1")
    page.get_by_role("button", name="Estimer").click()
    page.wait_for_url("**part=P1**")
    assert "± 1 point(s)" in page.content()

    # The procès-verbal from the history page's form.
    page.goto("/harmonisation/FRA-ECRIT/historique/")
    with page.expect_download() as download_info:
        page.get_by_test_id("minutes-button").click()
    path = tmp_path / "pv.pdf"
    download_info.value.save_as(path)
    document = pypdfium2.PdfDocument(str(path))
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Procès-verbal de la commission d'harmonisation" in text


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(not AXE.exists(), reason="axe-core absent : `npm ci`")
def test_axe_finds_nothing_serious_on_the_graders_page(browser, live_server, generated):
    """RGAA: axe-core reports no serious or critical violation on « Correcteurs »
    (chart with its text alternative, table with caption and headers, labelled fields)."""
    # axe is injected by the test, which the page's strict CSP would refuse.
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto("/compte/connexion/")
        page.fill("#id_username", generated["coordinator"].username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        for url in ("/equite/FRA-ECRIT/correcteurs/", "/equite/FRA-ECRIT/correcteurs/?part=P2"):
            page.goto(url)
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".filter(v => ['serious', 'critical'].includes(v.impact))"
                ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
            )
            assert violations == [], url
    finally:
        context.close()
