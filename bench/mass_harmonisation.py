"""Mass harmonisation timing at 60,000 and 600,000 candidates on PostgreSQL (issue 4).

    .venv/bin/python bench/mass_harmonisation.py [60000 600000] [--repeat 3]

For each size a fresh PostgreSQL database (h4_bench_<N>) is migrated and filled in SQL
(generate_series): every candidate in the coordinator's academy (the worst case for a
population), 100 schools, 9 qualifications, 5 juries, batches of 100 scripts, 1 batch in
10 unlocked, 1% CB, marks Q1 /4 + Q2 /6 + P2 /10 on the 0.5 step. Then, with five
scenarios (lists, a part-mark filter, global marks; raise, lower):

- `population`: the five "Informations sur les candidats" counts (R-MASS-6);
- `simulation`: one simulation of the five scenarios, BEFORE/AFTER (R-MASS-8): with the
  population already in memory; first after a change, read from the database (memory
  and shared cache emptied); first after the execution, in the process that executed it
  and in another one (the shared cache: Redis, `BENCH_REDIS_URL`, default db 15); first
  after a unit edit, in the same process and in another one (only the edited script read
  again);
- `execution`: executing it, all writes included (R-MASS-9), then its cancellation, and
  the raw SQL floor of the one UPDATE it sends, on as many random scripts;
- `conformity`: the state, then "Rendre conforme" (R-MASS-12).

Beside each, `numpy floor`: the same result computed by plain numpy from arrays already
in memory (loaded once, outside the timing) in the same run, checked equal to the
service's result. Median and best of `--repeat` runs (execution and conformity run once
per state change). Results: bench/results/<date>-<host>-mass-harmonisation.md.
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
from machine import machine_settle, results_write

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")

SCENARIOS = [
    {
        "filter": {"qualifications": ["Q1", "Q2"], "mark_max": 8},
        "action": {"type": "raise", "points": 1},
    },
    {"filter": {"juries": ["J-D01"]}, "action": {"type": "raise", "points": 0.5}},
    {"filter": {"mark_part": "P2", "mark_min": 7}, "action": {"type": "lower", "points": 0.5}},
    {
        "filter": {"batches": [f"L-{i:06d}" for i in range(0, 500, 10)]},
        "action": {"type": "raise", "points": 1.5},
    },
    {"filter": {"mark_min": 15}, "action": {"type": "lower", "points": 1}},
]


def fresh_database(candidates: int, share: float, *, reuse: bool = False) -> str:
    name = f"h4_bench_{candidates}" + ("" if share >= 1 else f"_{round(share * 100)}pc")
    if reuse:
        return f"{PG_SERVER}/{name}"
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"{PG_SERVER}/{name}"


# ---------------------------------------------------------------- worker (one size)


def populate(candidates: int, share: float) -> None:

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
    departments = [
        Department.objects.create(code=f"D{i:02d}", label=f"Département {i}", academy=home)
        for i in range(1, 6)
    ]
    juries = [Jury.objects.create(code=f"J-{d.code}", academy=home) for d in departments]
    schools = School.objects.bulk_create(
        School(uai=f"S{i:07d}", label=f"Lycée {i}", department=departments[i % 5])
        for i in range(100)
    )
    exam, subject, qualifications = marked_exam_create(session)
    batches = (candidates + 99) // 100
    graders = User.objects.bulk_create(
        User(
            username=f"corr.{i}",
            last_name=f"{i:05d}",
            role=Role.GRADER,
            academy=home,
            password=make_password(None),
        )
        for i in range((batches + 1) // 2)
    )
    User.objects.create_user(
        username="coord.bench",
        first_name="Sabrina",
        last_name="Bench",
        role=Role.ACADEMIC_COORDINATOR,
        academy=home,
    )
    school_ids = [s.pk for s in schools]
    department_of = [s.department_id for s in schools]
    jury_of = [juries[i % 5].pk for i in range(100)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO referential_candidate (number, school_id, class_group_id, qualification_id, jury_id, fraud)
            SELECT lpad(g::text, 10, '0'), (%(schools)s::bigint[])[1 + (g / 30) %% 100], NULL,
                   (%(quals)s::bigint[])[1 + (g * 7) %% 9], (%(juries)s::bigint[])[1 + (g / 30) %% 100], false
            FROM generate_series(0, %(n)s - 1) g
            """,
            {
                "schools": school_ids,
                "quals": [q.pk for q in qualifications],
                "juries": jury_of,
                "n": candidates,
            },
        )
        cursor.execute(
            """
            INSERT INTO marking_batch (code, exam_id, academy_id, grader_id, locked)
            SELECT 'L-' || lpad(b::text, 6, '0'), %(exam)s, %(home)s, (%(graders)s::bigint[])[1 + b / 2], b %% 10 <> 7
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
            SELECT c.id, %(exam)s, %(home)s, 'present' FROM referential_candidate c
            """,
            {"exam": exam.pk, "home": home.pk},
        )
        cursor.execute(
            """
            INSERT INTO marking_script (public_id, exam_id, candidate_id, subject_id, batch_id,
                academy_id, department_id, school_id, class_group_id, qualification_id, jury_id,
                grader_id, locked, marks, special_mark, initial_mark, delta, is_harmonised,
                final_mark, final_marks, annotations, pages, version, updated_at)
            SELECT 'S-' || lpad(m.n::text, 7, '0'), %(exam)s, m.id, %(subject)s, b.id,
                   %(home)s, (%(departments)s::bigint[])[m.k], m.school_id, NULL,
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
                "home": home.pk,
                "departments": department_of,
                "schools": school_ids,
            },
        )
        if share < 1:
            # A national paper: the coordinator's academy holds `share` of the candidates,
            # the others belong to other academies (outside the coordinator's scope).
            other = Academy.objects.create(code="AUTRES", label="Autres académies").pk
            home_count = int(candidates * share)
            cursor.execute(
                "UPDATE marking_script SET academy_id = %s WHERE public_id >= %s",
                [other, "S-" + str(home_count).zfill(7)],
            )
            cursor.execute(
                """UPDATE referential_registration r SET academy_id = %s
                   FROM marking_script s WHERE s.candidate_id = r.candidate_id
                   AND s.academy_id = %s""",
                [other, other],
            )
            cursor.execute(
                "UPDATE marking_batch b SET academy_id = %s WHERE code >= %s",
                [other, "L-" + str(home_count // 100).zfill(6)],
            )
        cursor.execute("VACUUM ANALYZE")


def memory_arrays():
    """The columns the floor needs, loaded once into numpy (not timed)."""
    import numpy as np
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id, COALESCE(round(s.initial_mark * 100)::int, -1), round(s.delta * 100)::int,
                   COALESCE(round(s.final_mark * 100)::int, -1), s.is_harmonised::int, s.locked::int,
                   s.qualification_id, s.jury_id, s.batch_id,
                   COALESCE(round((s.marks->>'Q1')::numeric * 100)::int, 0),
                   COALESCE(round((s.marks->>'Q2')::numeric * 100)::int, 0),
                   COALESCE(round((s.marks->>'P2')::numeric * 100)::int, 0)
            FROM marking_script s
            WHERE s.academy_id = (SELECT id FROM referential_academy WHERE code = 'NANCY-METZ')
            ORDER BY s.id
            """
        )
        table = np.array(cursor.fetchall(), dtype=np.int64)
    return table


def ids_of(model, field, values):
    return list(model.objects.filter(**{f"{field}__in": values}).values_list("pk", flat=True))


def floor_masks(table, ids):
    import numpy as np

    final = table[:, 3]
    masks = [
        np.isin(table[:, 6], ids["q"]) & (final >= 0) & (final <= 800),
        np.isin(table[:, 7], ids["j"]),
        (table[:, 1] >= 0) & (table[:, 11] >= 700),
        np.isin(table[:, 8], ids["b"]),
        (final >= 1500),
    ]
    return masks


def floor_population(table, ids):
    numeric = table[:, 1] >= 0
    locked = table[:, 5] == 1
    harmonised = table[:, 4] == 1
    out = []
    for mask in floor_masks(table, ids):
        special = mask & ~numeric
        unlocked = mask & numeric & ~locked
        already = mask & numeric & locked & harmonised
        out.append(
            (
                int(mask.sum()),
                int((mask & numeric & locked & ~harmonised).sum()),
                int(special.sum()),
                int(unlocked.sum()),
                int(already.sum()),
            )
        )
    return out


def floor_simulation(table, ids):
    import numpy as np

    initial, delta, final = table[:, 1], table[:, 2], table[:, 3]
    eligible = (initial >= 0) & (table[:, 5] == 1) & (table[:, 4] == 0)
    taken = np.zeros(len(table), dtype=bool)
    new_final = final.copy()
    new_delta = delta.copy()
    owner = np.full(len(table), -1)
    for position, (mask, nominal) in enumerate(
        zip(floor_masks(table, ids), (100, 50, -50, 150, -100), strict=True)
    ):
        mine = mask & ~taken
        taken |= mine
        apply = mine & eligible
        owner[apply] = position
        new_delta[apply] = nominal
        new_final[apply] = np.clip(initial[apply] + nominal, 0, 2000)
    before = np.bincount(final[final >= 0] // 50, minlength=41)
    after = np.bincount(new_final[new_final >= 0] // 50, minlength=41)
    return before, after, owner, new_delta, new_final


def floor_conformity(table, final):
    """Not-conforming count and the largest-remainder spread, vectorised over 3 leaves."""
    import numpy as np

    leaves = table[:, 9:12]
    maxima = np.array([400, 600, 1000])
    numeric = table[:, 1] >= 0
    diff = final - leaves.sum(axis=1)
    pending = numeric & (diff != 0)
    rows, d = leaves[pending], diff[pending]
    room = np.where(d[:, None] > 0, maxima - rows, rows) // 50
    units = np.abs(d) // 50
    quota = units[:, None] * room / room.sum(axis=1)[:, None]
    base = np.floor(quota).astype(np.int64)
    left = units - base.sum(axis=1)
    order = np.argsort(-(quota - base), axis=1, kind="stable")
    rank = np.argsort(order, axis=1)
    base += rank < left[:, None]
    spread = rows + np.sign(d)[:, None] * base * 50
    return int(pending.sum()), spread


def wal_position() -> int:
    """PostgreSQL's write-ahead log position, in bytes: what an execution wrote to it (the
    first write of a page after a checkpoint logs the whole 8 kB page)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def raw_update_floor(*, count: int, repeat: int) -> list[float]:
    """The execution's one UPDATE statement (`writers.scripts_write`) alone, on `count`
    random scripts of the academy, outside Django's ORM: the floor of this schema. Each
    run is rolled back after it is timed, so that the database stays what the service
    left (`--reuse` measures it again; the commit, one flush of the log, is left out)."""
    import numpy as np
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.id, s.exam_id, s.academy_id FROM marking_script s
               JOIN referential_academy a ON a.id = s.academy_id WHERE a.code = 'NANCY-METZ'"""
        )
        table = cursor.fetchall()
    ids = np.array([row[0] for row in table], dtype=np.int64)
    exam_id, academy_id = table[0][1], table[0][2]
    rng = np.random.default_rng(16)
    runs = []
    for run in range(repeat):
        chosen = np.sort(rng.choice(ids, size=min(count, ids.size), replace=False))
        size = chosen.size
        delta = 50 * (1 + run % 2)

        def literal(values) -> str:
            return "{" + ",".join(str(value) for value in values) + "}"

        params = [
            literal(chosen.tolist()),
            literal([delta] * size),
            literal(["t"] * size),
            literal([1000 + delta] * size),
            exam_id,
            academy_id,
        ]
        with connection.cursor() as cursor:
            cursor.execute("VACUUM marking_script")
        with transaction.atomic(), connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(
                """
                UPDATE marking_script AS s
                SET delta = v.delta / 100.0, is_harmonised = v.harmonised,
                    final_mark = v.final / 100.0, final_marks = NULL,
                    version = s.version + 1, updated_at = now()
                FROM unnest(%s::bigint[], %s::int[], %s::bool[], %s::int[])
                    AS v(id, delta, harmonised, final)
                WHERE s.id = v.id AND s.exam_id = %s AND s.academy_id = %s
                """,
                params,
            )
            runs.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    return runs


def timed(fn, repeat):
    runs = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return result, runs


def worker(candidates: int, repeat: int, share: float) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from harmonie.marking.models import Script

    start = time.perf_counter()
    if not Script.objects.exists():
        populate(candidates, share)
    fill = time.perf_counter() - start
    machine_settle()

    from django.core.cache import cache

    from harmonie.accounts.models import User
    from harmonie.harmonisation.selectors import conformity_state, scenario_population
    from harmonie.harmonisation.services import (
        conformity_apply,
        harmonisation_execute,
        simulation_create,
    )
    from harmonie.marking.models import Batch
    from harmonie.marking.population import population_cache_clear
    from harmonie.referential.models import Jury, Qualification

    user = User.objects.get(username="coord.bench")
    ids = {
        "q": ids_of(Qualification, "code", ["Q1", "Q2"]),
        "j": ids_of(Jury, "code", ["J-D01"]),
        "b": ids_of(Batch, "code", SCENARIOS[3]["filter"]["batches"]),
    }
    table = memory_arrays()
    rows: dict[str, dict] = {}

    def cold_simulation():
        # Nothing kept anywhere: this process's memory and the shared cache emptied.
        population_cache_clear()
        cache.clear()
        return simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)

    _, cold_runs = timed(cold_simulation, repeat)
    population_cache_clear()
    counts, runs = timed(
        lambda: scenario_population(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS), repeat
    )
    floor, floor_runs = timed(lambda: floor_population(table, ids), repeat)
    assert [
        (
            c["total"],
            c["harmonisable"],
            c["not_harmonisable"]["special_mark"],
            c["not_harmonisable"]["batch_not_locked"],
            c["not_harmonisable"]["already_harmonised"],
        )
        for c in counts
    ] == floor, (counts, floor)
    rows["population (5 scenarios)"] = {"service": runs, "floor": floor_runs}

    simulation, runs = timed(
        lambda: simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS), repeat
    )
    floor, floor_runs = timed(lambda: floor_simulation(table, ids), repeat)
    assert [bar["count"] for bar in simulation.result["before"]] == floor[0].tolist()
    assert [bar["count"] for bar in simulation.result["after"]] == floor[1].tolist()
    rows["simulation (5 scenarios), marks already loaded"] = {"service": runs, "floor": floor_runs}
    rows["simulation (5 scenarios), first after a change, read from the database"] = {
        "service": cold_runs,
        "floor": floor_runs,
    }
    applied = sum(s["applied"] for s in simulation.result["scenarios"])

    wal = wal_position()
    start = time.perf_counter()
    harmonisation = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk
    )
    execution = time.perf_counter() - start
    wal_bytes = {"execution": wal_position() - wal}
    _, floor_runs = timed(lambda: floor_simulation(table, ids), repeat)
    rows[f"execution ({applied} scripts changed)"] = {"service": [execution], "floor": floor_runs}
    new_final = floor_simulation(table, ids)[4]

    # The first simulation after the execution: in the process that executed it (which kept
    # the population it left), then in another process (the shared cache).
    _, runs = timed(
        lambda: simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS), 1
    )
    rows["simulation, first after the execution, same process"] = {
        "service": runs,
        "floor": floor_runs,
    }

    def other_process():
        population_cache_clear()
        return simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)

    _, runs = timed(other_process, repeat)
    rows["simulation, first after the execution, another process (shared cache)"] = {
        "service": runs,
        "floor": floor_runs,
    }

    state, runs = timed(lambda: conformity_state(user=user, exam_code="FRA-ECRIT"), repeat)
    floor, floor_runs = timed(lambda: floor_conformity(table, new_final), repeat)
    assert state["not_conforming_count"] == floor[0], (state, floor[0])
    rows[f"conformity state ({floor[0]} not conforming)"] = {"service": runs, "floor": floor_runs}
    start = time.perf_counter()
    made = conformity_apply(user=user, exam_code="FRA-ECRIT")
    rows[f"make conforming ({made} scripts)"] = {
        "service": [time.perf_counter() - start],
        "floor": floor_runs,
    }

    replay = [{**s, "action": {"type": "reset"}} for s in SCENARIOS]
    cancel = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=replay)
    wal = wal_position()
    start = time.perf_counter()
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=cancel.pk)
    wal_bytes["cancellation"] = wal_position() - wal
    rows["execution of the cancellation"] = {
        "service": [time.perf_counter() - start],
        "floor": floor_runs[:0] or [0.0],
    }
    assert harmonisation.pk

    # The first simulation after a unit edit (one script's leaf changed and put back): the
    # population of the version before is kept in this process, or only in the shared
    # cache (another process), and only the edited script is read again.
    from harmonie.marking.services import script_marking_update

    edited = (
        Script.objects.filter(
            academy_id=user.academy_id, locked=True, special_mark__isnull=True, marks__P2__gt=0
        )
        .order_by("pk")
        .values_list("public_id", "marks")
        .first()
    )
    assert edited is not None
    public_id, marks = edited

    def after_unit_edit(*, other_process: bool, runs: list[float], turn: int) -> None:
        changed = {**marks, "P2": 0 if turn % 2 == 0 else marks["P2"]}
        script_marking_update(
            user=user, public_id=public_id, marks=changed, special_mark=None, annotations=None
        )
        if other_process:
            population_cache_clear()
        start = time.perf_counter()
        simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)
        runs.append(time.perf_counter() - start)

    simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)
    _, floor_runs = timed(lambda: floor_simulation(table, ids), repeat)
    for other_process, label in (
        (False, "same process (the population before the edit kept here)"),
        (True, "another process (only the shared cache holds the one before)"),
    ):
        edit_runs: list[float] = []
        for turn in range(2 * ((repeat + 1) // 2)):
            after_unit_edit(other_process=other_process, runs=edit_runs, turn=turn)
        rows[f"simulation, first after a unit edit, {label}"] = {
            "service": edit_runs,
            "floor": floor_runs,
        }

    rows[f"raw SQL floor of the execution's UPDATE ({applied} random scripts)"] = {
        "service": raw_update_floor(count=applied, repeat=repeat),
        "floor": [],
    }
    return {
        "candidates": candidates,
        "fill": fill,
        "rows": rows,
        "scope": len(table),
        "wal": wal_bytes,
    }


# ---------------------------------------------------------------- driver


def fmt(seconds: list[float]) -> str:
    if not seconds:
        return "—"
    return f"{statistics.median(seconds) * 1000:,.0f} ms (best {min(seconds) * 1000:,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", type=int)
    parser.add_argument(
        "--academy-share",
        type=float,
        default=1.0,
        help="share of the candidates in the coordinator's academy (1: all of them, the "
        "stress case; 0.1: a large academy of a national paper)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep an existing h4_bench_<N> database"
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat, args.academy_share)))
        return
    sections = []
    for size in args.sizes:
        url = fresh_database(size, args.academy_share, reuse=args.reuse)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                str(size),
                "--repeat",
                str(args.repeat),
                "--academy-share",
                str(args.academy_share),
            ],
            env={
                **os.environ,
                "DATABASE_URL": url,
                "HARMONIE_DB_CONN_MAX_AGE": "0",
                # The shared cache of a deployment (a population kept for other processes).
                "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
            },
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if out.returncode:
            sys.exit(out.stderr)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        lines = [
            f"### {size:,} candidates, {data['scope']:,} scripts in the coordinator's academy"
            f" (filled in {data['fill']:.1f} s)",
            "",
            "| measure | service (PostgreSQL) | numpy floor (in memory) | ratio |",
            "|---|---|---|---|",
        ]
        for name, row in data["rows"].items():
            service, floor = row["service"], row["floor"]
            ratio = (
                (statistics.median(service) / statistics.median(floor))
                if floor and statistics.median(floor)
                else None
            )
            lines.append(
                f"| {name} | {fmt(service)} | {fmt(floor) if floor and max(floor) else '—'} | {f'{ratio:,.0f}×' if ratio else '—'} |"
            )
        wal = data.get("wal", {})
        if wal:
            lines += [
                "",
                "Write-ahead log written: "
                + ", ".join(f"{name} {size / 2**20:,.1f} MiB" for name, size in wal.items())
                + ".",
            ]
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)
    body = (
        "Command: `.venv/bin/python bench/mass_harmonisation.py "
        + " ".join(str(s) for s in args.sizes)
        + f" --repeat {args.repeat} --academy-share {args.academy_share}"
        + f"{' --reuse' if args.reuse else ''}`\n\n"
        + f"Load average when done: {Path('/proc/loadavg').read_text().split()[:3]} "
        "(the machine is shared with other engineers' tests and benchmarks).\n\nScenarios: "
        + json.dumps(SCENARIOS, ensure_ascii=False)[:400]
        + "…\n\nThe floor is plain numpy over arrays already in memory (no database), checked "
        "equal to the service's result in the same run. Execution and conformity change the "
        "data, so they run once; their floor is the in-memory computation of the same new marks.\n\n"
        + "\n\n".join(sections)
    )
    name = "mass-harmonisation" + ("" if args.academy_share >= 1 else "-national-paper")
    path = results_write(name, body, pg_url=f"{PG_SERVER}/postgres")
    print(path)


if __name__ == "__main__":
    main()
