"""Validation and delivery of 60,000 and 600,000 marks, on PostgreSQL, real processes.

    .venv/bin/python bench/validation_delivery.py 60000 600000 [--workers 1,2] [--keep]

For each size: a PostgreSQL database `h5_bench_validation_N` holding one academy whose N
candidates are all registered for one exam (about 1 % absent, the rest with a script in a
locked batch of 100). Then, for each worker count of `--workers`, on that same database
with the delivery state emptied and both stand-ins started afresh (processes, new
databases):
- the preview (`validation_preview`: classes of candidates, work done),
- the validation (`validation_execute`: one transaction writing every message's exact
  payload, 5,000 records a message), with the peak memory of that process,
- the delivery by that many `db_worker` processes, started and connected beforehand, from
  the commit to the last acknowledgement recorded, with each worker's peak memory and CPU,
  the CPU of PostgreSQL and of the stand-ins over the same interval, and checks in the
  stand-ins' own databases (each record written once, each message applied once),
- the delivery report (`validation_report`) once everything is delivered.
Then the floor, per count: as many plain processes, each a loop that reads its share of
the recorded payloads with psycopg (as text) and POSTs them with httpx to fresh stand-ins,
recording each acknowledgement: the same bytes to the same remote systems, without Django,
the task queue, leases or the per-record check of the answer.
Results in bench/results/.
"""

import argparse
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import load_note, results_write
from validation_common import (
    PY,
    ROOT,
    SHARED_POSTGRES_PROCESSES,
    WORK,
    academy_fill,
    cpu_seconds,
    django_setup,
    peak_rss_mib,
    peak_rss_of_mib,
    postgres_cpu,
    processes_stop,
    run,
    standins_start,
)

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
STANDINS = WORK / "standins"
CORES = os.cpu_count() or 1


def database_prepare(candidates: int, keep: bool) -> str:
    name = f"h5_bench_validation_{candidates}"
    url = f"{PG_SERVER}/{name}"
    exists = subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    env = {**os.environ, "DATABASE_URL": url, "HARMONIE_VAR_DIR": str(WORK / "var")}
    if exists and keep:
        return url
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    seconds = run([PY, __file__, "--fill", str(candidates)], env)
    print(f"filled {candidates:,} candidates in {seconds:.0f} s", flush=True)
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    return url


def delivery_reset(url: str) -> None:
    """No validation, message or task left: the next run validates and delivers everything."""
    subprocess.run(
        ["psql", url, "-qc", "TRUNCATE validation_validation, django_tasks_database_dbtaskresult "
         "CASCADE"],
        check=True,
    )  # fmt: skip
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE validation_deliverymessage"], check=True)


# --- what the measuring process samples -------------------------------------------------


def machine_busy() -> float:
    """CPU seconds the whole machine has spent working so far, all cores (guest time is
    already in user time)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def processes_cpu() -> dict[int, tuple[str, float]]:
    """Every process's command line (shortened) and CPU seconds so far."""
    found = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is not None:
            words = process.info["cmdline"] or [process.info["name"] or "?"]
            found[process.pid] = (" ".join(words)[:70], times.user + times.system)
    return found


def cpu_snapshot(pids: list[int], database: str) -> dict:
    backends, shared = postgres_cpu(database)
    return {
        "at": time.perf_counter(),
        "pids": {pid: cpu_seconds(pid) for pid in pids},
        "backends": backends,
        "pg_shared": shared,
        "machine": machine_busy(),
        "everyone": processes_cpu(),
    }


def _elsewhere(label: str) -> bool:
    """Not the bench's: anything but PostgreSQL's shared processes and this bench."""
    if "validation_delivery.py" in label or "bin/postgres " in label:  # the postmaster
        return False
    if not label.startswith("postgres: "):
        return True
    title = label.split(": ")  # another database's backend, or a shared process
    return len(title) >= 3 and title[-1].strip() not in SHARED_POSTGRES_PROCESSES


def cpu_spent(before: dict, after: dict) -> dict:
    """Per process and in total, the CPU seconds between two snapshots; what other
    processes used meanwhile, busiest first."""
    backends = sum(cpu - before["backends"].get(pid, 0.0) for pid, cpu in after["backends"].items())
    ours = set(before["pids"]) | set(after["backends"])
    others = sorted(
        (
            (cpu - before["everyone"].get(pid, ("", 0.0))[1], label)
            for pid, (label, cpu) in after["everyone"].items()
            if pid not in ours and _elsewhere(label)
        ),
        reverse=True,
    )
    return {
        "interval": after["at"] - before["at"],
        "pids": {pid: after["pids"][pid] - before["pids"][pid] for pid in before["pids"]},
        "backends": backends,
        "pg": backends + after["pg_shared"] - before["pg_shared"],
        "machine": after["machine"] - before["machine"],
        "others": [(cpu, label) for cpu, label in others if cpu >= 0.5],
    }


class Stored(NamedTuple):
    """What one stand-in's own database holds after a delivery."""

    rows: int
    writes: int
    most_writes: int  # of one row
    messages: int
    applications: int
    replays: int


def standins_stored() -> dict[str, Stored]:
    found = {}
    for system, table in (("results", "marks"), ("payroll", "work_done")):
        db = sqlite3.connect(STANDINS / f"standin-{system}.sqlite3")
        rows = db.execute(f"SELECT count(*), sum(writes), max(writes) FROM {table}").fetchone()
        messages = db.execute(
            "SELECT count(*), sum(applications), sum(replays) FROM messages"
        ).fetchone()
        found[system] = Stored(*rows, *messages)
        db.close()
    return found


def scale_row(
    *, marks: int, who: str, wall: float, spent: dict, each: list[str], standin_pids: list[int]
) -> str:
    """One line of the scale-out table: what each process used of the cores, over the
    interval between the two snapshots (the wall time and the poll that saw the end)."""
    standins = sum(spent["pids"][pid] for pid in standin_pids)
    own = sum(spent["pids"].values()) - standins
    accounted = own + standins + spent["pg"]
    capacity = CORES * spent["interval"]
    return (
        f"| {marks:,} | {who} | {wall:.2f} s | {marks / wall:,.0f} | {'; '.join(each)} | "
        f"{spent['pg']:.1f} s ({spent['backends']:.1f} s) | {standins:.1f} s | "
        f"{accounted:.1f} s of {capacity:.1f} s = {accounted / capacity:.0%} "
        f"(machine {spent['machine'] / capacity:.0%}) | {_others(spent['others'])} |"
    )


def _others(others: list[tuple[float, str]]) -> str:
    if not others:
        return "none"
    busiest = "; ".join(f"`{label[:40]}` {cpu:.1f} s" for cpu, label in others[:2])
    return f"{sum(cpu for cpu, _ in others):.1f} s: {busiest}"


# --- a delivery by the task workers ------------------------------------------------------


def workers_start(count: int) -> list[subprocess.Popen]:
    """`count` workers, each waiting for tasks with its connection to PostgreSQL open."""
    logs = (WORK / "worker.log").open("a")
    command = [PY, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.1"]
    processes = [
        subprocess.Popen(
            [*command, "--no-startup-delay", "--no-reload"],
            cwd=ROOT,
            env=os.environ,
            stdout=logs,
            stderr=logs,
        )
        for _ in range(count)
    ]
    port = urlsplit(os.environ["DATABASE_URL"]).port or 5432
    deadline = time.monotonic() + 60
    waiting = {process.pid for process in processes}
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            connections = psutil.Process(pid).net_connections(kind="tcp")
            if any(c.raddr and c.raddr.port == port for c in connections):
                waiting.discard(pid)
        time.sleep(0.1)
    assert not waiting, f"workers not connected: {waiting}"
    time.sleep(0.5)  # past their first poll
    return processes


def measure(candidates: int, workers: int) -> list[str]:
    """In a child process whose DATABASE_URL and remote-system URLs point at the bench."""
    django_setup()
    from django.db import connection, transaction
    from django.db.models import Count, Max
    from django_tasks_db.models import DBTaskResult

    from harmonie.accounts.models import User
    from harmonie.referential.models import Exam
    from harmonie.validation.models import DeliveryMessage
    from harmonie.validation.report import validation_report
    from harmonie.validation.selectors import OPEN_STATES, validation_preview
    from harmonie.validation.services import validation_execute

    standin_pids = [int(pid) for pid in os.environ["BENCH_STANDIN_PIDS"].split(",")]
    database = connection.settings_dict["NAME"]
    user = User.objects.get(username="coord.bench")
    exam = Exam.objects.get(code="FRA-ECRIT")
    processes = workers_start(workers)
    pids = [process.pid for process in processes] + standin_pids
    try:
        rss_start = peak_rss_mib()
        started = time.perf_counter()
        preview = validation_preview(exam=exam, academy_id=user.academy_id)
        t_preview = time.perf_counter() - started

        committed: dict = {}

        def commit_stamp() -> None:  # first of the commit's callbacks: before any enqueue
            committed.update(wall=time.time(), perf=time.perf_counter())
            committed["cpu"] = cpu_snapshot(pids, database)

        started = time.perf_counter()
        with transaction.atomic():
            transaction.on_commit(commit_stamp)
            validation = validation_execute(user=user, exam_code="FRA-ECRIT")
        t_execute = committed["perf"] - started
        rss_execute = peak_rss_mib()
        messages = DeliveryMessage.objects.filter(validation=validation)
        while messages.filter(state__in=OPEN_STATES).exists():
            time.sleep(0.2)
        spent = cpu_spent(committed["cpu"], cpu_snapshot(pids, database))
        last_ack = messages.aggregate(last=Max("acknowledged_at"))["last"]
        t_delivery = last_ack.timestamp() - committed["wall"]
        peaks = [peak_rss_of_mib(process.pid) for process in processes]
    finally:
        processes_stop(processes)
    started = time.perf_counter()
    report = validation_report(validation=validation)
    t_report = time.perf_counter() - started
    marks = next(s for s in report.systems if s.system == "results")
    work = next(s for s in report.systems if s.system == "payroll")
    stored = standins_stored()
    results, payroll = stored["results"], stored["payroll"]
    tasks = dict(
        DBTaskResult.objects.filter(status="SUCCESSFUL")
        .values("task_path")
        .annotate(n=Count("id"))
        .values_list("task_path", "n")
    )
    sent = tasks.get("harmonie.validation.delivery.message_deliver_task", 0)
    rounds = tasks.get("harmonie.validation.delivery.deliveries_supervise_task", 0)
    attempts = dict(
        messages.values("attempts").annotate(n=Count("id")).values_list("attempts", "n")
    )
    count = messages.count()
    assert report.status == "delivered", report.as_dict()
    assert marks.delivered == preview.marks == results.rows == results.writes, stored
    assert results.most_writes == payroll.most_writes == 1, stored
    assert results.messages + payroll.messages == count, (stored, count)
    assert results.applications + payroll.applications == count, stored  # applied once each
    assert attempts == {1: count}, attempts  # claimed once each
    label = f"| {candidates:,} | {preview.marks:,} ({preview.mode}) | {len(preview.work_done):,} |"
    each = [
        f"{peaks[n]:.0f} MiB, {spent['pids'][process.pid]:.1f} s"
        for n, process in enumerate(processes)
    ]
    return [
        "ROW" + f"{label} preview | {t_preview:.2f} s | |",
        "ROW" + f"{label} validation: {count} messages written | {t_execute:.2f} s | "
        f"{rss_execute:.0f} MiB (from {rss_start:.0f}) |",
        "ROW" + f"{label} delivery, {workers} worker(s), commit to last ack | {t_delivery:.2f} s "
        f"({preview.marks / t_delivery:,.0f} marks/s) | workers {', '.join(f'{p:.0f}' for p in peaks)}"
        " MiB |",
        "ROW" + f"{label} delivery report | {t_report * 1000:.0f} ms | |",
        "ROW" + f"{label} checked: {results.rows:,} marks stored once, "
        f"{work.delivered:,} work done; {count} messages claimed, applied once each, "
        f"{results.replays + payroll.replays} replays; tasks run: {sent} deliveries, "
        f"{rounds} supervisor round(s) | | |",
        "SCALE"
        + scale_row(
            marks=preview.marks,
            who=f"{workers} `db_worker`",
            wall=t_delivery,
            spent=spent,
            each=each,
            standin_pids=standin_pids,
        ),
    ]


# --- the floor: plain loops, no Django ---------------------------------------------------


def floor_client(
    url: str, standins: dict[str, str], share: list[tuple], barrier: Any, results: Any
) -> None:
    import httpx
    import psycopg

    paths = {"results": "/marks", "payroll": "/work-done"}
    with (
        psycopg.connect(url, autocommit=True) as db,
        httpx.Client(timeout=60) as client,
    ):
        barrier.wait()
        started, cpu = time.time(), time.process_time()
        for message_id, system, key, records in share:
            body = db.execute(
                "SELECT payload::text FROM validation_deliverymessage WHERE id = %s", (message_id,)
            ).fetchone()[0]
            response = client.post(
                standins[system] + paths[system],
                content=body.encode(),
                headers={"Idempotency-Key": key, "Content-Type": "application/json"},
            )
            assert response.status_code == 200
            assert len(response.json()["results"]) == records
            db.execute(
                "UPDATE validation_deliverymessage SET acknowledged_at = now() WHERE id = %s",
                (message_id,),
            )
        results.put((os.getpid(), started, time.time(), time.process_time() - cpu))
        barrier.wait()  # the connection stays open until its backend's CPU is read


def floor(clients: int) -> list[str]:
    """The last validation's messages sent again by `clients` plain processes, round robin
    in the order the workers' queue holds them."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    database = urlsplit(url).path.lstrip("/")
    standin_pids = [int(pid) for pid in os.environ["BENCH_STANDIN_PIDS"].split(",")]
    standins = {
        "results": os.environ["HARMONIE_RESULTS_URL"],
        "payroll": os.environ["HARMONIE_PAYROLL_URL"],
    }
    with psycopg.connect(url) as db:
        messages = db.execute(
            """
            SELECT m.id, m.system, 'harmonie:' || v.public_id || ':' || m.system || ':' || m.number,
                   m.record_count
            FROM validation_deliverymessage m JOIN validation_validation v ON v.id = m.validation_id
            WHERE v.id = (SELECT max(id) FROM validation_validation)
            ORDER BY m.system, m.number
            """
        ).fetchall()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()
    processes = [
        context.Process(
            target=floor_client,
            args=(url, standins, messages[n::clients], barrier, results),
        )
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    pids = [process.pid for process in processes] + standin_pids
    before = cpu_snapshot(pids, database)
    barrier.wait()
    finished = [results.get(timeout=600) for _ in processes]
    spent = cpu_spent(before, cpu_snapshot(pids, database))
    barrier.wait()
    for process in processes:
        process.join()
    wall = max(end for _, _, end, _ in finished) - min(start for _, start, _, _ in finished)
    marks = sum(records for _, system, _, records in messages if system == "results")
    results = standins_stored()["results"]
    assert results.rows == results.writes == marks, results
    assert results.most_writes == 1, results
    assert results.applications == results.messages, results
    return [
        "SCALE"
        + scale_row(
            marks=marks,
            who=f"floor: {clients} plain loop(s)",
            wall=wall,
            spent=spent,
            each=[f"{cpu:.1f} s" for _, _, _, cpu in finished],
            standin_pids=standin_pids,
        )
    ]


def machine_quiet(limit: float = 20.0, timeout: float = 180.0) -> float:
    """Wait (up to `timeout` s) for two seconds in a row of the machine under `limit` %
    busy: a test run or another job would share the cores being measured."""
    deadline = time.monotonic() + timeout
    busy = 100.0
    while time.monotonic() < deadline:
        busy = max(psutil.cpu_percent(interval=1.0), psutil.cpu_percent(interval=1.0))
        if busy < limit:
            break
    return busy


def child_run(url: str, args: list[str]) -> list[str]:
    """Run this script with `args` in a process of its own, against fresh stand-ins."""
    busy = machine_quiet()
    if busy >= 20.0:
        print(f"machine still {busy:.0f} % busy: measuring anyway", flush=True)
    urls, standins = standins_start(STANDINS)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HARMONIE_VAR_DIR": str(WORK / "var"),
        "HARMONIE_RESULTS_URL": urls["results"],
        "HARMONIE_PAYROLL_URL": urls["payroll"],
        "HARMONIE_LOG_LEVEL": "WARNING",
        "BENCH_STANDIN_PIDS": ",".join(str(process.pid) for process in standins),
    }
    try:
        out = subprocess.run(
            [PY, __file__, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
    finally:
        processes_stop(standins)
    found = [line for line in out.splitlines() if line.startswith(("ROW", "SCALE"))]
    for line in found:
        print(line, flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--workers", default="1,2", help="worker counts to compare: 1,2")
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    counts = [int(count) for count in options.workers.split(",")]
    if options.fill:
        django_setup()
        academy_fill(candidates=options.fill)
        return
    if options.measure:
        print("\n".join(measure(options.measure, counts[0])), flush=True)
        return
    if options.floor:
        print("\n".join(floor(counts[0])), flush=True)
        return
    rows: list[str] = []
    scale: list[str] = []
    for candidates in options.sizes:
        url = database_prepare(candidates, options.keep)
        found: list[str] = []
        for workers in counts:
            delivery_reset(url)
            found += child_run(url, ["--measure", str(candidates), "--workers", str(workers)])
        for clients in counts:  # on the last validation's messages
            found += child_run(url, ["--floor", "--workers", str(clients)])
        rows += [line[3:] for line in found if line.startswith("ROW")]
        scale += [line[5:] for line in found if line.startswith("SCALE")]
    body = "\n".join(
        [
            "## Validation and delivery (PostgreSQL, stand-ins and workers as processes)",
            "",
            f"Command: `.venv/bin/python bench/validation_delivery.py {' '.join(map(str, options.sizes))}"
            f" --workers {options.workers}`",
            "",
            "One academy, every candidate registered for one exam: about 1 % recorded absent",
            "(sent as AB: full transmission), the others with a script in a locked batch of 100.",
            "Messages of 5,000 records. For each worker count, on the same database: the delivery",
            "state emptied, both stand-ins started afresh, the workers started and connected, then",
            "a validation; its delivery is timed from the commit to the last acknowledgement",
            "recorded. The stand-ins' own databases are read afterwards to check that every mark",
            "was stored exactly once and every message applied once.",
            "",
            "| candidates | marks (mode) | graders | step | time | peak memory |",
            "|---:|---:|---:|---|---:|---:|",
            *rows,
            "",
            "### Scale-out: who used the cores during the delivery",
            "",
            "CPU seconds from the commit to the poll that saw the last acknowledgement (psutil:",
            "user + system). PostgreSQL: the backends of the bench database (in brackets) and the",
            "processes every database shares (postmaster, WAL writer, checkpointer...); other",
            "databases' backends are left out. Stand-ins: both processes (one message applied at",
            "a time, under their lock). CPU used of the cores: workers, PostgreSQL and stand-ins",
            f"together over the {CORES} cores' capacity in that interval, and in brackets the whole",
            "machine's busy time over the same capacity. Other processes: what else used 0.5 s",
            "of CPU or more meanwhile (other databases' backends included), busiest first.",
            "The floor sends the same recorded payloads again, to fresh stand-ins, from plain",
            "processes (psycopg reads `payload::text`, httpx POSTs it on one kept connection, the",
            "answer's length is checked, the acknowledgement written in one UPDATE).",
            "",
            "| marks | delivered by | wall, commit to last ack | marks/s | each worker: peak memory, CPU | PostgreSQL CPU (bench db) | stand-ins CPU | CPU used of the cores | other processes meanwhile |",
            "|---:|---|---:|---:|---|---:|---:|---|---|",
            *scale,
            "",
            load_note(),
        ]
    )  # fmt: skip
    print(results_write("validation-delivery", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
