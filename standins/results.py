"""Stand-in for the results system (Cyclades): stores candidates' marks per exam.

Receiving rules (R-VAL-4): a sent mark overwrites the stored one, except that a ``DI``
typed by hand here is never overwritten, and a ``0`` typed by hand here is kept when the
mark sent is ``AB``.

    python -m standins.results --port 8101 --db var/standin-results.sqlite3
"""

import math
import re
import time
from decimal import Decimal

from standins.base import Result, StandIn, existing_rows, main, record_refs

SPECIAL_MARK = re.compile(r"^[A-Z]{2,4}$")
DEFAULT_MAX_MARK = 20


def mark_text(value: object, *, max_mark: float) -> str | None:
    """The stored form of a sent mark (``"12.5"``, ``"0"``, ``"AB"``), None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0 or value > max_mark:
            return None
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, str) and SPECIAL_MARK.match(value):
        return value
    return None


class ResultsStandIn(StandIn):
    name = "results"
    records_path = "/marks"
    ref_field = "candidate"
    row_table = "marks"
    row_columns = ("exam", "candidate", "mark", "source", "writes")
    row_order = "exam, candidate"
    schema = """
        CREATE TABLE IF NOT EXISTS marks (
            exam TEXT NOT NULL, candidate TEXT NOT NULL, mark TEXT NOT NULL,
            source TEXT NOT NULL, writes INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL,
            PRIMARY KEY (exam, candidate)
        );
    """

    def tables(self) -> tuple[str, ...]:
        return ("marks",)

    def records_apply(self, exam: str, envelope: dict, records: list) -> list[Result]:
        max_mark = envelope.get("max_mark", DEFAULT_MAX_MARK)
        if isinstance(max_mark, bool) or not isinstance(max_mark, int | float):
            max_mark = DEFAULT_MAX_MARK
        refs = record_refs(records, "candidate")
        stored = existing_rows(
            self.db,
            "SELECT candidate, mark, source FROM marks WHERE exam = ? AND candidate IN ({marks})",
            exam,
            refs,
        )
        refused = self.refusals(refs)
        now = time.time()
        results: list[Result] = []
        writes = []
        for record in records:
            candidate = record.get("candidate") if isinstance(record, dict) else None
            if not isinstance(candidate, str) or not candidate:
                results.append((str(candidate or ""), "refused", "invalid_record"))
                continue
            mark = mark_text(record.get("mark"), max_mark=max_mark)
            if mark is None:
                results.append((candidate, "refused", "invalid_mark"))
                continue
            if candidate in refused:
                results.append((candidate, "refused", refused[candidate]))
                continue
            current = stored.get(candidate)
            if current is not None and current[1] == "hand":
                if current[0] == "DI":
                    results.append((candidate, "kept", "hand_entered_di"))
                    continue
                if current[0] == "0" and mark == "AB":
                    results.append((candidate, "kept", "hand_entered_zero_absent"))
                    continue
            writes.append((exam, candidate, mark, now))
            stored[candidate] = (mark, "platform")
            results.append((candidate, "written", None))
        self.db.executemany(
            """
            INSERT INTO marks (exam, candidate, mark, source, writes, updated_at)
            VALUES (?, ?, ?, 'platform', 1, ?)
            ON CONFLICT (exam, candidate) DO UPDATE SET
                mark = excluded.mark, source = 'platform', writes = writes + 1,
                updated_at = excluded.updated_at
            """,
            writes,
        )
        return results

    def hand_enter(self, exam: str, records: list) -> int:
        rows = []
        for record in records:
            mark = mark_text(record["mark"], max_mark=DEFAULT_MAX_MARK)
            if mark is None:
                raise ValueError(f"note invalide : {record['mark']!r}")
            rows.append((exam, str(record["candidate"]), mark, time.time()))
        self.db.executemany(
            """
            INSERT INTO marks (exam, candidate, mark, source, writes, updated_at)
            VALUES (?, ?, ?, 'hand', 0, ?)
            ON CONFLICT (exam, candidate) DO UPDATE SET
                mark = excluded.mark, source = 'hand', updated_at = excluded.updated_at
            """,
            rows,
        )
        return len(rows)


if __name__ == "__main__":
    main(ResultsStandIn, default_port=8101)
