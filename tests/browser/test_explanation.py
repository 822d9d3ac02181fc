"""Browser: a coordinator reads « D'où vient cette note ? » in the viewer of a harmonised
script, sees it follow his own edit, and exports the list with the explanation column
(R-TRUST-1, R-UNIT-4)."""

import csv

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from harmonie.harmonisation.services import harmonisation_execute, simulation_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_viewer_explains_the_mark_and_the_export_carries_it(
    page, browser_login, academy_world, tmp_path
):
    world = academy_world
    coordinator = world["coordinator"]
    coordinator.first_name, coordinator.last_name = "Sabrina", "Antonioli"
    coordinator.save()
    grader = world["locked_batch"].grader
    grader.first_name, grader.last_name = "Marc", "Dupont"
    grader.save()
    simulation = simulation_create(
        user=coordinator,
        exam_code="FRA-ECRIT",
        scenarios=[{"filter": {"mark_min": 14}, "action": {"type": "raise", "points": 1}}],
    )
    harmonisation = harmonisation_execute(
        user=coordinator, exam_code="FRA-ECRIT", simulation_id=simulation.pk, name="Relève"
    )
    day = timezone.localtime(harmonisation.executed_at).strftime("%d/%m")
    script = world["scripts"][0]  # 14.5, raised to 15.5
    raised = f"+ 1 (harmonisation « Relève » du {day} par S. Antonioli, scénario 1 : note ≥ 14)"

    browser_login(coordinator)
    page.goto(f"/copies/{script.public_id}/")
    block = page.get_by_test_id("explanation")
    expect(block.get_by_role("heading", name="D'où vient cette note ?")).to_be_visible()
    sentence = page.get_by_test_id("explanation-text")
    expect(sentence).to_have_text(
        f"15,5 = 14,5 (copie corrigée par M. Dupont) {raised} ; parties pas encore mises en "
        "conformité avec la note finale"
    )
    steps = page.get_by_test_id("explanation-step")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_contain_text("Harmonisation : + 1")
    expect(steps.nth(1)).to_contain_text("Note min. : 14")

    # The coordinator edits the marking: after the save the block explains the new mark.
    page.get_by_test_id("leaf-P2").fill("8")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-message")).to_contain_text("Correction enregistrée")
    today = timezone.localtime().strftime("%d/%m")
    expect(sentence).to_have_text(
        f"16,5 = 15,5 (copie corrigée par M. Dupont, modifiée par S. Antonioli le {today}) "
        f"{raised} ; parties pas encore mises en conformité avec la note finale"
    )
    expect(steps).to_have_count(4)
    expect(steps.nth(1)).to_contain_text("Note avant la modification : 14,5")

    # The list's export follows its sort and carries the explanation column.
    page.goto("/copies/epreuve/FRA-ECRIT/?sort=-mark")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "copies-FRA-ECRIT.csv"
    path = tmp_path / "copies.csv"
    download.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0][-1] == "Explication de la note"
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[script.public_id][1] == "16,5"
    assert by_id[script.public_id][-1].startswith("16,5 = 15,5 (copie corrigée par M. Dupont")
    assert raised in by_id[script.public_id][-1]
    # Sorted like the page: 20 (19 + 1) first, special marks last in both directions
    # (issue 13 item 8).
    assert [row[4] for row in rows[1:]] == ["", "", "CB"]
    assert [row[1] for row in rows[1:3]] == ["20", "16,5"]
