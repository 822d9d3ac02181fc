"""Unit-harmonisation list and statistics timing on PostgreSQL.

    .venv/bin/python bench/unit_list.py 60000 600000 [--repeat 5] [--keep]

For each size: reuse (or generate) bench/work/session-N.json, import it into a fresh
PostgreSQL database `h3a_bench_N`, then time, as the academic coordinator of the largest
academy, through the real HTTP API (Django test client, bearer-less session):
- the first page of `GET /exams/FRA-ECRIT/scripts` with three filters and a sort;
- a deep page of the same list (cursor taken at 90 % of the matching rows: keyset, no OFFSET);
- the first and a deep page of the unfiltered list sorted by school;
- `GET /exams/FRA-ECRIT/filter-options` with the same filters;
- `GET /exams/FRA-ECRIT/statistics` with the same filters, and without;
- the list page (`/copies/epreuve/FRA-ECRIT/`, HTML with its linked lists) with the filters.
Median and max of `--repeat` runs after one warm-up, with the cache emptied before each
request (cold: what the first coordinator to ask after a change waits) and without (warm:
the linked choices and statistics cached under the academy's marks version). Waits for a
quiet machine first. Results in bench/results/.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from machine import (  # noqa: E402
    PY,
    WORK,
    load_note,
    machine_settle,
    results_write,
    run,
    session_file,
)

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def database_prepare(candidates: int, keep: bool) -> str:
    name = f"h3a_bench_{candidates}"
    url = f"{PG_SERVER}/{name}"
    exists = subprocess.run(
        [
            "psql",
            f"{PG_SERVER}/postgres",
            "-Atc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists and keep:
        return url
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    env = {**os.environ, "DATABASE_URL": url, "HARMONIE_VAR_DIR": str(WORK / "var")}
    run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    seconds = run([PY, "manage.py", "import_session", str(session_file(candidates))], env)
    print(f"imported {candidates} in {seconds:.0f} s", flush=True)
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    return url


def measure(candidates: int, repeat: int) -> list[str]:
    """Runs in a child process whose DATABASE_URL points at the bench database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from harmonie.accounts.models import Role, User
    from harmonie.marking.models import Script
    from harmonie.marking.permissions import scripts_in_scope
    from harmonie.marking.selectors import (
        _cursor_encode,
        _sorted,
        unit_scripts_filtered,
    )
    from harmonie.referential.models import Exam
    from harmonie.scriptfilter import ScriptFilter, script_filter_parse

    exam = Exam.objects.get(code="FRA-ECRIT")
    top = (
        Script.objects.filter(exam=exam)
        .values("academy_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    user = User.objects.filter(role=Role.ACADEMIC_COORDINATOR, academy_id=top["academy_id"]).first()
    scripts = Script.objects.filter(exam=exam, academy_id=top["academy_id"], locked=True)
    departments = list(
        scripts.values_list("department__code", flat=True)
        .distinct()
        .order_by("department__code")[:2]
    )
    qualifications = list(
        scripts.values("qualification__code")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("qualification__code", flat=True)[:3]
    )
    query = [("departments", d) for d in departments] + [
        ("qualifications", q) for q in qualifications
    ]
    query += [("mark_min", "6"), ("mark_max", "16")]
    data: dict[str, list[str]] = {}
    for key, value in query:
        data.setdefault(key, []).append(value)
    script_filter = script_filter_parse(
        data=data, exam=exam, user=user, scripts=scripts_in_scope(user=user, exam=exam)
    )

    def deep_cursor(sort: str, with_filter: bool) -> tuple[str, int]:
        chosen = script_filter if with_filter else ScriptFilter()
        base = unit_scripts_filtered(user=user, exam=exam, script_filter=chosen)
        total = base.count()
        ordered, column, _desc = _sorted(base, sort)
        row = ordered.values("pk", column)[int(total * 0.9)]  # setup only, not timed
        return _cursor_encode(sort=sort, value=row[column], pk=row["pk"], page=None), total

    client = Client()
    client.force_login(user)
    filtered = "&".join(f"{k}={v}" for k, v in query)
    cursor_f, total_f = deep_cursor("-mark", True)
    cursor_s, total_s = deep_cursor("school", False)
    cases = [
        (
            f"list, 3 filters, sort -mark, first page ({total_f:,} rows match)",
            f"/api/v1/exams/FRA-ECRIT/scripts?{filtered}&sort=-mark&limit=50",
        ),
        (
            "list, 3 filters, sort -mark, deep page (90 %)",
            f"/api/v1/exams/FRA-ECRIT/scripts?{filtered}&sort=-mark&limit=50&cursor={cursor_f}",
        ),
        (
            f"list, no filter, sort school, first page ({total_s:,} rows)",
            "/api/v1/exams/FRA-ECRIT/scripts?sort=school&limit=50",
        ),
        (
            "list, no filter, sort school, deep page (90 %)",
            f"/api/v1/exams/FRA-ECRIT/scripts?sort=school&limit=50&cursor={cursor_s}",
        ),
        ("filter-options, 3 filters", f"/api/v1/exams/FRA-ECRIT/filter-options?{filtered}"),
        ("statistics, 3 filters", f"/api/v1/exams/FRA-ECRIT/statistics?{filtered}"),
        ("statistics, no filter", "/api/v1/exams/FRA-ECRIT/statistics"),
        (
            "list page (HTML, linked lists), 3 filters, sort -mark",
            f"/copies/epreuve/FRA-ECRIT/?{filtered}&sort=-mark",
        ),
    ]

    def sql_floor(client: Client, url: str, repeat: int) -> list[float]:
        """The raw SQL floor: the queries of one cold request, run again directly."""
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = [query["sql"] for query in captured.captured_queries]
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in queries:
                    cursor.execute(sql)
                    if cursor.description:
                        cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
        return times

    rows = []
    total_scripts = Script.objects.filter(exam=exam).count()
    for label, url in cases:
        response = client.get(url)
        if response.status_code != 200:
            rows.append(
                f"| {candidates:,} | {total_scripts:,} | {label} | HTTP {response.status_code} | — |"
            )
            print(rows[-1], flush=True)
            continue
        timings = {"floor": sql_floor(client, url, repeat)}
        for state in ("cold", "warm"):
            times = []
            for _ in range(repeat):
                if state == "cold":
                    cache.clear()
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            timings[state] = times
        cold, warm, floor = timings["cold"], timings["warm"], timings["floor"]
        rows.append(
            f"| {candidates:,} | {total_scripts:,} | {label} | {statistics.median(cold):,.0f} ms "
            f"| {max(cold):,.0f} ms | {statistics.median(warm):,.0f} ms "
            f"| {statistics.median(floor):,.0f} ms |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse an already imported database")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        for row in measure(options.measure, options.repeat):
            print("ROW" + row)
        return
    rows: list[str] = []
    for candidates in options.sizes:
        url = database_prepare(candidates, options.keep)
        print(f"waiting for a quiet machine: load {machine_settle():.1f}", flush=True)
        env = {**os.environ, "DATABASE_URL": url, "HARMONIE_VAR_DIR": str(WORK / "var")}
        out = subprocess.run(
            [PY, __file__, "--measure", str(candidates), "--repeat", str(options.repeat)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = [line[3:] for line in out.splitlines() if line.startswith("ROW")]
        for line in found:
            print(line, flush=True)
        rows.extend(found)
    body = "\n".join(
        [
            "## Unit-harmonisation list and statistics (PostgreSQL, through the API)",
            "",
            "Coordinator of the largest academy; filters: 2 departments, 3 qualifications,",
            "final mark in [6, 16]. Deep page: keyset cursor at 90 % of the matching rows.",
            f"Median and max of {options.repeat} requests after one warm-up, with the cache "
            "emptied before each request (cold), and the median with the cache kept (warm).",
            "Raw SQL floor: the SQL statements of one cold request (session and user included),",
            "run again directly on the connection, without Django, HTTP or rendering.",
            load_note(),
            "",
            "| candidates | scripts | request | cold median | cold max | warm median "
            "| raw SQL floor |",
            "|---:|---:|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(results_write("unit-list", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
