"""Per-request cost of the load test's endpoints, in process (issue 6, part 2: profile).

    .venv/bin/python bench/load/profile.py [--repeat 30] [--profile NAME]

Runs against the load test's database (`harmonie_load`, built by bench/load/run.py) with
the production settings, through Django's test client as `load.coord.00`. For each
endpoint of the Locust mix: the median wall time per request, the part of it spent
waiting on PostgreSQL, and the number of queries, over `--repeat` requests with the same
random filters as the load test (seeded). `--profile NAME` (a substring of an endpoint's
name) writes a pyinstrument profile of that endpoint's requests to
bench/work/load/profile-<name>.txt. Results → bench/results/<date>-<host>-load-profile.md.
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
)

import django  # noqa: E402

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


def requests_of(name: str):
    """(method, path, body) of one request of the named endpoint, drawn as Locust would."""
    query = mix._query
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


ENDPOINTS = [
    "page liste des copies",
    "API copies, 1re page",
    "page statistiques",
    "API statistiques",
    "API choix liés",
    "API population des scénarios",
    "API simulation (écrit)",
    "page éditeur d'harmonisation",
    "tableau de bord",
]


def measure(client: Client, name: str, repeat: int, profiler=None, cold: bool = False) -> dict:
    walls, sqls, counts = [], [], []
    for _ in range(repeat):
        method, path, body = requests_of(name)
        if cold:
            cache.clear()
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            if profiler:
                profiler.start()
            started = time.perf_counter()
            if method == "get":
                response = client.get(path, secure=True)
            else:
                response = client.post(path, body, content_type="application/json", secure=True)
            wall = time.perf_counter() - started
            if profiler:
                profiler.stop()
        if response.status_code not in (200, 201):
            raise SystemExit(f"{name}: HTTP {response.status_code} sur {path}")
        walls.append(wall * 1000)
        sqls.append(timer.seconds * 1000)
        counts.append(timer.count)
    return {
        "wall": statistics.median(walls),
        "wall_p90": sorted(walls)[int(0.9 * (len(walls) - 1))],
        "sql": statistics.median(sqls),
        "queries": statistics.median(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--profile", help="endpoint name substring to profile")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--label", default="", help="a label for this run in the results")
    args = parser.parse_args()
    random.seed(args.seed)
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(User.objects.get(username="load.coord.00"))
    for name in ENDPOINTS:  # warm: caches, connections, templates
        measure(client, name, 2)
    rows = []
    for name in ENDPOINTS:
        profiler = None
        if args.profile and args.profile in name:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
        random.seed(args.seed)
        cold = measure(client, name, args.repeat, cold=True)
        random.seed(args.seed)
        row = measure(client, name, args.repeat, profiler)
        row["cold"] = cold["wall"]
        rows.append((name, row))
        print(f"{name:38} {row['wall']:7.1f} ms (p90 {row['wall_p90']:6.1f}) "
              f"SQL {row['sql']:6.1f} ms in {row['queries']:.0f} queries; "
              f"cache vide {row['cold']:6.1f} ms", flush=True)  # fmt: skip
        if profiler:
            out = ROOT / "bench" / "work" / "load" / f"profile-{args.profile}.txt"
            out.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
            print(f"  profil → {out.relative_to(ROOT)}")
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
        "emptied before each request (cold), then again as a worker's cache holds them after "
        "(warm: the linked choices and statistics already counted).",
        "",
        "| endpoint | cold median ms | warm median ms | warm p90 ms | of which SQL ms | queries |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {name} | {r['cold']:.1f} | {r['wall']:.1f} | {r['wall_p90']:.1f} | {r['sql']:.1f} "
            f"| {r['queries']:.0f} |"
            for name, r in rows
        ],
    ]
    path = results_write("load-profile", "\n".join(line for line in lines), PG_URL)
    print(f"→ {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
