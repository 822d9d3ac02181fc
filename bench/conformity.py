"""The conformity state and « Rendre conforme » on PostgreSQL beside their floors
(issue 16, item 1; R-MASS-12).

    .venv/bin/python bench/conformity.py [60000 600000] [--repeat 5]

For each size (50,000 at least: the scenarios name batches up to L-000490) a fresh
database (h16_conformity_<N>) is filled as bench/mass_harmonisation.py fills it (one
academy holding every candidate, leaves Q1 /4, Q2 /6, P2 /10 on the half point) and its
five scenarios are executed: every script they change has a delta and no spread. Each measure then runs in a transaction rolled back,
after a VACUUM of the script table outside the timing, so that every run starts from the
same pages:

- the services: `conformity state` (selectors.conformity_state), `make conforming`
  (services.conformity_apply), and the two parts of the latter, the read with the spread
  (conformity.conformity_spread) and the write (writers.final_marks_write);
- their floors: the read's one query alone; the spread in numpy on the matrix already in
  memory (engine.delta_spread_many); the raw UPDATE of the same rows that only moves the
  version on, and the same writing one constant JSON spread (no JSON built per row).

Results: bench/results/<date>-<host>-conformity-floor.md.
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
VERSION_ONLY = """
UPDATE marking_script AS s SET version = s.version + 1
FROM unnest(%s::bigint[]) AS v(id) WHERE s.id = v.id
"""
CONSTANT_SPREAD = """
UPDATE marking_script AS s
SET final_marks = '{"P2": 8.0, "Q1": 3.5, "Q2": 5.0}'::jsonb, version = s.version + 1
FROM unnest(%s::bigint[]) AS v(id) WHERE s.id = v.id
"""


def database(candidates: int) -> str:
    name = f"h16_conformity_{candidates}"
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", statement], check=True)
    return f"{PG_SERVER}/{name}"


def worker(candidates: int, repeat: int) -> list[str]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.db import connection, transaction
    from mass_harmonisation import SCENARIOS, populate

    from harmonie.accounts.models import User
    from harmonie.harmonisation import conformity
    from harmonie.harmonisation.engine import delta_spread_many, to_cents
    from harmonie.harmonisation.selectors import conformity_state
    from harmonie.harmonisation.services import (
        conformity_apply,
        harmonisation_execute,
        simulation_create,
    )
    from harmonie.harmonisation.writers import array_literal, final_marks_write
    from harmonie.referential.models import Exam

    call_command("migrate", verbosity=0)
    populate(candidates, 1.0)
    user = User.objects.get(username="coord.bench")
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    exam = Exam.objects.get(code="FRA-ECRIT")
    academy = user.academy_id
    leaves = conformity.exam_leaves(exam=exam)
    codes = [code for code, _ in leaves]
    found = conformity.conformity_spread(exam=exam, academy_id=academy)
    ids, table = conformity._candidates_packed(
        exam=exam, academy_id=academy, codes=codes, spread=True
    )
    order = np.argsort(ids)
    ids, table = ids[order], table[order]
    pending = np.isin(ids, found.ids)
    maxima = np.array([to_cents(maximum) for _, maximum in leaves])
    machine_settle()

    def rolled_back(function):
        runs = []
        for _ in range(repeat):
            with connection.cursor() as cursor:
                cursor.execute("VACUUM marking_script")
            with transaction.atomic():
                start = time.perf_counter()
                result = function()
                runs.append(time.perf_counter() - start)
                transaction.set_rollback(True)
        return result, runs

    def raw(sql: str):
        with connection.cursor() as cursor:
            cursor.execute(sql, [array_literal(found.ids)])

    state, state_runs = rolled_back(lambda: conformity_state(user=user, exam_code="FRA-ECRIT"))
    made, made_runs = rolled_back(lambda: conformity_apply(user=user, exam_code="FRA-ECRIT"))
    _, spread_runs = rolled_back(
        lambda: conformity.conformity_spread(exam=exam, academy_id=academy)
    )
    _, write_runs = rolled_back(
        lambda: final_marks_write(ids=found.ids, codes=found.codes, spread=found.spread)
    )
    _, query_runs = rolled_back(
        lambda: conformity._candidates_packed(
            exam=exam, academy_id=academy, codes=codes, spread=True
        )
    )
    floor, floor_runs = rolled_back(
        lambda: delta_spread_many(
            leaf_marks=table[pending, 1 + len(codes) :],
            leaf_maxima=maxima,
            final=table[pending, 0],
            step=to_cents(exam.step),
        )
    )
    _, version_runs = rolled_back(lambda: raw(VERSION_ONLY))
    _, constant_runs = rolled_back(lambda: raw(CONSTANT_SPREAD))
    count = int(found.ids.size)
    assert state["not_conforming_count"] == made == count, (state, made, count)
    assert np.array_equal(floor, found.spread)

    def row(name: str, runs: list[float]) -> str:
        median, best = statistics.median(runs) * 1000, min(runs) * 1000
        return f"| {name} | {median:,.1f} ms (best {best:,.1f}) |"

    return [
        f"### {candidates:,} scripts in the academy, {count:,} not conforming",
        "",
        "| measure | median of the runs |",
        "|---|---|",
        row("conformity state (selectors.conformity_state)", state_runs),
        row("make conforming (services.conformity_apply)", made_runs),
        row("… its read and spread (conformity.conformity_spread)", spread_runs),
        row("… its write (writers.final_marks_write)", write_runs),
        row("floor: the read's query alone", query_runs),
        row("floor: the spread in numpy, matrix in memory", floor_runs),
        row("floor: raw UPDATE of the same rows, version only", version_runs),
        row("floor: raw UPDATE of the same rows, one constant JSON", constant_runs),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", type=int)
    args = parser.parse_args()
    if args.worker:
        print("\n".join(worker(args.worker, args.repeat)))
        return
    sections = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(size), "--repeat", str(args.repeat)],
            env={**os.environ, "DATABASE_URL": database(size)},
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            sys.exit(out.stderr)
        sections.append(out.stdout.strip())
        print(sections[-1], flush=True)
    body = (
        f"Command: `.venv/bin/python bench/conformity.py {' '.join(map(str, args.sizes))}"
        f" --repeat {args.repeat}`\n\n{load_note()}\n\nEach run in a transaction rolled back, "
        "after a VACUUM of the script table (outside the timing).\n\n" + "\n\n".join(sections)
    )
    print(results_write("conformity-floor", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
