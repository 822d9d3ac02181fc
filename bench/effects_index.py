"""An execution's effects with and without an index by script, after a history of earlier
harmonisations (issue 16, item 1).

    .venv/bin/python bench/effects_index.py [--repeat 3] [--history 0,10,30]

A fresh PostgreSQL database (h16_effects) is migrated: the effects table as the
application has it. A second table holds the same rows with the other layout, and the
runs alternate between the two:

- `harmonisation, script`: the unique (harmonisation, script) index alone (migration
  harmonisation 0004, the layout kept);
- `+ script`: the same with the index on `script_id` that the foreign key had before.

Both are filled by SQL (outside the timing) with a history of earlier
harmonisations, each of 22,474 effects on random scripts among 600,000 ids (the national
paper's execution), and then timed:

- `COPY`: the binary stream `harmonisation/writers.py:effects_write` sends (the same
  function builds it), for the national paper (22,474 effects) and the stress case
  (195,391), up to its commit; a CHECKPOINT before each run, so that every run pays the
  full-page writes an execution after a checkpoint pays; the rows are deleted again and
  the table vacuumed, outside the timing;
- `explanation, one script`: the effects of one script, as `explanation/selectors.py:
  _changes` asks for them (by the exam's harmonisations and the script; by the script
  alone with the index by script);
- `undo, still carried`: the effects of the oldest harmonisation that no later one
  touched, as `harmonisation/undo.py:_carried` asks (the later harmonisations listed;
  `harmonisation_id > n` with the index by script).

Median and best of `--repeat` runs. Results: bench/results/<date>-<host>-effects-index.md.
"""

import argparse
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
TABLE = "harmonisation_harmonisationeffect"
SCRIPTS = 600_000
SIZES = {"national paper": 22_474, "stress case": 195_391}
COLUMNS = (
    "harmonisation_id, scenario_position, script_id, initial_mark, delta_before, delta, "
    "final_mark_before, final_mark"
)
HISTORY = f"""
INSERT INTO {TABLE} ({COLUMNS})
SELECT h, 0, s, 10, 0, 1, 10, 11
FROM generate_series(%s, %s) AS h,
     LATERAL (SELECT DISTINCT (random() * {SCRIPTS - 1})::bigint + 1 AS s
              FROM generate_series(1, %s) WHERE h > 0) AS x
"""


def database() -> str:
    name = "h16_effects"
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", statement], check=True)
    return f"{PG_SERVER}/{name}"


def timed(fn, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


LAYOUTS = {"harmonisation, script": TABLE, "+ script": "bench_effect_by_script"}


def _queries(layout: str, table: str, history: int, script: int) -> dict[str, tuple]:
    """The two reads by script, as the application asks them in each layout."""
    if layout == "+ script":
        return {
            "explanation, one script": (f"SELECT * FROM {table} WHERE script_id = %s", [script]),
            "undo, still carried": (
                f"SELECT count(*) FROM {table} AS e WHERE e.harmonisation_id = 1 AND NOT "
                f"EXISTS (SELECT 1 FROM {table} AS l WHERE l.script_id = e.script_id "
                "AND l.harmonisation_id > 1)",
                [],
            ),
        }
    among = list(range(1, history + 1))
    return {
        "explanation, one script": (
            f"SELECT * FROM {table} WHERE harmonisation_id = ANY(%s) AND script_id = %s",
            [among, script],
        ),
        "undo, still carried": (
            f"SELECT count(*) FROM {table} AS e WHERE e.harmonisation_id = 1 AND NOT "
            f"EXISTS (SELECT 1 FROM {table} AS l WHERE l.harmonisation_id = ANY(%s) "
            "AND l.script_id = e.script_id)",
            [among[1:]],
        ),
    }


def measure(histories: list[int], repeat: int) -> list[dict]:
    """Both layouts hold the same rows; their runs alternate, so that neither gets the
    machine's quieter minutes."""
    import numpy as np
    from django.db import connection, transaction

    from harmonie.harmonisation.writers import _EFFECT_COLUMNS, _effects_binary

    rng = np.random.default_rng(16)
    cursor = connection.cursor()
    raw = cursor.cursor
    copy_table = LAYOUTS["+ script"]
    cursor.execute(f"CREATE TABLE {copy_table} (LIKE {TABLE} INCLUDING ALL)")
    cursor.execute(f"CREATE INDEX bench_effect_script_idx ON {copy_table} (script_id)")
    runs: dict[tuple, list[float]] = {}
    sizes: dict[tuple, str] = {}
    filled = 0
    for history in histories:
        # Earlier harmonisations 1..history (ids grow, as executions do), the same rows
        # in both tables.
        if history > filled:
            cursor.execute(f"TRUNCATE {copy_table}")
            cursor.execute(HISTORY, [filled + 1, history, SIZES["national paper"]])
            cursor.execute(f"INSERT INTO {copy_table} SELECT * FROM {TABLE}")
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{copy_table}', 'id'), max(id)) "
                f"FROM {copy_table}"
            )
            filled = history
        for layout, table in LAYOUTS.items():
            cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("SELECT pg_size_pretty(pg_indexes_size(%s))", [table])
            (sizes[(layout, history)],) = cursor.fetchone()
        following = history + 1
        for case, count in SIZES.items():
            for _ in range(repeat):
                ids = np.sort(rng.choice(SCRIPTS, size=count, replace=False) + 1)
                cents = rng.integers(0, 2000, size=count)
                stream = _effects_binary(
                    harmonisation_id=following,
                    owner=np.zeros(count, dtype=np.int64),
                    script_ids=ids.astype(np.int64),
                    marks=[(name, cents) for name in _EFFECT_COLUMNS[3:]],
                )
                for layout, table in LAYOUTS.items():
                    cursor.execute("CHECKPOINT")
                    start = time.perf_counter()
                    with (
                        transaction.atomic(),
                        raw.copy(f"COPY {table} ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
                    ):
                        copy.write(stream)
                    elapsed = time.perf_counter() - start
                    runs.setdefault((layout, history, f"COPY, {case} ({count:,})"), []).append(
                        elapsed
                    )
                    cursor.execute(f"DELETE FROM {table} WHERE harmonisation_id = %s", [following])
                    cursor.execute(f"VACUUM {table}")
        if not history:
            continue
        cursor.execute(f"SELECT script_id FROM {TABLE} WHERE harmonisation_id = 1 LIMIT 1")
        (script,) = cursor.fetchone()
        for _ in range(repeat):
            for layout, table in LAYOUTS.items():
                for case, (sql, params) in _queries(layout, table, history, script).items():
                    start = time.perf_counter()
                    raw.execute(sql, params).fetchall()
                    elapsed = time.perf_counter() - start
                    runs.setdefault((layout, history, case), []).append(elapsed)
    cursor.execute(f"DROP TABLE {copy_table}")
    return [
        {
            "layout": layout,
            "history": history,
            "index": sizes[(layout, history)],
            "case": case,
            "runs": values,
        }
        for (layout, history, case), values in sorted(
            runs.items(), key=lambda item: (item[0][1], item[0][2], list(LAYOUTS).index(item[0][0]))
        )
    ]


def worker(histories: list[int], repeat: int) -> list[dict]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    machine_settle()
    return measure(histories, repeat)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--history", default="0,10,30")
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    histories = sorted(int(value) for value in args.history.split(","))
    if args.worker:
        import json

        print(json.dumps(worker(histories, args.repeat)))
        return
    url = database()
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            "--repeat",
            str(args.repeat),
            "--history",
            args.history,
        ],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        text=True,
    )
    import json

    rows = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [
        f"Command: `.venv/bin/python bench/effects_index.py --repeat {args.repeat} "
        f"--history {args.history}`",
        "",
        f"History: earlier harmonisations of {SIZES['national paper']:,} effects each on "
        f"random scripts among {SCRIPTS:,}. Median and best of {args.repeat} runs; each COPY "
        "after a CHECKPOINT, timed to its commit. " + load_note(),
        "",
        "| layout | earlier harmonisations | indexes | measure | median | best |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        median = statistics.median(row["runs"]) * 1000
        best = min(row["runs"]) * 1000
        lines.append(
            f"| {row['layout']} | {row['history']} | {row['index']} | {row['case']} "
            f"| {median:,.1f} ms | {best:,.1f} ms |"
        )
    print(results_write("effects-index", "\n".join(lines), pg_url=url))


if __name__ == "__main__":
    main()
