"""What an import may do to a script's marking (R-TRUST-2): the fingerprint of what the
last import brought, the conflicts of a file with work done in Harmonie and their French
description. No write here: `harmonie.marking.imports.scripts_import` applies what these
decide.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from harmonie.marking.fingerprint import marking_fingerprint
from harmonie.marking.models import ScriptVersion
from harmonie.referential.scheme import mark_french
from harmonie.referential.session_file import GLOBAL_MARK, ExamRules


@dataclass
class ScriptConflict:
    """A script edited in Harmonie to which the file brings another marking (R-TRUST-2)."""

    public_id: str
    exam: str
    version: int
    differences: list[str]
    edited_by: str | None = None
    edited_on: str | None = None

    def line(self) -> str:
        edited = f"version {self.version}"
        if self.edited_by:
            edited += f", modifiée par {self.edited_by}"
        if self.edited_on:
            edited += f" le {self.edited_on}"
        return f"{self.public_id} ({self.exam}, {edited}) : {' ; '.join(self.differences)}"


class ImportConflict(Exception):
    """The file would replace the marking of scripts edited in Harmonie: refused whole."""

    LISTED = 200

    def __init__(self, conflicts: list[ScriptConflict]) -> None:
        self.conflicts = conflicts
        super().__init__(self.message())

    def message(self) -> str:
        count = len(self.conflicts)
        lines = [
            f"{count} copie(s) modifiée(s) dans Harmonie depuis le dernier import : le fichier "
            "leur apporte une autre notation que celle du dernier import."
        ]
        lines += [f"- {conflict.line()}" for conflict in self.conflicts[: self.LISTED]]
        if count > self.LISTED:
            lines.append(f"- … et {count - self.LISTED} autre(s) copie(s).")
        lines.append(
            "Pour remplacer leur notation par celle du fichier (chaque remplacement est gardé "
            "comme une version de la copie, avec sa trace dans le journal), relancez avec "
            "--replace-edited."
        )
        return "\n".join(lines)


def marking_state_fingerprint(state: dict) -> str:
    """The fingerprint of a row's or a record's marking."""
    return marking_fingerprint(
        marks=state["marks"], special_mark=state["special_mark"], annotations=state["annotations"]
    )


def marking_same(row: dict, record: dict) -> bool:
    """Same marking by value (4 = 4.0), as Python compares the JSON."""
    return (
        row["marks"] == record["marks"]
        and row["special_mark"] == record["special_mark"]
        and row["annotations"] == record["annotations"]
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def marking_audit_state(state: dict) -> dict:
    """A script's marking for the audit trail (never the candidate)."""
    return {
        "marks": state["marks"],
        "special_mark": state["special_mark"],
        "initial_mark": _number(state["initial_mark"]),
        "final_mark": _number(state["final_mark"]),
        "annotations": len(state["annotations"] or []),
        "version": state["version"],
    }


def _mark_text(value: Any) -> str:
    return mark_french(value)


def marking_differences_describe(*, row: dict, record: dict, leaves: Iterable[str]) -> list[str]:
    """What differs between Harmonie's marking (`row`) and the file's (`record`), in French."""
    out: list[str] = []

    def shown(state: dict) -> str:
        if state["special_mark"]:
            return state["special_mark"]
        return "aucune" if state["initial_mark"] is None else _mark_text(state["initial_mark"])

    if shown(row) != shown(record):
        out.append(f"note {shown(row)} dans Harmonie, {shown(record)} dans le fichier")
    if not row["special_mark"] and not record["special_mark"]:
        mine, theirs = row["marks"] or {}, record["marks"] or {}
        ordered = list(leaves)
        # A harmonisation-only exam's one `global` leaf is the note already shown.
        others = sorted((mine.keys() | theirs.keys()) - set(ordered) - {GLOBAL_MARK})
        for code in [*ordered, *others]:
            here, there = mine.get(code), theirs.get(code)
            if here is not None and there is not None and Decimal(str(here)) == Decimal(str(there)):
                continue
            if here is None and there is None:
                continue
            here_text = "–" if here is None else _mark_text(here)
            there_text = "–" if there is None else _mark_text(there)
            out.append(f"{code} : {here_text} dans Harmonie, {there_text} dans le fichier")
    if row["annotations"] != record["annotations"]:
        mine_count, theirs_count = len(row["annotations"] or []), len(record["annotations"] or [])
        other = " autre(s)" if mine_count == theirs_count else ""
        out.append(
            f"annotations : {mine_count} dans Harmonie, {theirs_count}{other} dans le fichier"
        )
    return out or ["notation différente"]


def conflicts_describe(
    *,
    conflicts: list[tuple[dict, dict]],
    exam_codes: dict[int, str],
    exams: dict[int, ExamRules],
) -> list[ScriptConflict]:
    """(row, file record) pairs as ScriptConflicts, by script id, with the last editor
    and date of the scripts listed in the message."""
    conflicts = sorted(conflicts, key=lambda pair: pair[1]["public_id"])
    listed = [row["id"] for row, _record in conflicts[: ImportConflict.LISTED]]
    last_edit: dict[int, Any] = {}
    for version in (
        ScriptVersion.objects.filter(script_id__in=listed, author__isnull=False)
        .order_by("script_id", "number")
        .values(
            "script_id", "author__first_name", "author__last_name", "author__username", "created_at"
        )
    ):
        last_edit[version["script_id"]] = version
    described = []
    for row, record in conflicts:
        edit = last_edit.get(row["id"])
        author = None
        on = None
        if edit is not None:
            author = (
                f"{edit['author__first_name']} {edit['author__last_name']}".strip()
                or edit["author__username"]
            )
            on = timezone.localtime(edit["created_at"]).strftime("%d/%m/%Y")
        described.append(
            ScriptConflict(
                public_id=record["public_id"],
                exam=exam_codes[row["exam_id"]],
                version=row["version"],
                differences=marking_differences_describe(
                    row=row,
                    record=record,
                    leaves=exams[record["exam_id"]].leaves if record["exam_id"] in exams else (),
                ),
                edited_by=author,
                edited_on=on,
            )
        )
    return described
