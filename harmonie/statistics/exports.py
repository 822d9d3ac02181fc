"""The statistics tables as rows, and their CSV and XLSX files (R-MASS-13).

CSV is written for French spreadsheets: `;` separator, UTF-8 with a byte order mark,
decimal comma. XLSX keeps numbers as numbers and adds a sheet describing the filter.
Every text cell goes through `cell_neutralise` (a label such as `=HYPERLINK(...)` is
written as text, never as a formula: OWASP's CSV injection advice).
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook

from harmonie.errors import NotFound
from harmonie.scriptfilter import script_filter_describe
from harmonie.spreadsheet import cell_neutralise, row_neutralise
from harmonie.statistics.rules import mark_round
from harmonie.statistics.selectors import ExamStatistics, GroupRow

Cell = str | int | float | None


@dataclass(frozen=True)
class StatisticsTable:
    slug: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


# URL slug → French title, in the page's order.
TABLES: dict[str, str] = {
    "synthese": "Synthèse",
    "repartition": "Répartition des notes",
    "etablissements": "Moyenne par établissement",
    "qualifications": "Moyenne par qualification présentée",
    "correcteurs": "Moyenne, écart type et nombre de copies par correcteur",
}
FORMATS = ("csv", "xlsx")
_GROUP_HEADERS: dict[str, tuple[str, ...]] = {
    "etablissements": ("UAI", "Établissement", "Copies", "Moyenne", "Écart type"),
    "qualifications": ("Code", "Qualification", "Copies", "Moyenne", "Écart type"),
    "correcteurs": ("Identifiant", "Correcteur", "Copies", "Moyenne", "Écart type"),
}


def _group_rows(rows: list[GroupRow]) -> list[tuple[Cell, ...]]:
    out: list[tuple[Cell, ...]] = []
    for row in rows:
        data = row.as_dict()
        out.append((data["code"], data["label"], data["count"], data["mean"], data["std"]))
    return out


def statistics_table(*, stats: ExamStatistics, slug: str) -> StatisticsTable:
    """One table of the page as rows of plain values."""
    if slug not in TABLES:
        raise NotFound(f"Tableau « {slug} » inconnu.")
    summary = stats.summary
    if slug == "synthese":
        rows: list[tuple[Cell, ...]] = [
            ("Copies notées", summary.count),
            ("Moyenne", mark_round(summary.mean)),
            ("Écart type", mark_round(summary.std)),
            ("Médiane", mark_round(summary.median)),
            *((f"Note particulière {code}", n) for code, n in stats.special_marks),
            ("Copies sans note", stats.unmarked),
        ]
        headers: tuple[str, ...] = ("Indicateur", "Valeur")
    elif slug == "repartition":
        rows = [(float(item.mark), item.count) for item in stats.histogram]
        headers = ("Note", "Copies")
    else:
        groups = {
            "etablissements": stats.by_school,
            "qualifications": stats.by_qualification,
            "correcteurs": stats.by_grader,
        }[slug]
        rows = _group_rows(groups)
        headers = _GROUP_HEADERS[slug]
    return StatisticsTable(slug=slug, title=TABLES[slug], headers=headers, rows=rows)


def _french_number(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = format(Decimal(str(value)).normalize(), "f")
        return text.replace(".", ",")
    return str(value)


def table_csv(table: StatisticsTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(row_neutralise(table.headers))
    for row in table.rows:
        writer.writerow([_french_number(cell_neutralise(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: StatisticsTable, *, stats: ExamStatistics) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31]
    sheet.append(row_neutralise(table.headers))
    for row in table.rows:
        sheet.append(row_neutralise(row))
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("Filtre")
    about.append(row_neutralise(["Épreuve", stats.exam.code]))
    about.append(["Lots verrouillés seulement", "oui" if stats.locked_only else "non"])
    for label, value in script_filter_describe(script_filter=stats.script_filter):
        about.append(row_neutralise([label, value]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
