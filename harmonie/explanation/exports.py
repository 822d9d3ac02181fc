"""The unit-harmonisation list as a file (R-UNIT-3, R-TRUST-1): every script of the
filtered, sorted list, anonymous (script id, never the candidate: R-UNIT-2), with the
explanation of its final mark.

CSV for French spreadsheets like the statistics exports: `;` separator, UTF-8 with a
byte order mark, decimal comma. XLSX keeps numbers as numbers. Every text cell goes
through `cell_neutralise` (formula injection).
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl import Workbook

from harmonie.explanation.wording import mark_text
from harmonie.spreadsheet import row_neutralise

FORMATS = ("csv", "xlsx")
HEADERS = (
    "Copie",
    "Note finale",
    "Note initiale",
    "Harmonisation",
    "Note particulière",
    "Département",
    "Établissement",
    "Correcteur",
    "Sujet",
    "Lot",
    "Version",
    "Explication de la note",
)
EXPLANATION_HEADER = HEADERS[-1]

Cell = str | int | float | None

_SORT_LABELS = {
    "id": "copie",
    "mark": "note finale",
    "initial_mark": "note initiale",
    "delta": "harmonisation",
    "batch": "lot",
    "school": "établissement",
    "department": "département",
    "grader": "correcteur",
    "subject": "sujet",
}


def sort_label(sort: str) -> str:
    """« note finale, décroissant » for `-mark`."""
    key = sort.lstrip("-")
    return f"{_SORT_LABELS.get(key, key)}, {'décroissant' if sort.startswith('-') else 'croissant'}"


@dataclass(frozen=True)
class ListExport:
    rows: list[tuple[Cell, ...]]
    about: list[tuple[str, str]]  # (label, value): the exam, the filter, the sort


def export_row(*, row: dict, explanation_text: str) -> tuple[Cell, ...]:
    """One line from a list row (marking.selectors.script_rows) and its explanation."""
    return (
        row["id"],
        row["final_mark"],
        row["initial_mark"],
        row["delta"],
        row["special_mark"] or "",
        row["department"],
        row["school"],
        row["grader_name"] or row["grader"] or "",
        row["subject"] or "",
        row["batch"] or "",
        row["version"],
        explanation_text,
    )


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return mark_text(value)
    return str(value)


def list_csv(rows: Iterable[tuple[Cell, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(row_neutralise(HEADERS))
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row_neutralise(row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def list_xlsx(export: ListExport) -> bytes:
    # Write-only: rows are streamed to the file instead of held as cell objects.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Copies")
    sheet.freeze_panes = "A2"
    sheet.append(row_neutralise(HEADERS))
    for row in export.rows:
        sheet.append(row_neutralise(row))
    about = workbook.create_sheet("Filtre")
    for label, value in export.about:
        about.append(row_neutralise((label, value)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
