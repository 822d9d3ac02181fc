"""Stand-in for the payroll and missions system (Imag'In): graders' work done per exam.

Receiving rule (R-VAL-5): the work done sent by the platform overwrites what the platform
sent before; work done typed by hand here is kept apart, in its own row, untouched.

    python -m standins.payroll --port 8102 --db var/standin-payroll.sqlite3
"""

import time

from standins.base import Result, StandIn, existing_rows, main, record_refs


class PayrollStandIn(StandIn):
    name = "payroll"
    records_path = "/work-done"
    ref_field = "grader"
    row_table = "work_done"
    row_columns = ("exam", "grader", "source", "scripts", "writes")
    row_order = "exam, grader, source"
    schema = """
        CREATE TABLE IF NOT EXISTS work_done (
            exam TEXT NOT NULL, grader TEXT NOT NULL, source TEXT NOT NULL,
            scripts INTEGER NOT NULL, writes INTEGER NOT NULL DEFAULT 0, updated_at REAL NOT NULL,
            PRIMARY KEY (exam, grader, source)
        );
    """

    def tables(self) -> tuple[str, ...]:
        return ("work_done",)

    def records_apply(self, exam: str, envelope: dict, records: list) -> list[Result]:
        refs = record_refs(records, "grader")
        hand = existing_rows(
            self.db,
            "SELECT grader, scripts FROM work_done"
            " WHERE exam = ? AND source = 'hand' AND grader IN ({marks})",
            exam,
            refs,
        )
        refused = self.refusals(refs)
        now = time.time()
        results: list[Result] = []
        writes = []
        for record in records:
            grader = record.get("grader") if isinstance(record, dict) else None
            if not isinstance(grader, str) or not grader:
                results.append((str(grader or ""), "refused", "invalid_record"))
                continue
            scripts = record.get("scripts")
            if isinstance(scripts, bool) or not isinstance(scripts, int) or scripts < 0:
                results.append((grader, "refused", "invalid_count"))
                continue
            if grader in refused:
                results.append((grader, "refused", refused[grader]))
                continue
            writes.append((exam, grader, scripts, now))
            results.append(
                (grader, "written", "hand_entered_kept_apart" if grader in hand else None)
            )
        self.db.executemany(
            """
            INSERT INTO work_done (exam, grader, source, scripts, writes, updated_at)
            VALUES (?, ?, 'platform', ?, 1, ?)
            ON CONFLICT (exam, grader, source) DO UPDATE SET
                scripts = excluded.scripts, writes = writes + 1, updated_at = excluded.updated_at
            """,
            writes,
        )
        return results

    def hand_enter(self, exam: str, records: list) -> int:
        rows = []
        for record in records:
            scripts = record["scripts"]
            if isinstance(scripts, bool) or not isinstance(scripts, int) or scripts < 0:
                raise ValueError(f"nombre de copies invalide : {scripts!r}")
            rows.append((exam, str(record["grader"]), scripts, time.time()))
        self.db.executemany(
            """
            INSERT INTO work_done (exam, grader, source, scripts, writes, updated_at)
            VALUES (?, ?, 'hand', ?, 0, ?)
            ON CONFLICT (exam, grader, source) DO UPDATE SET
                scripts = excluded.scripts, updated_at = excluded.updated_at
            """,
            rows,
        )
        return len(rows)


if __name__ == "__main__":
    main(PayrollStandIn, default_port=8102)
