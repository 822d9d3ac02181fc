"""Load test (issue 6, part 3; issue 16, item 3): 50 then 100 coordinators of one academy of
~60,000 candidates browse the script list, statistics, scenario populations and
simulations on a production-like server (gunicorn, PostgreSQL, HARMONIE_PRODUCTION=1,
the shared cache in Redis).

    .venv/bin/python bench/load/run.py [--users 50,100] [--duration 120] [--workers 4]
                                       [--wait 1 3] [--redis URL] [--fresh]

1. PostgreSQL database `harmonie_load` (kept between runs; `--fresh` rebuilds it): a
   generated session of 120,000 candidates (7 academies of ~17,000) whose first academies
   are merged into NANCY-METZ until it holds ~60,000 candidates (the generator spreads
   candidates evenly over academies), migrated and imported with `import_session`.
2. `--users` coordinator accounts of NANCY-METZ (`load.coord.NN`), static files collected.
3. gunicorn (`--workers`, sync workers; a comma list measures each) on 127.0.0.1 with
   HARMONIE_PRODUCTION=1, HARMONIE_SSL_REDIRECT=0, the secret key from
   HARMONIE_SECRET_KEY (a random one when unset), and the shared cache in Redis
   (`--redis`, REDIS_URL; database 5 of 127.0.0.1:6379 by default, emptied before each
   run so that every run starts cold; `--redis ""` for each worker's own memory).
   Requests carry X-Forwarded-Proto: https as behind the TLS proxy of a deployment
   (secure cookies, HTTPS CSRF checks).
4. Each coordinator logs in through the login form (outside the measurement: PBKDF2).
   The floor is measured first: one signed-in request that does no work (the login page
   redirecting to the dashboard: middleware, session and user), repeated, its server and
   PostgreSQL CPU per request. Then Locust (bench/load/locustfile.py, one process, gevent)
   runs the scenario, with statistics reset once every user is spawned; `--users` takes a
   comma list (50,100), one run each.
5. Requests/s, median, p95, p99 and errors per endpoint, CPU shares of the server, the
   database, the load generator, other processes and the hypervisor's steal, and CPU per
   request → bench/results/<date>-<host>-load.md.

Loopback only; bounded in users (≤ 200) and time (≤ 600 s per run).
"""

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from machine import machine_settle, results_write  # noqa: E402

PY = sys.executable
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "harmonie_load"
PG_URL = f"{PG_SERVER}/{DB_NAME}"
WORK = ROOT / "bench" / "work" / "load"
ACADEMY = "NANCY-METZ"
EXAM = "FRA-ECRIT"
PASSWORD = "harmonie2026"  # noqa: S105 - the demo accounts' password
TARGET_CANDIDATES = 60_000
REDIS_DEFAULT = "redis://127.0.0.1:6379/5"
FLOOR_REQUESTS = 300


def log(message: str) -> None:
    print(f"[load] {message}", flush=True)


def psql(url: str, sql: str) -> str:
    done = subprocess.run(["psql", url, "-Atqc", sql], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def base_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": PG_URL,
        "HARMONIE_VAR_DIR": str(WORK / "var"),
        "HARMONIE_LOG_LEVEL": "WARNING",
    }


# ------------------------------------------------------------------------- data


def academies_merge(session: dict) -> dict[str, int]:
    """Merge academies into ACADEMY, in file order, until it holds TARGET_CANDIDATES."""
    academy_of_department = {d["code"]: d["academy"] for d in session["departments"]}
    academy_of_school = {
        s["uai"]: academy_of_department[s["department"]] for s in session["schools"]
    }
    sizes: dict[str, int] = {}
    for candidate in session["candidates"]:
        academy = academy_of_school[candidate["school"]]
        sizes[academy] = sizes.get(academy, 0) + 1
    merged, total = [], 0
    for academy in [a["code"] for a in session["academies"]]:
        if total >= TARGET_CANDIDATES * 0.97:
            break
        merged.append(academy)
        total += sizes[academy]
    for section in ("departments", "juries", "users"):
        for row in session[section]:
            if row.get("academy") in merged:
                row["academy"] = ACADEMY
    session["academies"] = [a for a in session["academies"] if a["code"] not in merged[1:]]
    return {"merged": len(merged), "candidates": total}


def database_prepare(*, fresh: bool, candidates: int, seed: int) -> None:
    exists = psql(f"{PG_SERVER}/postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
    if exists and not fresh:
        try:
            ready = psql(PG_URL, "SELECT count(*) FROM marking_script")
        except subprocess.CalledProcessError:
            ready = "0"
        if int(ready or 0) > 0:
            log(f"base {DB_NAME} déjà prête ({ready} copies) : migrations seulement")
            manage("migrate", "--no-input", "-v", "0", env=base_env())
            return
    WORK.mkdir(parents=True, exist_ok=True)
    psql(f"{PG_SERVER}/postgres", f"DROP DATABASE IF EXISTS {DB_NAME}")
    psql(f"{PG_SERVER}/postgres", f"CREATE DATABASE {DB_NAME}")
    env = base_env()
    raw = WORK / f"session-{candidates}.json"
    if not raw.exists():
        log(f"génération de {candidates} candidats")
        manage("generate_session", "--candidates", str(candidates), "--seed", str(seed),
               "--scans", "none", "-o", str(raw), env=env)  # fmt: skip
    session = json.loads(raw.read_text(encoding="utf-8"))
    merge = academies_merge(session)
    log(f"{merge['merged']} académies fusionnées dans {ACADEMY} : {merge['candidates']} candidats")
    merged = WORK / f"session-{candidates}-merged.json"
    merged.write_text(json.dumps(session, ensure_ascii=False), encoding="utf-8")
    manage("migrate", "--no-input", "-v", "0", env=env)
    started = time.monotonic()
    manage("import_session", str(merged), env=env)
    log(f"import en {time.monotonic() - started:.0f} s")
    psql(PG_URL, "VACUUM ANALYZE")


ACCOUNTS_SCRIPT = """
from django.contrib.auth.hashers import make_password
from harmonie.accounts.models import User
from harmonie.marking.models import Script
from harmonie.referential.models import Academy, Candidate, Exam
import json, sys
academy = Academy.objects.get(code={academy!r})
exam = Exam.objects.get(code={exam!r})
password = make_password({password!r})
role = User.objects.get(username="coord.nancy-metz").role
names = [f"load.coord.{{n:02d}}" for n in range({users})]
existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
User.objects.bulk_create([
    User(username=name, first_name="Charge", last_name=name[-2:], role=role, academy=academy,
         password=password)
    for name in names if name not in existing
])
User.objects.filter(username__in=names).update(password=password, academy=academy, role=role)
scripts = Script.objects.filter(exam=exam, academy=academy)
def values(field):
    return sorted(set(scripts.exclude(**{{field: None}}).values_list(field, flat=True)))
print(json.dumps({{
    "names": names,
    "schools": values("school__uai")[:60],
    "departments": values("department__code"),
    "qualifications": values("qualification__code"),
    "graders": values("grader__username")[:60],
    "scripts": scripts.count(),
    "locked": scripts.filter(locked=True).count(),
    "candidates": Candidate.objects.filter(school__department__academy=academy).count(),
}}))
"""


def accounts_prepare(users: int) -> dict:
    code = ACCOUNTS_SCRIPT.format(academy=ACADEMY, exam=EXAM, password=PASSWORD, users=users)
    done = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=base_env(), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------- server


def server_env(secret: str, redis_url: str) -> dict[str, str]:
    env = {
        **base_env(),
        "HARMONIE_PRODUCTION": "1",
        "HARMONIE_SSL_REDIRECT": "0",
        "HARMONIE_SECRET_KEY": secret,
        "HARMONIE_ALLOWED_HOSTS": "127.0.0.1",
        "HARMONIE_STATIC_ROOT": str(WORK / "static"),
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def cache_empty(redis_url: str) -> None:
    """Every run starts with an empty shared cache (a previous run's would make it warm)."""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(*, workers: int, env: dict[str, str], port: int) -> subprocess.Popen:
    log_file = (WORK / f"gunicorn-{workers}.log").open("ab")
    process = subprocess.Popen(
        [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "120", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/compte/connexion/", timeout=5).status_code
                == 200
            ):
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn ne répond pas (voir bench/work/load/gunicorn-*.log)")


def server_stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def sessions_open(*, port: int, names: list[str]) -> list[dict[str, str]]:
    """Log every coordinator in through the login form, as a browser behind TLS would."""
    origin = f"https://127.0.0.1:{port}"
    sessions = []
    for name in names:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=30,
            headers={"X-Forwarded-Proto": "https", "Origin": origin, "Referer": origin + "/"},
        ) as client:  # fmt: skip
            form = client.get("/compte/connexion/")
            token = form.cookies["csrftoken"]
            # Secure cookies are not sent back over plain HTTP by a cookie jar: by hand.
            answer = client.post(
                "/compte/connexion/",
                data={"username": name, "password": PASSWORD, "csrfmiddlewaretoken": token},
                headers={"Cookie": f"csrftoken={token}"},
            )
            if answer.status_code != 302 or "sessionid" not in answer.cookies:
                raise SystemExit(f"connexion de {name} refusée : HTTP {answer.status_code}")
            sessions.append({"sessionid": answer.cookies["sessionid"], "csrftoken": token})
    return sessions


# ------------------------------------------------------------------------- measure


def floor_measure(*, port: int, session: dict[str, str], server_pid: int) -> dict[str, float]:
    """Server and PostgreSQL CPU per request of a signed-in request that does no work
    (the login page redirects a signed-in user: middleware, session and user only), one
    request at a time, FLOOR_REQUESTS times: what every request of the mix costs at least."""
    origin = f"https://127.0.0.1:{port}"
    headers = {
        "Cookie": f"sessionid={session['sessionid']}; csrftoken={session['csrftoken']}",
        "X-Forwarded-Proto": "https",
        "Origin": origin,
        "Referer": origin + "/",
    }
    server = tree(server_pid)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        for _ in range(20):  # warm: connections, templates
            client.get("/compte/connexion/")
        before = {"server": cpu_seconds(server), "database": postgres_cpu()}
        started = time.monotonic()
        for _ in range(FLOOR_REQUESTS):
            answer = client.get("/compte/connexion/")
            if answer.status_code != 302:
                raise SystemExit(f"plancher : HTTP {answer.status_code} (302 attendu)")
        wall = time.monotonic() - started
    database_after = postgres_cpu()
    database = sum(cpu - before["database"].get(pid, 0.0) for pid, cpu in database_after.items())
    return {
        "server": 1000 * (cpu_seconds(server) - before["server"]) / FLOOR_REQUESTS,
        "database": 1000 * database / FLOOR_REQUESTS,
        "wall": 1000 * wall / FLOOR_REQUESTS,
    }


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def tree(pid: int) -> list[psutil.Process]:
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def postgres_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            found.append(process)
    return found


def locust_run(
    *, port: int, users: int, duration: int, config: Path, prefix: Path, server_pid: int
) -> dict:
    env = {**os.environ, "LOAD_CONFIG": str(config)}
    command = [
        PY, "-m", "locust", "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",
        "--host", f"http://127.0.0.1:{port}", "--users", str(users),
        "--spawn-rate", str(max(1, users // 5)), "--run-time", f"{duration}s",
        "--reset-stats", "--csv", str(prefix), "--only-summary", "--stop-timeout", "30",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    server = tree(server_pid)
    before = {"server": cpu_seconds(server), "database": postgres_cpu()}
    machine_before = psutil.cpu_times()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    locust = subprocess.Popen(command, cwd=ROOT, env=env)
    generator = psutil.Process(locust.pid)
    generator_cpu = 0.0
    loads = []
    rss = {"master": 0, "worker": 0}
    while locust.poll() is None:
        loads.append(os.getloadavg()[0])
        try:
            times = generator.cpu_times()
            generator_cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        for process in server:
            try:
                role = "master" if process.pid == server_pid else "worker"
                rss[role] = max(rss[role], process.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.5)
    wall = time.monotonic() - started
    machine_after = psutil.cpu_times()
    busy = sum(
        getattr(machine_after, field) - getattr(machine_before, field)
        for field in ("user", "nice", "system", "irq", "softirq", "steal")
    )
    steal = machine_after.steal - machine_before.steal
    database_after = postgres_cpu()
    return {
        "wall": wall,
        "cpu": {
            "server": cpu_seconds(server) - before["server"],
            "database": sum(
                cpu - before["database"].get(pid, 0.0) for pid, cpu in database_after.items()
            ),
            "generator": generator_cpu,
            "machine": busy,
            "steal": steal,
        },
        "rss": rss,
        "exit": locust.returncode,
        "load": max(loads) if loads else 0.0,
        "load_before": load_before,
    }


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL process, by pid. Backends come and go (a connection
    lives CONN_MAX_AGE seconds): those that ended are counted in the postmaster's
    children times, under the postmaster's negated pid."""
    seconds = {}
    for process in postgres_processes():
        try:
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
            if process.parent() is None or process.parent().name() not in (
                "postgres",
                "postmaster",
            ):
                seconds[-process.pid] = times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
    return seconds


def stats_read(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def failures_read(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def table(rows: list[dict[str, str]]) -> str:
    lines = [
        "| endpoint | requests | req/s | median ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        name = "**all**" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        lines.append(
            f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} | {float(row['Max Response Time']):.0f} "
            f"| {row['Failure Count']} |"
        )
    return "\n".join(lines)


def section_write(*, workers: int, users: int, run: dict, floor: dict, prefix: Path) -> str:
    rows = stats_read(prefix)
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failures = failures_read(prefix)
    cpu = run["cpu"]
    database_seen = bool(postgres_processes())
    cores = psutil.cpu_count()
    share = {k: 100 * v / (run["wall"] * cores) for k, v in cpu.items()}
    others = share["machine"] - share["server"] - share["database"] - share["generator"]
    rate = float(total["Requests/s"])
    per_request = {k: 1000 * cpu[k] / (rate * run["wall"]) for k in ("server", "database")}
    log(f"{users} coordinateurs, {workers} workers : {rate:.1f} req/s, p95 {total['95%']} ms, "
        f"{total['Failure Count']} erreurs, CPU {per_request['server']:.1f} + "
        f"{per_request['database']:.1f} ms par requête")  # fmt: skip
    section = [
        f"### {users} coordinators, gunicorn {workers} sync workers",
        "",
        f"Aggregated: **{rate:.1f} requests/s, median "
        f"{total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, "
        f"{total['Failure Count']} errors** over {total['Request Count']} requests.",
        "",
        f"**CPU per request** (at {rate:.1f} req/s over the wall time): server "
        f"**{per_request['server']:.1f} ms** and PostgreSQL **{per_request['database']:.1f} ms**"
        f", together **{per_request['server'] + per_request['database']:.1f} ms** (target "
        "≤ 12 ms). Floor measured in the same run, before Locust (a signed-in request doing "
        f"nothing, {FLOOR_REQUESTS} in a row): server {floor['server']:.1f} ms and "
        f"PostgreSQL {floor['database']:.1f} ms, {floor['wall']:.1f} ms wall.",
        "",
        table([r for r in rows if r["Name"] != "Aggregated"] + [total]),
        "",
        f"CPU over the run ({cores} cores, {run['wall']:.0f} s wall, incl. ramp-up): "
        f"machine busy {share['machine']:.0f}%: server {share['server']:.0f}%, "
        + (
            f"PostgreSQL {share['database']:.0f}%, "
            if database_seen
            else "PostgreSQL not measurable (its processes are not visible from here), "
        )
        + f"load generator {share['generator']:.0f}%, everything else {others:.0f}% (of "
        f"which the hypervisor's steal {share['steal']:.0f}%) of the machine. Load average "
        f"(1 min) {run['load_before']:.1f} before the run, up to {run['load']:.1f} during "
        f"it{' — OTHER PROCESSES WERE COMPETING FOR THE CPU' if run['load_before'] > 1.5 else ''}.",
        "",
        f"Peak memory (RSS): gunicorn master {run['rss']['master'] / 2**20:.0f} MiB, "
        f"largest worker {run['rss']['worker'] / 2**20:.0f} MiB (target: web process "
        "< 500 MB).",
    ]
    if failures:
        section += ["", "Errors:", ""] + [
            f"- {f['Method']} {f['Name']}: {f['Occurrences']} × {f['Error']}" for f in failures
        ]
    return "\n".join(section)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="50,100", help="coordinators, e.g. 50 or 50,100")
    parser.add_argument("--duration", type=int, default=120, help="seconds measured per run")
    parser.add_argument("--workers", default="4", help="gunicorn workers, e.g. 4 or 3,5")
    parser.add_argument("--wait", type=float, nargs=2, default=[1.0, 3.0],
                        help="think time between a coordinator's requests (s)")  # fmt: skip
    parser.add_argument("--redis", default=REDIS_DEFAULT,
                        help="REDIS_URL of the shared cache ('' for each worker's memory)")  # fmt: skip
    parser.add_argument("--candidates", type=int, default=120_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--label", default="", help="what this run measures, for the results")
    args = parser.parse_args()
    users_list = [int(u) for u in args.users.split(",")]
    if not all(1 <= u <= 200 for u in users_list) or not 10 <= args.duration <= 600:
        raise SystemExit("--users 1..200, --duration 10..600")
    workers_list = [int(w) for w in args.workers.split(",")]

    WORK.mkdir(parents=True, exist_ok=True)
    database_prepare(fresh=args.fresh, candidates=args.candidates, seed=args.seed)
    academy = accounts_prepare(max(users_list))
    log(f"{ACADEMY}: {academy['candidates']} candidats, {academy['scripts']} copies {EXAM} "
        f"({academy['locked']} dans des lots verrouillés)")  # fmt: skip
    secret = os.environ.get("HARMONIE_SECRET_KEY") or secrets.token_urlsafe(50)
    env = server_env(secret, args.redis)
    source_map = ROOT / "harmonie" / "static" / "vendor" / "chart.umd.min.js.map"
    if not source_map.exists():
        # `make assets` copies chart.umd.min.js without the source map it names, which the
        # production storage (manifest) refuses: collectstatic fails without it.
        source_map.write_bytes((ROOT / "node_modules/chart.js/dist" / source_map.name).read_bytes())
    manage("collectstatic", "--no-input", "-v", "0", env=env)

    sections = []
    for users in users_list:
        for workers in workers_list:
            cache_empty(args.redis)
            port = free_port()
            server = server_start(workers=workers, env=env, port=port)
            try:
                sessions = sessions_open(port=port, names=academy["names"][:users])
                config = WORK / "locust-config.json"
                config.write_text(json.dumps({
                    "exam": EXAM, "sessions": sessions, "wait": args.wait,
                    **{k: academy[k] for k in ("schools", "departments", "qualifications",
                                               "graders")},
                }), encoding="utf-8")  # fmt: skip
                prefix = WORK / f"locust-{users}u-{workers}w"
                log(f"attente d'une machine calme (charge {os.getloadavg()[0]:.1f})")
                machine_settle()
                floor = floor_measure(port=port, session=sessions[0], server_pid=server.pid)
                log(f"plancher : {floor['server']:.1f} + {floor['database']:.1f} ms de CPU")
                log(f"{workers} workers gunicorn : {users} coordinateurs pendant {args.duration} s")
                run = locust_run(
                    port=port, users=users, duration=args.duration, config=config,
                    prefix=prefix, server_pid=server.pid,
                )  # fmt: skip
            finally:
                server_stop(server)
            sections.append(
                section_write(workers=workers, users=users, run=run, floor=floor, prefix=prefix)
            )

    cache = (
        f"Django's RedisCache, REDIS_URL={args.redis} (shared by the workers, emptied before "
        "each run)"
        if args.redis
        else "each worker's own memory (LocMemCache, no REDIS_URL)"
    )
    body = "\n".join([
        "## Set-up",
        f"- data: generated session of {args.candidates:,} candidates (seed {args.seed}), "
        f"academies merged into {ACADEMY}: **{academy['candidates']:,} candidates**, "
        f"{academy['scripts']:,} scripts of {EXAM} ({academy['locked']:,} in locked batches)",
        "- server: gunicorn sync workers on 127.0.0.1, HARMONIE_PRODUCTION=1 "
        "(HARMONIE_SSL_REDIRECT=0; requests carry X-Forwarded-Proto: https as behind a TLS "
        "proxy), PostgreSQL on the same machine, persistent connections (CONN_MAX_AGE 60)",
        f"- cache: {cache}",
        f"- load: Locust {_locust_version()} (FastHttpUser, one process) on the same machine, "
        "sharing its CPU with the server and the database: "
        f"{', '.join(str(u) for u in users_list)} coordinators of "
        f"{ACADEMY}, each logged in through the login form before the measurement, think "
        f"time {args.wait[0]:g}–{args.wait[1]:g} s between requests, {args.duration} s "
        "measured after all users were spawned",
        "- mix (weights): list page with a random filter and sort 4; API list walked 5 pages "
        "deep with the cursor 3; statistics page 2; statistics API 2; scenario populations "
        "(POST) 2; simulation (POST, writes a row) 1; linked filter options 1; editor page 1; "
        "dashboard 1",
        "- targets (issue 16, item 3): ≤ 12 ms of server and PostgreSQL CPU together per "
        "request; 100 coordinators at p95 < 150 ms, no errors",
        f"- run: {args.label}" if args.label else "",
        "",
        "## Results",
        "",
        *sections,
    ])  # fmt: skip
    path = results_write("load", body, PG_URL)
    log(f"→ {path.relative_to(ROOT)}")


def _locust_version() -> str:
    import locust

    return locust.__version__


if __name__ == "__main__":
    main()
