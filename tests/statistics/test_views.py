"""The statistics page and its exports (R-MASS-13, R-UNIT-5, R-MASS-7, R-ACC-1, R-UNIT-2)."""

import html
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import login_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/statistiques/FRA-ECRIT/"


def test_page_shows_charts_with_tables_and_exports(academy_world):
    """R-MASS-13: distribution, mean by school, by qualification, graders; a table by each
    chart; CSV and XLSX links carrying the filter."""
    client = login_client(academy_world["coordinator"])
    response = client.get(PAGE + "?mark_min=10")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<canvas") == 4
    assert html.count("<caption") == 4
    assert 'scope="col"' in html
    assert "vendor/chart.umd.min.js" in html
    for slug in ("synthese", "repartition", "etablissements", "qualifications", "correcteurs"):
        assert f"/statistiques/FRA-ECRIT/export/{slug}.csv?mark_min=10" in html
        assert f"/statistiques/FRA-ECRIT/export/{slug}.xlsx?mark_min=10" in html
    assert 'data-testid="stats-count">2<' in html
    # Breadcrumb back to the dashboard (R-ACC-2).
    assert 'class="fr-breadcrumb__link" href="/"' in html


def test_htmx_request_renders_the_results_and_the_linked_filters(academy_world):
    """R-MASS-13: the filter form refreshes the charts part only (htmx)."""
    client = login_client(academy_world["coordinator"])
    response = client.get(PAGE + "?locked_only=1", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="stats-results"' in html
    assert 'hx-swap-oob="true"' in html
    assert 'data-testid="stats-count">2<' in html


def test_page_accepts_a_scenario_filter_in_api_keys(academy_world):
    """R-MASS-7: the filter object's keys in the query string, as the editor links them."""
    script = academy_world["scripts"][0]
    client = login_client(academy_world["coordinator"])
    query = f"departments={script.department.code}&schools={script.school.uai}&mark_max=15"
    html = client.get(f"{PAGE}?{query}").content.decode()
    assert 'data-testid="stats-count">1<' in html
    assert f'value="{script.school.uai}" selected' in html


def test_bad_filter_is_a_french_400(academy_world):
    """R-MASS-13: a bad filter answers 400 with a French message, never a 500."""
    client = login_client(academy_world["coordinator"])
    response = client.get(PAGE + "?schools=9999999X")
    assert response.status_code == 400
    assert "Établissement « 9999999X » inconnu" in response.content.decode()
    export = client.get("/statistiques/FRA-ECRIT/export/repartition.csv?mark_min=abc")
    # A refused export is the French refused page (issue 11: one mapping of refusals).
    assert export.status_code == 400
    assert "n'est pas une note" in html.unescape(export.content.decode())


@pytest.mark.parametrize(
    ("who", "status"), [("grader", 403), ("school_head", 403), ("elsewhere", 404)]
)
def test_others_are_refused(academy_world, who, status):
    """R-ACC-1: roles without statistics 403, out of scope 404, exports alike."""
    if who == "grader":
        user = academy_world["locked_batch"].grader
    elif who == "school_head":
        user = UserFactory(school_head=True, school=academy_world["scripts"][0].school)
    else:
        user = UserFactory(coordinator=True)
    client = login_client(user)
    assert client.get(PAGE).status_code == status
    assert client.get("/statistiques/FRA-ECRIT/export/synthese.csv").status_code == status


def test_anonymous_is_sent_to_login(academy_world, client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/compte/connexion/" in response["Location"]


def test_csv_export_is_for_french_spreadsheets(academy_world):
    """R-MASS-13: `;` separator, UTF-8 BOM, decimal comma."""
    client = login_client(academy_world["coordinator"])
    response = client.get("/statistiques/FRA-ECRIT/export/repartition.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="statistiques-FRA-ECRIT-repartition.csv"' in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Note;Copies"
    assert "14,5;1" in lines
    assert "0;0" in lines
    assert len(lines) == 42
    schools = client.get("/statistiques/FRA-ECRIT/export/etablissements.csv").content
    header, *rows = schools.decode("utf-8-sig").splitlines()
    assert header == "UAI;Établissement;Copies;Moyenne;Écart type"
    assert sum(int(row.split(";")[2]) for row in rows) == 3


def test_xlsx_export_keeps_numbers_and_the_filter(academy_world):
    """R-MASS-13: XLSX with numbers, and a sheet describing the filter."""
    client = login_client(academy_world["coordinator"])
    response = client.get("/statistiques/FRA-ECRIT/export/correcteurs.xlsx?mark_min=10")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Identifiant", "Correcteur", "Copies", "Moyenne", "Écart type")
    assert rows[1][2] == 2
    assert rows[1][3] == pytest.approx(16.75)
    about = {row[0]: row[1] for row in book["Filtre"].iter_rows(values_only=True)}
    assert about["Note min."] == "10"


def test_unknown_export_is_404(academy_world):
    client = login_client(academy_world["coordinator"])
    assert client.get("/statistiques/FRA-ECRIT/export/candidats.csv").status_code == 404
    assert client.get("/statistiques/FRA-ECRIT/export/repartition.pdf").status_code == 404


def test_no_candidate_identity_on_page_or_exports(academy_world):
    """R-UNIT-2: neither candidate numbers nor script ids on the page or in exports."""
    client = login_client(academy_world["coordinator"])
    texts = [client.get(PAGE).content.decode()]
    for slug in ("synthese", "repartition", "etablissements", "qualifications", "correcteurs"):
        texts.append(client.get(f"/statistiques/FRA-ECRIT/export/{slug}.csv").content.decode())
    for text in texts:
        for script in academy_world["scripts"]:
            assert script.candidate.number not in text
            assert script.public_id not in text


def test_unit_harmonisation_list_one_click_away_with_the_same_filter(academy_world):
    """R-UNIT-5: the coordinator goes to the unit-harmonisation list with the same filter;
    a member (no unit harmonisation) gets no such link."""
    coordinator = academy_world["coordinator"]
    html = login_client(coordinator).get(PAGE + "?mark_min=10").content.decode()
    assert 'data-testid="script-list-link"' in html
    assert "/copies/epreuve/FRA-ECRIT/?mark_min=10" in html
    member = UserFactory(
        member=True, academy=academy_world["academy"], missions=[academy_world["exam"]]
    )
    member_html = login_client(member).get(PAGE).content.decode()
    assert 'data-testid="script-list-link"' not in member_html


def test_group_rows_write_marks_as_floatformat_does():
    """R-MASS-13: the group tables write means and deviations as the French reader
    expects (two decimals, comma, half up), exactly as Django's floatformat:2."""
    from django.template.defaultfilters import floatformat
    from django.utils import translation

    from harmonie.statistics.templatetags.statistics_tags import group_rows, two_decimals

    with translation.override("fr"):
        for value in (12.345, 2.675, 1234.5, 0.005, 10, 3.14159, 0.0, 19.999, Decimal("7.125")):
            assert two_decimals(value) == floatformat(value, 2), value
    assert two_decimals(None) == ""

    class Row:
        code, label = "0570001A", 'Lycée "A" & B'
        summary = type("S", (), {"count": 3, "mean": 12.5, "std": None})

    assert group_rows([Row]) == (
        '<tr><td>0570001A</td><th scope="row">Lycée &quot;A&quot; &amp; B</th>'
        "<td>3</td><td>12,50</td><td></td></tr>"
    )
