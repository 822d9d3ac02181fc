"""Statistics endpoint timing at 60,000 and 600,000 candidates on PostgreSQL (issue 3).

    .venv/bin/python bench/statistics_endpoint.py [60000 600000] [--repeat 5]

For each size, a fresh PostgreSQL database (h3b_bench_stats_<N>) is migrated and filled
in SQL (generate_series): one academy holding 90% of the candidates (the coordinator's,
the worst case for a scope) and another one, 100 schools, 9 qualifications, batches of
100 scripts, 2 batches per grader, 1 batch in 10 unlocked, 1% CB. Then, per filter:

- `sql`: the selector as shipped on PostgreSQL: one scan with GROUPING SETS (marks and
  special marks, school, qualification, grader) giving count, sum and sum of squares;
- `per_table`: the portable path used on SQLite: one `GROUP BY` per table;
- `numpy`: the alternative (fetch the marks and group columns with `values_list` into
  numpy, then bin and group in Python);
- `api`: `GET /api/v1/exams/{exam}/statistics` through Django (session auth, JSON);
- `page`: `GET /statistiques/{exam}/` (adds the linked filter options, the HTML).

Median and best of `--repeat` runs after one warm-up. Results go to
bench/results/<date>-<host>-statistics.md.
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
from fill import marked_exam_create
from machine import results_write

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")

CASES: list[tuple[str, str]] = [
    ("no filter", ""),
    ("one department", "departments=D01"),
    ("marks 8 to 12", "mark_min=8&mark_max=12"),
    ("part P1 >= 5", "mark_part=P1&mark_min=5"),
    (
        "locked batches, 10 schools",
        "locked_only=1&" + "&".join(f"schools=S{i:07d}" for i in range(10)),
    ),
]


def fresh_database(candidates: int) -> str:
    name = f"h3b_bench_stats_{candidates}"
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"{PG_SERVER}/{name}"


# ---------------------------------------------------------------- worker (one size)


def populate(candidates: int) -> None:

    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from harmonie.accounts.models import Role, User
    from harmonie.referential.models import (
        Academy,
        Department,
        ExamSession,
        Jury,
        School,
    )

    session = ExamSession.objects.create(code="BAC2026", label="Baccalauréat 2026")
    home = Academy.objects.create(code="NANCY-METZ", label="Nancy-Metz")
    other = Academy.objects.create(code="STRASBOURG", label="Strasbourg")
    departments = [
        Department.objects.create(code=f"D{i:02d}", label=f"Département {i}", academy=home)
        for i in range(1, 5)
    ] + [Department.objects.create(code="D99", label="Autre", academy=other)]
    juries = [Jury.objects.create(code=f"J-{d.code}", academy=d.academy) for d in departments]
    # Schools 0-89 in the home academy, 90-99 in the other one (10% of candidates).
    schools = School.objects.bulk_create(
        School(
            uai=f"S{i:07d}",
            label=f"Lycée {i}",
            department=departments[min(i // 23, 3) if i < 90 else 4],
        )
        for i in range(100)
    )
    exam, subject, qualifications = marked_exam_create(session)
    batches = (candidates + 99) // 100
    graders = User.objects.bulk_create(
        User(
            username=f"corr.{i}",
            first_name="Corr",
            last_name=f"{i:05d}",
            role=Role.GRADER,
            academy=home,
            password=make_password(None),
        )
        for i in range((batches + 1) // 2)
    )
    User.objects.create_user(username="coord.bench", role=Role.ACADEMIC_COORDINATOR, academy=home)
    school_of = [s.pk for s in schools]
    academy_of = [s.department.academy_id for s in schools]
    department_of = [s.department_id for s in schools]
    jury_of = [juries[departments.index(s.department)].pk for s in schools]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # Consecutive candidates share a school in blocks of 30, so a batch of 100 holds
        # a few schools of one academy, as real batches do.
        cursor.execute(
            """
            INSERT INTO referential_candidate (number, school_id, class_group_id, qualification_id, jury_id, fraud)
            SELECT lpad(g::text, 10, '0'), (%(schools)s::bigint[])[1 + (g / 30) %% 100], NULL,
                   (%(quals)s::bigint[])[1 + (g * 7) %% 9], (%(juries)s::bigint[])[1 + (g / 30) %% 100], false
            FROM generate_series(0, %(n)s - 1) g
            """,
            {
                "schools": school_of,
                "quals": [q.pk for q in qualifications],
                "juries": jury_of,
                "n": candidates,
            },
        )
        cursor.execute(
            """
            INSERT INTO marking_batch (code, exam_id, academy_id, grader_id, locked)
            SELECT 'L-' || lpad(b::text, 6, '0'), %(exam)s, %(home)s,
                   (%(graders)s::bigint[])[1 + b / 2], b %% 10 <> 0
            FROM generate_series(0, %(batches)s - 1) b
            """,
            {
                "exam": exam.pk,
                "home": home.pk,
                "graders": [g.pk for g in graders],
                "batches": batches,
            },
        )
        cursor.execute(
            """
            INSERT INTO referential_registration (candidate_id, exam_id, academy_id, attendance)
            SELECT c.id, %(exam)s, (%(academies)s::bigint[])[array_position(%(schools)s::bigint[], c.school_id)], 'present'
            FROM referential_candidate c
            """,
            {"exam": exam.pk, "academies": academy_of, "schools": school_of},
        )
        cursor.execute(
            """
            INSERT INTO marking_script (public_id, exam_id, candidate_id, subject_id, batch_id,
                academy_id, department_id, school_id, class_group_id, qualification_id, jury_id,
                grader_id, locked, marks, special_mark, initial_mark, delta, is_harmonised,
                final_mark, final_marks, annotations, pages, version, updated_at)
            SELECT 'S-' || lpad(m.n::text, 7, '0'), %(exam)s, m.id, %(subject)s, b.id,
                   (%(academies)s::bigint[])[m.k], (%(departments)s::bigint[])[m.k], m.school_id, NULL,
                   m.qualification_id, m.jury_id, b.grader_id, b.locked,
                   CASE WHEN m.blank THEN '{}'::jsonb ELSE jsonb_build_object('Q1', m.q1, 'Q2', m.q2, 'P2', m.p2) END,
                   CASE WHEN m.blank THEN 'CB' END,
                   CASE WHEN m.blank THEN NULL ELSE m.q1 + m.q2 + m.p2 END, 0, false,
                   CASE WHEN m.blank THEN NULL ELSE m.q1 + m.q2 + m.p2 END,
                   NULL, '[]'::jsonb, '[]'::jsonb, 1, now()
            FROM (
                SELECT c.id, c.school_id, c.qualification_id, c.jury_id,
                       row_number() OVER (ORDER BY c.id) - 1 AS n,
                       array_position(%(schools)s::bigint[], c.school_id) AS k,
                       random() < 0.01 AS blank,
                       round(((random() + random() + random()) / 3 * 8)::numeric) / 2 AS q1,
                       round(((random() + random() + random()) / 3 * 12)::numeric) / 2 AS q2,
                       round(((random() + random() + random()) / 3 * 20)::numeric) / 2 AS p2
                FROM referential_candidate c
            ) m
            JOIN marking_batch b ON b.code = 'L-' || lpad((m.n / 100)::text, 6, '0')
            """,
            {
                "exam": exam.pk,
                "subject": subject.pk,
                "academies": academy_of,
                "departments": department_of,
                "schools": school_of,
            },
        )
        # What autovacuum does on a live database: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")


def statistics_numpy(*, user, exam, script_filter, locked_only):
    """The alternative measured against the SQL aggregates: marks into numpy."""
    return statistics_numpy_compute(
        *statistics_numpy_fetch(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        ),
        exam=exam,
    )


def statistics_numpy_fetch(*, user, exam, script_filter, locked_only):
    """The scope's marks and group columns as arrays, and its special marks."""
    import numpy as np

    from harmonie.statistics.selectors import statistics_scripts

    scripts = statistics_scripts(
        user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
    )
    rows = list(
        scripts.filter(final_mark__isnull=False).values_list(
            "final_mark", "school_id", "qualification_id", "grader_id"
        )
    )
    table = np.array(rows, dtype=object).reshape(-1, 4)
    groups = table[:, 1:].astype(np.int64)
    special = list(
        scripts.filter(special_mark__isnull=False).values_list("special_mark").distinct()
    )
    return table[:, 0].astype(float), groups, special


def statistics_numpy_compute(marks, groups, special, *, exam):
    """The statistics from arrays in memory: the floor when they are already loaded."""
    import numpy as np

    from harmonie.statistics.rules import histogram_compute, moments_to_summary, summary_compute

    result = {
        "summary": summary_compute(marks=marks),
        "histogram": histogram_compute(marks=marks, maximum=exam.max_mark, step=exam.step),
        "special": special,
    }
    for column in range(groups.shape[1]):
        _keys, inverse = np.unique(groups[:, column], return_inverse=True)
        counts = np.bincount(inverse)
        sums = np.bincount(inverse, weights=marks)
        squares = np.bincount(inverse, weights=marks * marks)
        result[column] = [
            moments_to_summary(count=int(n), total=float(s), squares=float(q))
            for n, s, q in zip(counts, sums, squares, strict=True)
        ]
    return result


def statistics_per_table(*, user, exam, script_filter, locked_only):
    """The portable SQL path (used on SQLite): one GROUP BY per table."""
    from harmonie.statistics.selectors import aggregates_per_table, statistics_scripts

    return aggregates_per_table(
        statistics_scripts(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        )
    )


def timed(function, repeat: int, *, cold: bool = False) -> tuple[float, float]:
    """Median and best of `repeat` runs after a warm-up; `cold` empties the cache first
    (statistics are cached under the marks version: cold is the first request after a
    change, warm every other one)."""
    from django.core.cache import cache

    function()
    durations = []
    for _ in range(repeat):
        if cold:
            cache.clear()
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), min(durations)


def worker(candidates: int, repeat: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.http import QueryDict
    from django.test import Client

    from harmonie.accounts.models import User
    from harmonie.marking.models import Script
    from harmonie.referential.models import Exam
    from harmonie.statistics.selectors import exam_statistics, statistics_filter_parse

    started = time.perf_counter()
    populate(candidates)
    fill = time.perf_counter() - started
    user = User.objects.get(username="coord.bench")
    exam = Exam.objects.get(code="FRA-ECRIT")
    client = Client()
    client.force_login(user)
    out = {"fill": fill, "scripts": Script.objects.count(), "cases": []}
    for label, query in CASES:
        script_filter, locked_only = statistics_filter_parse(
            data=QueryDict(query), exam=exam, user=user
        )
        count = exam_statistics(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        ).summary.count
        suffix = f"?{query}" if query else ""

        def get(url: str) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")

        row = {"case": label, "count": count}
        row["sql"] = timed(
            lambda sf=script_filter, lo=locked_only: exam_statistics(
                user=user, exam=exam, script_filter=sf, locked_only=lo
            ),
            repeat,
            cold=True,
        )
        row["per_table"] = timed(
            lambda sf=script_filter, lo=locked_only: statistics_per_table(
                user=user, exam=exam, script_filter=sf, locked_only=lo
            ),
            repeat,
        )
        row["numpy"] = timed(
            lambda sf=script_filter, lo=locked_only: statistics_numpy(
                user=user, exam=exam, script_filter=sf, locked_only=lo
            ),
            repeat,
        )
        arrays = statistics_numpy_fetch(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        )
        row["floor"] = timed(lambda a=arrays: statistics_numpy_compute(*a, exam=exam), repeat)
        for key, url in (
            ("api", f"/api/v1/exams/FRA-ECRIT/statistics{suffix}"),
            ("page", f"/statistiques/FRA-ECRIT/{suffix}"),
        ):
            row[key] = timed(lambda u=url: get(u), repeat, cold=True)
            row[f"{key}_warm"] = timed(lambda u=url: get(u), repeat)
        out["cases"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(out))


# ---------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(options.sizes[0], options.repeat)
        return
    sections = []
    for candidates in options.sizes:
        url = fresh_database(candidates)
        env = {**os.environ, "DATABASE_URL": url, "HARMONIE_DB_CONN_MAX_AGE": "60"}
        subprocess.run(
            [PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        done = subprocess.run(
            [
                PY,
                str(Path(__file__).resolve()),
                "--worker",
                str(candidates),
                "--repeat",
                str(options.repeat),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        lines = [
            f"### {candidates:,} candidates ({result['scripts']:,} scripts, filled in {result['fill']:.1f} s)",
            "",
            "Median (best) of the runs, in milliseconds; `count`: scripts with a numeric mark in the",
            "coordinator's scope matching the filter.",
            "",
            "Cold: the cache emptied before each run (the first request after a change of marks);",
            "warm: the statistics already cached under the academy's marks version. The numpy",
            "floor computes the same statistics from arrays already in memory.",
            "",
            "| filter | count | SQL one scan, GROUPING SETS (shipped), cold | SQL, one GROUP BY "
            "per table | numpy (values_list) | numpy floor (in memory) | API cold | API warm "
            "| HTML page cold | HTML page warm |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in result["cases"]:
            cells = " | ".join(
                f"{row[key][0] * 1000:,.0f} ({row[key][1] * 1000:,.0f})"
                for key in (
                    "sql",
                    "per_table",
                    "numpy",
                    "floor",
                    "api",
                    "api_warm",
                    "page",
                    "page_warm",
                )
            )
            lines.append(f"| {row['case']} | {row['count']:,} | {cells} |")
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)
    body = "\n\n".join(
        [
            "## Statistics endpoint (`GET /api/v1/exams/{exam}/statistics`), PostgreSQL",
            f"Command: `.venv/bin/python bench/statistics_endpoint.py {' '.join(map(str, options.sizes))} --repeat {options.repeat}`",
            *sections,
        ]
    )
    print(results_write("statistics", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
