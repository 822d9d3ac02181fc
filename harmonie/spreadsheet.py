"""Cells written into CSV and XLSX exports, made safe for spreadsheets.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by spreadsheet programs (CSV or formula injection). Following OWASP's advice, such
a text is prefixed with a single quote so that it is shown as typed and never evaluated.
Numbers are left as numbers: a negative number is data, not a formula.
"""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_neutralise(value: object) -> object:
    """The value to write in an export cell: text that a spreadsheet would evaluate is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def row_neutralise(row: tuple | list) -> list:
    return [cell_neutralise(value) for value in row]
