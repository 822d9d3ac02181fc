"""Per-request cost of the load test's endpoints, in process (issue 6, part 2: profile;
issue 16, item 3: CPU per request).

    .venv/bin/python bench/load/profile.py [--repeat 30] [--profile NAME ...] [--label TEXT]

Runs against the load test's database (`harmonie_load`, built by bench/load/run.py) with
the production settings, through Django's test client as `load.coord.00`. For each
endpoint of the Locust mix: the median wall time per request, the part of it spent
waiting on PostgreSQL, the number of queries, and the CPU it costs: the web process's
(`time.process_time`) and the PostgreSQL backend's (its /proc times: clock ticks, so a
mean over the requests), over `--repeat` requests with the same random filters as the
load test (seeded). The floor is a signed-in request that does no work (the login page
redirecting to the dashboard: middleware, session and user only), measured in the same
run. The mix line weighs each endpoint by its share of the load test's requests.
Set REDIS_URL to measure with the shared cache (the cold column empties it).
`--profile NAME` (a substring of an endpoint's name, repeatable; `--profile ""` for
every endpoint) writes a pyinstrument profile of that endpoint's warm requests, in a pass
of its own after the measured ones, to bench/work/load/profile-<endpoint>.txt.
Results → bench/results/<date>-<host>-load-profile.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "bench" / "load")]
PG_URL = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432") + "/harmonie_load"
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DATABASE_URL=PG_URL,
    HARMONIE_PRODUCTION="1",
    HARMONIE_SSL_REDIRECT="0",
    HARMONIE_SECRET_KEY=os.environ.get("HARMONIE_SECRET_KEY", "profile-" + "x" * 50),
    HARMONIE_ALLOWED_HOSTS="testserver",
    HARMONIE_LOG_LEVEL="WARNING",
    HARMONIE_STATIC_ROOT=str(ROOT / "bench" / "work" / "load" / "static"),
    LOAD_CONFIG=str(ROOT / "bench" / "work" / "load" / "locust-config.json"),
    # One PostgreSQL backend for the whole run: its CPU is read per request.
    HARMONIE_DB_CONN_MAX_AGE="3600",
)

import django  # noqa: E402
import psutil  # noqa: E402

django.setup()

import mix  # noqa: E402  (the load test's filters and scenarios)
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from machine import results_write  # noqa: E402

from harmonie.accounts.models import User  # noqa: E402

EXAM = mix.EXAM


class SqlTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def requests_of(name: str, client: Client):
    """(method, path, body) of one request of the named endpoint, drawn as Locust would
    (the cursor page's first page is read here, outside the measurement)."""
    query = mix._query
    if name == FLOOR:
        return "get", "/compte/connexion/", None
    if name == "API copies, page suivante (curseur)":
        params = [*query(mix._filter()), ("sort", random.choice(mix.SORTS)), ("limit", "50")]
        path = f"/api/v1/exams/{EXAM}/scripts"
        cursor = client.get(f"{path}?{urlencode(params)}", secure=True).json()["next_cursor"]
        while cursor is None:  # a filter of one page: draw another, as a walk would end
            params = [*query(mix._filter()), ("sort", random.choice(mix.SORTS)), ("limit", "50")]
            cursor = client.get(f"{path}?{urlencode(params)}", secure=True).json()["next_cursor"]
        return "get", f"{path}?{urlencode([*params, ('cursor', cursor)])}", None
    if name == "page liste des copies":
        params = [*query(mix._filter()), ("sort", random.choice(mix.SORTS))]
        return "get", f"/copies/epreuve/{EXAM}/?{urlencode(params)}", None
    if name == "API copies, 1re page":
        params = [*query(mix._filter()), ("sort", random.choice(mix.SORTS))]
        return "get", f"/api/v1/exams/{EXAM}/scripts?{urlencode(params)}&limit=50", None
    if name == "page statistiques":
        return "get", f"/statistiques/{EXAM}/?{urlencode(query(mix._filter()))}", None
    if name == "API statistiques":
        path = f"/api/v1/exams/{EXAM}/statistics?{urlencode(query(mix._filter()))}"
        return "get", path, None
    if name == "API choix liés":
        params = [*query(mix._filter()), ("locked_only", "true")]
        return "get", f"/api/v1/exams/{EXAM}/filter-options?{urlencode(params)}", None
    if name == "API population des scénarios":
        body = {"scenarios": mix._scenarios()}
        return "post", f"/api/v1/exams/{EXAM}/scenario-population", body
    if name == "API simulation (écrit)":
        body = {"scenarios": mix._scenarios()}
        return "post", f"/api/v1/exams/{EXAM}/simulations", body
    if name == "page éditeur d'harmonisation":
        return "get", f"/harmonisation/{EXAM}/", None
    if name == "tableau de bord":
        return "get", "/", None
    raise KeyError(name)


FLOOR = "plancher : requête connectée sans travail"
ENDPOINTS = [
    "page liste des copies",
    "API copies, 1re page",
    "API copies, page suivante (curseur)",
    "page statistiques",
    "API statistiques",
    "API choix liés",
    "API population des scénarios",
    "API simulation (écrit)",
    "page éditeur d'harmonisation",
    "tableau de bord",
]
# Each endpoint's share of the load test's requests (50 coordinators, 4 workers: counts
# of the run before issue 16, bench/results/2026-11-22-vm-load.md): the cursor pages
# are almost half of them.
SHARES = {
    "page liste des copies": 630,
    "API copies, 1re page": 471,
    "API copies, page suivante (curseur)": 2214,
    "page statistiques": 305,
    "API statistiques": 318,
    "API choix liés": 158,
    "API population des scénarios": 317,
    "API simulation (écrit)": 139,
    "page éditeur d'harmonisation": 133,
    "tableau de bord": 157,
}


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (loopback server)."""
    connection.ensure_connection()
    times = psutil.Process(connection.connection.info.backend_pid).cpu_times()
    return times.user + times.system


def measure(client: Client, name: str, repeat: int, profiler=None, cold: bool = False) -> dict:
    walls, sqls, counts, cpus = [], [], [], []
    database = 0.0
    expected = (302,) if name == FLOOR else (200, 201)
    for _ in range(repeat):
        method, path, body = requests_of(name, client)
        if cold:
            cache.clear()
        timer = SqlTimer()
        database_before = backend_cpu()
        with connection.execute_wrapper(timer):
            if profiler:
                profiler.start()
            started = time.perf_counter()
            cpu_started = time.process_time()
            if method == "get":
                response = client.get(path, secure=True)
            else:
                response = client.post(path, body, content_type="application/json", secure=True)
            cpu = time.process_time() - cpu_started
            wall = time.perf_counter() - started
            if profiler:
                profiler.stop()
        database += backend_cpu() - database_before
        if response.status_code not in expected:
            raise SystemExit(f"{name}: HTTP {response.status_code} sur {path}")
        walls.append(wall * 1000)
        sqls.append(timer.seconds * 1000)
        counts.append(timer.count)
        cpus.append(cpu * 1000)
    return {
        "wall": statistics.median(walls),
        "wall_p90": sorted(walls)[int(0.9 * (len(walls) - 1))],
        "sql": statistics.median(sqls),
        "queries": statistics.median(counts),
        "cpu": statistics.mean(cpus),
        "database": 1000 * database / repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", action="append", default=[],
                        help="endpoint name substring to profile (repeatable)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--label", default="", help="a label for this run in the results")
    args = parser.parse_args()
    random.seed(args.seed)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(User.objects.get(username="load.coord.00"))
    for name in [FLOOR, *ENDPOINTS]:  # warm: caches, connections, templates
        measure(client, name, 2)
    rows = []
    for name in [FLOOR, *ENDPOINTS]:
        random.seed(args.seed)
        cold = measure(client, name, args.repeat, cold=True)
        random.seed(args.seed)
        measure(client, name, args.repeat)  # fills the cache with every request's answers
        random.seed(args.seed)
        row = measure(client, name, args.repeat)
        row["cold"] = cold["wall"]
        row["cold_cpu"] = cold["cpu"] + cold["database"]
        rows.append((name, row))
        print(f"{name:38} {row['wall']:7.1f} ms (p90 {row['wall_p90']:6.1f}) "
              f"SQL {row['sql']:6.1f} ms in {row['queries']:.0f} queries; "
              f"CPU web {row['cpu']:5.1f} + PG {row['database']:5.1f} ms; "
              f"cache vide {row['cold']:6.1f} ms", flush=True)  # fmt: skip
        if any(wanted in name for wanted in args.profile):
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            random.seed(args.seed)
            measure(client, name, args.repeat, profiler)
            slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
            out = ROOT / "bench" / "work" / "load" / f"profile-{slug}.txt"
            out.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
            print(f"  profil → {out.relative_to(ROOT)}")
    total = sum(SHARES.values())
    mixed = {
        key: sum(r[key] * SHARES[name] / total for name, r in rows if name in SHARES)
        for key in ("cpu", "database", "wall")
    }
    floor = dict(rows)[FLOOR]
    print(f"mix: CPU web {mixed['cpu']:.1f} + PG {mixed['database']:.1f} ms per request "
          f"(floor {floor['cpu']:.1f} + {floor['database']:.1f})")  # fmt: skip
    lines = [
        "## Set-up",
        "- the load test's database (`harmonie_load`, bench/load/run.py), production settings, "
        "Django's test client in one process as a coordinator of NANCY-METZ (no network, no "
        "gunicorn): the cost of one request alone on a quiet machine",
        f"- {args.repeat} requests per endpoint, drawn with the load test's random filters "
        f"(seed {args.seed}), after 2 warm-up requests each",
        f"- run: {args.label}" if args.label else "",
        "",
        "Each endpoint is measured twice over the same requests: first with the cache "
        "emptied before each request (cold), then, after one more unmeasured pass that fills "
        "the cache with every request's answers, warm (the linked choices, statistics and "
        "counts already in the cache).",
        "",
        f"- cache: {_cache_backend()}",
        "",
        "CPU columns: warm, mean per request, the web process (`time.process_time`) and its "
        "PostgreSQL backend (/proc, clock ticks summed over the requests).",
        "",
        "| endpoint | cold median ms | warm median ms | warm p90 ms | of which SQL ms | queries "
        "| web CPU ms | PG CPU ms | cold web+PG CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {name} | {r['cold']:.1f} | {r['wall']:.1f} | {r['wall_p90']:.1f} | {r['sql']:.1f} "
            f"| {r['queries']:.0f} | {r['cpu']:.1f} | {r['database']:.1f} | {r['cold_cpu']:.1f} |"
            for name, r in rows
        ],
        "",
        f"Weighted by the load test's mix (warm): **{mixed['cpu']:.1f} ms of web CPU and "
        f"{mixed['database']:.1f} ms of PostgreSQL CPU per request**, {mixed['wall']:.1f} ms "
        f"wall; the floor (a signed-in request doing nothing) costs {floor['cpu']:.1f} + "
        f"{floor['database']:.1f} ms.",
    ]
    path = results_write("load-profile", "\n".join(line for line in lines), PG_URL)
    print(f"→ {path.relative_to(ROOT)}")


def _cache_backend() -> str:
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if "Redis" in backend:
        return f"{backend} at {settings.CACHES['default']['LOCATION']} (REDIS_URL)"
    return f"{backend} (no REDIS_URL: one process's memory)"


if __name__ == "__main__":
    main()
