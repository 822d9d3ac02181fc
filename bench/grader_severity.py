"""Grader effects timing at 60,000 scripts and 650 graders on PostgreSQL (issue 14, R-FAIR-1).

    .venv/bin/python bench/grader_severity.py [60000] [--graders 650] [--repeat 5]

A fresh PostgreSQL database (h_fair) is migrated and filled in SQL (generate_series): one
academy holding every script (the coordinator's), 100 schools in 4 departments, 9
qualifications of different levels, 2 subjects, one batch per grader (650 batches of
about 92 scripts), graders with offsets from -3 to +3 points, 1 % CB. Then:

- `load`: for comparison, the harmonisation's loader of the academy's scripts
  (`population_load`, every column and leaf): the estimate reads four integer columns instead;
- `floor`: `grader_effects_fit` alone on the arrays in memory (the numpy solve);
- `api`: `GET /api/v1/exams/{exam}/grader-severity` through Django (session auth, JSON),
  cold (the answer cache and the loaded population emptied before each run) and warm;
- `page`: `GET /equite/{exam}/correcteurs/` (adds the linked filter choices, the HTML);
- `proposal`: `GET /api/v1/exams/{exam}/grader-severity/proposal`, cold.

Median and best of `--repeat` runs after one warm-up, in milliseconds. Target: the API
under 1 s. Results go to bench/results/<date>-<host>-grader-severity.md.
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
from machine import load_note, machine_settle, results_write

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DATABASE = "h_fair"

CASES: list[tuple[str, str]] = [
    ("global mark", ""),
    ("part P1", "part=P1"),
    ("one department, locked batches", "departments=D01&locked_only=1"),
    ("after harmonisation (basis=final)", "basis=final"),
]


def fresh_database() -> str:
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE}"], check=True
    )
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True
    )
    return f"{PG_SERVER}/{DATABASE}"


# ---------------------------------------------------------------- worker


def populate(scripts: int, graders: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from harmonie.accounts.models import Role, User
    from harmonie.referential.models import Academy, Department, ExamSession, Jury, School

    session = ExamSession.objects.create(code="BAC2026", label="Baccalauréat 2026")
    home = Academy.objects.create(code="NANCY-METZ", label="Nancy-Metz")
    departments = [
        Department.objects.create(code=f"D{i:02d}", label=f"Département {i}", academy=home)
        for i in range(1, 5)
    ]
    juries = [Jury.objects.create(code=f"J-{d.code}", academy=home) for d in departments]
    schools = School.objects.bulk_create(
        School(uai=f"S{i:07d}", label=f"Lycée {i}", department=departments[i % 4])
        for i in range(100)
    )
    exam, subject, qualifications = marked_exam_create(session)
    from harmonie.referential.models import Subject

    subject_b = Subject.objects.create(exam=exam, code="SUJET-B")
    users = User.objects.bulk_create(
        User(
            username=f"corr.{i}",
            first_name="Corr",
            last_name=f"{i:05d}",
            role=Role.GRADER,
            academy=home,
            password=make_password(None),
        )
        for i in range(graders)
    )
    User.objects.create_user(username="coord.bench", role=Role.ACADEMIC_COORDINATOR, academy=home)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.14)")
        cursor.execute(
            """
            INSERT INTO referential_candidate (number, school_id, class_group_id, qualification_id, jury_id, fraud)
            SELECT lpad(g::text, 10, '0'), (%(schools)s::bigint[])[1 + (g / 30) %% 100], NULL,
                   (%(quals)s::bigint[])[1 + (g * 7) %% 9], (%(juries)s::bigint[])[1 + ((g / 30) %% 100) %% 4], false
            FROM generate_series(0, %(n)s - 1) g
            """,
            {
                "schools": [s.pk for s in schools],
                "quals": [q.pk for q in qualifications],
                "juries": [j.pk for j in juries],
                "n": scripts,
            },
        )
        cursor.execute(
            """
            INSERT INTO marking_batch (code, exam_id, academy_id, grader_id, locked)
            SELECT 'L-' || lpad(b::text, 6, '0'), %(exam)s, %(home)s,
                   (%(graders)s::bigint[])[1 + b], b %% 10 <> 0
            FROM generate_series(0, %(batches)s - 1) b
            """,
            {
                "exam": exam.pk,
                "home": home.pk,
                "graders": [u.pk for u in users],
                "batches": graders,
            },
        )
        cursor.execute(
            """
            INSERT INTO referential_registration (candidate_id, exam_id, academy_id, attendance)
            SELECT c.id, %(exam)s, %(home)s, 'present' FROM referential_candidate c
            """,
            {"exam": exam.pk, "home": home.pk},
        )
        # Marks: qualification level (-2 to +2) + grader offset (-3 to +3) + noise, leaves
        # on the 0.5 step and clamped; batches by id order, so series are mixed in each.
        cursor.execute(
            """
            INSERT INTO marking_script (public_id, exam_id, candidate_id, subject_id, batch_id,
                academy_id, department_id, school_id, class_group_id, qualification_id, jury_id,
                grader_id, locked, marks, special_mark, initial_mark, delta, is_harmonised,
                final_mark, final_marks, annotations, pages, version, updated_at)
            SELECT 'S-' || lpad(m.n::text, 7, '0'), %(exam)s, m.id, m.subject, b.id,
                   %(home)s, sc.department_id, m.school_id, NULL, m.qualification_id, m.jury_id,
                   b.grader_id, b.locked,
                   CASE WHEN m.blank THEN '{}'::jsonb ELSE jsonb_build_object('Q1', m.q1, 'Q2', m.q2, 'P2', m.p2) END,
                   CASE WHEN m.blank THEN 'CB' END,
                   CASE WHEN m.blank THEN NULL ELSE m.q1 + m.q2 + m.p2 END, 0, false,
                   CASE WHEN m.blank THEN NULL ELSE m.q1 + m.q2 + m.p2 END,
                   NULL, '[]'::jsonb, '[]'::jsonb, 1, now()
            FROM (
                SELECT x.*,
                       least(greatest(round((x.level * 0.2 + (random() - 0.5)) * 2) / 2, 0), 4) AS q1,
                       least(greatest(round((x.level * 0.3 + (random() - 0.5)) * 2) / 2, 0), 6) AS q2,
                       least(greatest(round((x.level * 0.5 + (random() - 0.5) * 2) * 2) / 2, 0), 10) AS p2
                FROM (
                    SELECT c.id, c.school_id, c.qualification_id, c.jury_id,
                           row_number() OVER (ORDER BY c.id) - 1 AS n,
                           random() < 0.01 AS blank,
                           CASE WHEN random() < 0.5 THEN %(subject_a)s ELSE %(subject_b)s END AS subject,
                           10.5 + (c.qualification_id %% 5 - 2)
                             + (((row_number() OVER (ORDER BY c.id) - 1) / %(size)s) %% 7 - 3)
                             + (random() + random() + random() - 1.5) * 5 AS level
                    FROM referential_candidate c
                ) x
            ) m
            JOIN marking_batch b ON b.code = 'L-' || lpad((m.n / %(size)s)::text, 6, '0')
            JOIN referential_school sc ON sc.id = m.school_id
            """,
            {
                "exam": exam.pk,
                "home": home.pk,
                "subject_a": subject.pk,
                "subject_b": subject_b.pk,
                "size": -(-scripts // graders),
            },
        )
        cursor.execute("VACUUM ANALYZE")


def timed(function, repeat: int, *, cold: bool = False) -> tuple[float, float]:
    """Median and best of `repeat` runs after a warm-up; `cold` empties the answer cache
    and the loaded population first (the first request after a change of marks)."""
    from django.core.cache import cache

    from harmonie.marking.population import population_cache_clear

    function()
    durations = []
    for _ in range(repeat):
        if cold:
            cache.clear()
            population_cache_clear()
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), min(durations)


def worker(scripts: int, graders: int, repeat: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.test import Client

    from harmonie.accounts.models import User
    from harmonie.fairness.rules import grader_effects_fit
    from harmonie.marking.models import Script
    from harmonie.marking.population import population_load
    from harmonie.referential.models import Exam

    started = time.perf_counter()
    populate(scripts, graders)
    fill = time.perf_counter() - started
    settled = machine_settle()
    user = User.objects.get(username="coord.bench")
    exam = Exam.objects.get(code="FRA-ECRIT")
    client = Client()
    client.force_login(user)

    def get(url: str) -> dict:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
        return response.json() if "json" in response["Content-Type"] else {}

    out = {"fill": fill, "settled": settled, "scripts": Script.objects.count(), "cases": []}
    out["load"] = timed(
        lambda: population_load(exam=exam, academy_id=user.academy_id), repeat, cold=True
    )
    loaded = population_load(exam=exam, academy_id=user.academy_id)
    keep = loaded.population.numeric & (loaded.columns["grader_id"] >= 0)
    arrays = (
        loaded.population.initial[keep] / 100.0,
        loaded.columns["grader_id"][keep],
        [loaded.columns["qualification_id"][keep], loaded.columns["subject_id"][keep]],
    )
    out["floor"] = timed(
        lambda: grader_effects_fit(marks=arrays[0], graders=arrays[1], covariates=arrays[2]),
        repeat,
    )
    for label, query in CASES:
        suffix = f"?{query}" if query else ""
        body = get(f"/api/v1/exams/FRA-ECRIT/grader-severity{suffix}")
        row = {
            "case": label,
            "count": body["count"],
            "graders": len(body["graders"]),
            "flagged": sum(1 for g in body["graders"] if g["flag"]),
        }
        for key, url in (
            ("api", f"/api/v1/exams/FRA-ECRIT/grader-severity{suffix}"),
            ("page", f"/equite/FRA-ECRIT/correcteurs/{suffix}"),
        ):
            row[key] = timed(lambda u=url: get(u), repeat, cold=True)
            row[f"{key}_warm"] = timed(lambda u=url: get(u), repeat)
        out["cases"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    out["proposal"] = timed(
        lambda: get("/api/v1/exams/FRA-ECRIT/grader-severity/proposal"), repeat, cold=True
    )
    print(json.dumps(out))


# ---------------------------------------------------------------- driver


def _ms(pair: list[float]) -> str:
    return f"{pair[0] * 1000:,.0f} ({pair[1] * 1000:,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000])
    parser.add_argument("--graders", type=int, default=650)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(options.sizes[0], options.graders, options.repeat)
        return
    sections = []
    for scripts in options.sizes:
        url = fresh_database()
        env = {**os.environ, "DATABASE_URL": url, "HARMONIE_DB_CONN_MAX_AGE": "60"}
        subprocess.run(
            [PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        command = [PY, str(Path(__file__).resolve()), "--worker", str(scripts)]
        command += ["--graders", str(options.graders), "--repeat", str(options.repeat)]
        done = subprocess.run(
            command, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        lines = [
            f"### {result['scripts']:,} scripts, {options.graders} graders "
            f"(filled in {result['fill']:.1f} s; load average {result['settled']:.1f} when measuring)",
            "",
            "Median (best) of the runs, in milliseconds. Cold: the answer cache and the loaded",
            "population emptied before each run (the first request after a change of marks);",
            "warm: the answer cached under the academy's marks version.",
            "",
            f"- for comparison, the harmonisation's full loader (`population_load`, cold; not used by the estimate): {_ms(result['load'])}",
            f"- floor, `grader_effects_fit` alone on the arrays in memory: {_ms(result['floor'])}",
            f"- proposal (`GET …/grader-severity/proposal`, cold): {_ms(result['proposal'])}",
            "",
            "| case | scripts fitted | graders | flagged | API cold | API warm | page cold | page warm |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in result["cases"]:
            cells = " | ".join(_ms(row[k]) for k in ("api", "api_warm", "page", "page_warm"))
            lines.append(
                f"| {row['case']} | {row['count']:,} | {row['graders']} | {row['flagged']} | {cells} |"
            )
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)
    body = "\n\n".join(
        [
            "## Grader effects (`GET /api/v1/exams/{exam}/grader-severity`), PostgreSQL",
            "Command: `.venv/bin/python bench/grader_severity.py "
            f"{' '.join(map(str, options.sizes))} --graders {options.graders} --repeat {options.repeat}`",
            "Target (issue 14): the answer in under 1 s at 60,000 scripts and 650 graders.",
            *sections,
            load_note(),
        ]
    )
    print(results_write("grader-severity", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
