"""The raw SQL floor of a harmonisation's script writes, per schema (issue 16, item 1).

    .venv/bin/python bench/narrow_writes.py [600000] [--repeat 3]

A fresh PostgreSQL database (h16_narrow_<N>) is migrated and filled like the mass
harmonisation bench (one academy holding every candidate), with the annotations and page
list a marked script carries (~300 bytes of JSON, as in the demo session). Then the one
statement an execution sends (`harmonisation/writers.py:scripts_write`: UPDATE … FROM
unnest of ids, delta, flag, final mark) is timed on random scripts for:

- the national paper: 22,474 scripts changed (the academy holds 60,000 of 600,000);
- the stress case: 224,740 scripts changed (one academy of 600,000);

with three layouts of the same data:

- `wide`: the script table as it was before issue 16 (mark columns in the wide row, the
  list index on final_mark, fillfactor 100): every update writes a new wide row and a new
  entry in each of the 10 indexes;
- `hot`: the same row, fillfactor 70 and the final mark out of every index, so that
  PostgreSQL updates in place on the page (HOT: no index entry written);
- `narrow`: the written columns moved to a side table (script id, delta, flag, final
  mark, spread, version), with its own list index on the final mark.

Before each timed statement the table is vacuumed (as autovacuum would have), outside the
timing. The HOT share is read from pg_stat_user_tables. The list's sort by mark (first
page, 50 rows) is timed beside, since `hot` takes the final mark out of its index.
Results: bench/results/<date>-<host>-narrow-writes.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from machine import load_note, machine_settle, results_write

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
ANNOTATIONS = [
    {"kind": "comment", "page": 0, "x": 0.3, "y": 0.35, "text": "Bonne analyse"},
    {"kind": "tick", "page": 0, "x": 0.8, "y": 0.45},
    {"kind": "highlight", "page": 0, "x": 0.2, "y": 0.6, "w": 0.5, "h": 0.03},
    {"kind": "appreciation", "text": "Travail sérieux."},
]
PAGES = ["BAC2026/scan-000.pdf", "BAC2026/scan-001.pdf"]
UPDATE = """
UPDATE {table} AS s
SET delta = v.delta / 100.0, is_harmonised = v.harmonised,
    final_mark = v.final / 100.0, final_marks = NULL,
    version = s.version + 1{updated}
FROM unnest(%s::bigint[], %s::int[], %s::bool[], %s::int[]) AS v(id, delta, harmonised, final)
WHERE s.{key} = v.id
"""
# The list's first page sorted by mark, both ways, as marking/selectors.py orders it
# (a script with a special mark last in both directions).
LIST_WIDE = """
SELECT s.id, s.public_id, s.final_mark FROM marking_script s
WHERE s.exam_id = %s AND s.academy_id = %s AND s.locked
ORDER BY s.final_mark {direction} NULLS LAST, s.id {direction} LIMIT 50
"""
LIST_NARROW = """
SELECT s.id, s.public_id, m.final_mark FROM script_marks m JOIN marking_script s ON s.id = m.script_id
WHERE m.exam_id = %s AND m.academy_id = %s AND m.locked
ORDER BY m.final_mark {direction} NULLS LAST, m.script_id {direction} LIMIT 50
"""


def database(candidates: int) -> str:
    name = f"h16_narrow_{candidates}"
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", statement], check=True)
    return f"{PG_SERVER}/{name}"


def fill(candidates: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from mass_harmonisation import populate

    populate(candidates, 1.0)
    connection.close()


def vacuum(cursor, table: str) -> None:
    cursor.execute(f"VACUUM {table}")


def hot_count(cursor, table: str) -> tuple[int, int]:
    cursor.execute("SELECT pg_stat_force_next_flush()")
    cursor.execute(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s", [table]
    )
    return cursor.fetchone()


def layout(cursor, name: str) -> str:
    """Turn the database into the named layout; returns the table the update writes.

    The database is migrated, so it starts in the `hot` layout (migration 0005); `wide`
    puts back the index and fillfactor of migration 0004."""
    if name == "wide":
        cursor.execute("ALTER TABLE marking_script SET (fillfactor = 100)")
        cursor.execute(
            "CREATE INDEX script_unit_list_mark_idx ON marking_script "
            "(exam_id, academy_id, locked, final_mark, id)"
        )
        cursor.execute("VACUUM FULL ANALYZE marking_script")
        return "marking_script"
    if name == "hot":
        cursor.execute("ALTER TABLE marking_script SET (fillfactor = 70)")
        cursor.execute("DROP INDEX script_unit_list_mark_idx")
        cursor.execute("VACUUM FULL ANALYZE marking_script")
        return "marking_script"
    cursor.execute("ALTER TABLE marking_script SET (fillfactor = 100)")
    cursor.execute(
        """
        CREATE TABLE script_marks (
            script_id bigint PRIMARY KEY, exam_id bigint NOT NULL, academy_id bigint NOT NULL,
            locked boolean NOT NULL, delta numeric(6, 2) NOT NULL, is_harmonised boolean NOT NULL,
            final_mark numeric(6, 2), final_marks jsonb, version integer NOT NULL)
        """
    )
    cursor.execute(
        """INSERT INTO script_marks SELECT id, exam_id, academy_id, locked, delta,
           is_harmonised, final_mark, final_marks, version FROM marking_script"""
    )
    cursor.execute(
        "CREATE INDEX script_marks_list_idx ON script_marks "
        "(exam_id, academy_id, locked, final_mark, script_id)"
    )
    cursor.execute("VACUUM FULL ANALYZE marking_script")
    cursor.execute("VACUUM ANALYZE script_marks")
    return "script_marks"


def measure(url: str, sizes: dict[str, int], repeat: int) -> tuple[list[dict], dict]:
    import numpy as np
    import psycopg

    rows: list[dict] = []
    widths: dict[str, str] = {}
    rng = np.random.default_rng(16)
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE marking_script SET annotations = %s::jsonb, pages = %s::jsonb",
            [json.dumps(ANNOTATIONS), json.dumps(PAGES)],
        )
        cursor.execute("VACUUM FULL ANALYZE marking_script")
        cursor.execute("SELECT id, exam_id, academy_id FROM marking_script ORDER BY id")
        table = cursor.fetchall()
        ids = np.array([row[0] for row in table], dtype=np.int64)
        exam_id, academy_id = table[0][1], table[0][2]
        for name in ("wide", "hot", "narrow"):
            target = layout(cursor, name)
            key = "id" if target == "marking_script" else "script_id"
            updated = ", updated_at = now()" if target == "marking_script" else ""
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size(%s)), "
                "pg_size_pretty(pg_relation_size(%s))",
                [target, target],
            )
            widths[name] = "table and indexes {}, heap {}".format(*cursor.fetchone())
            for case, count in sizes.items():
                runs = []
                hot_before = hot_count(cursor, target)
                for run in range(repeat):
                    chosen = np.sort(rng.choice(ids, size=count, replace=False))
                    delta = np.full(count, 50 * (1 + run % 2), dtype=np.int64)
                    vacuum(cursor, target)
                    start = time.perf_counter()
                    cursor.execute(
                        UPDATE.format(table=target, key=key, updated=updated),
                        [
                            chosen.tolist(),
                            delta.tolist(),
                            [True] * count,
                            (1000 + delta).tolist(),
                        ],
                    )
                    runs.append(time.perf_counter() - start)
                hot_after = hot_count(cursor, target)
                updates = hot_after[0] - hot_before[0]
                hot = (hot_after[1] - hot_before[1]) / updates if updates else 0.0
                rows.append(
                    {"layout": name, "case": case, "count": count, "runs": runs, "hot": hot}
                )
            vacuum(cursor, target)
            query = LIST_NARROW if name == "narrow" else LIST_WIDE
            for direction, label in (("ASC", "ascending"), ("DESC", "descending")):
                runs = []
                for _ in range(max(repeat, 5)):
                    start = time.perf_counter()
                    cursor.execute(query.format(direction=direction), [exam_id, academy_id])
                    cursor.fetchall()
                    runs.append(time.perf_counter() - start)
                rows.append(
                    {"layout": name, "case": f"list by mark {label}, first page", "runs": runs}
                )
    return rows, widths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("candidates", nargs="?", type=int, default=600000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        fill(args.candidates)
        return
    url = database(args.candidates)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, str(args.candidates), "--worker"],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
    )
    filled = time.perf_counter() - started
    settled = machine_settle()
    sizes = {
        "national paper": round(args.candidates * 0.1 * 22474 / 60000),
        "stress case": round(args.candidates * 22474 / 60000),
    }
    rows, widths = measure(url, sizes, args.repeat)
    lines = [
        f"Command: `.venv/bin/python bench/narrow_writes.py {args.candidates} "
        f"--repeat {args.repeat}`",
        "",
        f"{args.candidates:,} scripts filled in {filled:.0f} s; load average before measuring "
        f"{settled:.1f}. {load_note()}",
        "",
        "The floor is the one UPDATE statement alone (psycopg, no Django), median and best of "
        f"{args.repeat} runs on fresh random scripts, the table vacuumed before each run.",
        "",
        "| layout | statement | scripts | median | best | HOT share |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        median = statistics.median(row["runs"]) * 1000
        best = min(row["runs"]) * 1000
        count = f"{row['count']:,}" if "count" in row else "50 rows"
        hot = f"{row['hot']:.0%}" if "hot" in row else "—"
        lines.append(
            f"| {row['layout']} | {row['case']} | {count} | {median:,.0f} ms | {best:,.0f} ms "
            f"| {hot} |"
        )
    lines += ["", "Sizes: " + "; ".join(f"{name}: {text}" for name, text in widths.items())]
    print(results_write("narrow-writes", "\n".join(lines), pg_url=url))


if __name__ == "__main__":
    main()
