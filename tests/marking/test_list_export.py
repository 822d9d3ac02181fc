"""The export of the unit-harmonisation list (R-UNIT-3, R-TRUST-1, R-UNIT-2): the list as
filtered and sorted on the page, anonymous, with the explanation of every final mark;
CSV for French spreadsheets, XLSX with numbers, every text cell neutralised."""

import csv
import html
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from harmonie.explanation.exports import EXPLANATION_HEADER, HEADERS
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from harmonie.marking.population import population_cache_clear
from harmonie.marking.services import script_marking_update
from tests.conftest import login_client
from tests.factories import ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/copies/epreuve/FRA-ECRIT/export"


@pytest.fixture(autouse=True)
def _fresh_population_cache():
    """Test databases reuse ids after a rollback: never serve another test's arrays."""
    population_cache_clear()
    yield
    population_cache_clear()


@pytest.fixture
def harmonised(academy_world):
    """The list of academy_world after a unit edit and « Relève » (+1 above 14)."""
    world = academy_world
    user = world["coordinator"]
    user.last_name = "Antonioli"
    user.save()
    grader = world["locked_batch"].grader
    grader.first_name, grader.last_name = "Marc", "Dupont"
    grader.save()
    script_marking_update(
        user=user,
        public_id=world["scripts"][1].public_id,
        marks={"Q1": 4, "Q2": 6, "P2": 9.5},
        special_mark=None,
        annotations=None,
    )
    simulation = simulation_create(
        user=user,
        exam_code="FRA-ECRIT",
        scenarios=[{"filter": {"mark_min": 14}, "action": {"type": "raise", "points": 1}}],
    )
    world["harmonisation"] = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, name="Relève"
    )
    return world


def _csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_csv_exports_the_filtered_sorted_list_with_explanations(harmonised):
    """R-TRUST-1, R-UNIT-3: same filter and sort as the page, French headers, `;`,
    decimal comma, the explanation column; only locked batches; no candidate (R-UNIT-2)."""
    world = harmonised
    client = login_client(world["coordinator"])
    response = client.get(f"{URL}.csv?sort=-mark&mark_min=10")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="copies-FRA-ECRIT.csv"'
    rows = _csv(response)
    assert tuple(rows[0]) == HEADERS
    assert rows[0][-1] == EXPLANATION_HEADER == "Explication de la note"
    first, second = world["scripts"][1], world["scripts"][0]
    # 20 (19.5 + 1, clamped) before 15.5 (14.5 + 1); the CB and the unlocked script are out.
    assert [row[0] for row in rows[1:]] == [first.public_id, second.public_id]
    top = rows[1]
    assert top[1:5] == ["20", "19,5", "1", ""]
    assert top[-1].startswith("20 = 19,5 (copie corrigée par M. Dupont, modifiée par ")
    assert ", modifiée par S. Antonioli le " in top[-1]
    assert "+ 1 (harmonisation « Relève » du " in top[-1]
    assert "scénario 1 : note ≥ 14)" in top[-1]
    assert "\u2212 0,5 (note ramenée au maximum de 20)" in top[-1]
    assert rows[2][1:4] == ["15,5", "14,5", "1"]
    text = response.content.decode("utf-8")
    for script in Script.objects.all():
        assert script.candidate.number not in text

    everyone = _csv(client.get(f"{URL}.csv"))
    assert len(everyone) == 1 + 3  # the three scripts of the locked batch, by id
    blank = next(row for row in everyone if row[4] == "CB")
    assert blank[1] == ""
    assert blank[-1].startswith("CB (copie blanche) : note particulière")


def test_xlsx_keeps_numbers_and_describes_the_filter(harmonised):
    """R-TRUST-1: the XLSX has numbers as numbers, the explanation text, and a sheet
    naming the exam, the filter and the sort."""
    client = login_client(harmonised["coordinator"])
    response = client.get(f"{URL}.xlsx?sort=-mark&mark_min=10")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Copies"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert rows[1][1:4] == (20, 19.5, 1)
    assert rows[1][-1].startswith("20 = 19,5 (copie corrigée par ")
    about = dict(workbook["Filtre"].iter_rows(values_only=True))
    assert about["Épreuve"].startswith("FRA-ECRIT")
    assert about["Note min."] == "10"
    assert about["Tri"] == "note finale, décroissant"
    assert about["Copies"] == "2"


def test_text_cells_are_neutralised(harmonised):
    """R-TRUST-1 export, OWASP CSV injection: a text that a spreadsheet would evaluate is
    quoted, in CSV and XLSX."""
    world = harmonised
    grader = world["locked_batch"].grader
    grader.first_name, grader.last_name = '=HYPERLINK("http://x")', "Dupont"
    grader.save()
    client = login_client(world["coordinator"])
    rows = _csv(client.get(f"{URL}.csv"))
    graders = {row[7] for row in rows[1:]}
    assert graders == {'\'=HYPERLINK("http://x") Dupont'}
    workbook = load_workbook(io.BytesIO(client.get(f"{URL}.xlsx?q=-0").content))
    cells = [row[7] for row in workbook["Copies"].iter_rows(min_row=2, values_only=True)]
    assert cells
    assert all(cell.startswith("'=") for cell in cells)
    assert dict(workbook["Filtre"].iter_rows(values_only=True))["Recherche"] == "'-0"


def test_bad_input_and_access(harmonised):
    """R-UNIT-3 bad input: a French message and no file; unknown format 404; a grader is
    refused (R-ACC-1)."""
    client = login_client(harmonised["coordinator"])
    refused = client.get(f"{URL}.csv?mark_min=abc")
    assert refused.status_code == 400
    assert "n'est pas une note" in html.unescape(refused.content.decode())
    assert client.get(f"{URL}.csv?sort=nope").status_code == 400
    assert client.get(f"{URL}.pdf").status_code == 404
    grader = harmonised["locked_batch"].grader
    assert login_client(grader).get(f"{URL}.csv").status_code == 403
    other = UserFactory(coordinator=True)
    assert login_client(other).get(f"{URL}.csv").status_code == 404


def test_export_does_not_query_per_row(harmonised):
    """R-TRUST-1 at scale: the same number of queries for 3 rows and for 63 (the export is
    read in bulk, 60,000 rows in production)."""
    client = login_client(harmonised["coordinator"])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{URL}.csv")
        assert response.status_code == 200
        return len(queries)

    small = count()
    for index in range(60):
        ScriptFactory(batch=harmonised["locked_batch"], marks={"Q1": 1, "Q2": index % 6, "P2": 3})
    assert count() == small


def test_list_page_links_to_the_export_with_its_state(harmonised):
    """R-TRUST-1: the list page offers « Exporter (CSV) » and « Exporter (XLSX) » for the
    list as filtered and sorted."""
    client = login_client(harmonised["coordinator"])
    page = client.get("/copies/epreuve/FRA-ECRIT/?sort=-mark&mark_min=10").content.decode()
    assert f'href="{URL}.csv?mark_min=10&amp;sort=-mark"' in page
    assert f'href="{URL}.xlsx?mark_min=10&amp;sort=-mark"' in page
    assert "Exporter (CSV)" in page
    assert "Exporter (XLSX)" in page


def test_export_follows_the_new_filters_and_sorts(harmonised):
    """Issue 13 item 8: the export follows « harmonisé » / « conforme » and the sorts on
    initial mark, harmonisation and batch, like the page, and links with them."""
    client = login_client(harmonised["coordinator"])
    raised = {harmonised["scripts"][0].public_id, harmonised["scripts"][1].public_id}
    rows = _csv(client.get(f"{URL}.csv?harmonised=oui&sort=-initial_mark"))
    assert [row[0] for row in rows[1:]] == [
        harmonised["scripts"][1].public_id,
        harmonised["scripts"][0].public_id,
    ]
    rows = _csv(client.get(f"{URL}.csv?harmonised=non&sort=delta"))
    assert {row[0] for row in rows[1:]} == {harmonised["scripts"][2].public_id}
    # Raised by 1 without a spread: the leaves no longer add up (R-MASS-12).
    rows = _csv(client.get(f"{URL}.csv?conforming=non&sort=batch"))
    assert {row[0] for row in rows[1:]} == raised
    workbook = load_workbook(
        io.BytesIO(client.get(f"{URL}.xlsx?conforming=non&sort=-delta").content)
    )
    about = dict(workbook["Filtre"].iter_rows(values_only=True))
    assert about["Conformité"] == "non conformes"
    assert about["Tri"] == "harmonisation, décroissant"
    page = client.get("/copies/epreuve/FRA-ECRIT/?harmonised=oui&sort=-delta").content.decode()
    assert f'href="{URL}.csv?harmonised=oui&amp;sort=-delta"' in page
