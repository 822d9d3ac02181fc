"""Validation and delivery of 60,000 and 600,000 marks, on PostgreSQL, real processes.

    .venv/bin/python bench/validation_delivery.py 60000 600000 [--workers 2] [--keep]

For each size: a fresh PostgreSQL database `h5_bench_validation_N` holding one academy
whose N candidates are all registered for one exam (about 1 % absent, the rest with a
script in a locked batch of 100), both stand-ins as processes with fresh databases, then:
- the preview (`validation_preview`: classes of candidates, work done),
- the validation (`validation_execute`: one transaction writing every message's exact
  payload, 5,000 records a message), with the peak memory of that process,
- the delivery, by `--workers` `db_worker` processes, from commit to the last message
  acknowledged, with the workers' peak memory, checked in the stand-ins' own databases
  (each record written once),
- the delivery report (`validation_report`) once everything is delivered.
Results in bench/results/.
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from machine import results_write
from validation_common import (
    PY,
    ROOT,
    WORK,
    academy_fill,
    django_setup,
    peak_rss_mib,
    processes_stop,
    run,
    standins_start,
)

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def database_prepare(candidates: int, keep: bool) -> str:
    name = f"h5_bench_validation_{candidates}"
    url = f"{PG_SERVER}/{name}"
    exists = subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    env = {**os.environ, "DATABASE_URL": url, "HARMONIE_VAR_DIR": str(WORK / "var")}
    if exists and keep:
        subprocess.run(
            ["psql", url, "-qc", "TRUNCATE validation_deliverymessage, validation_schoolarchive, "
             "validation_validation, django_tasks_database_dbtaskresult CASCADE"],
            check=True,
        )  # fmt: skip
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


def measure(candidates: int, workers: int) -> list[str]:
    """In a child process whose DATABASE_URL and remote-system URLs point at the bench."""
    django_setup()
    from django.db import connection

    from harmonie.accounts.models import User
    from harmonie.referential.models import Exam
    from harmonie.validation.report import validation_report
    from harmonie.validation.selectors import validation_preview
    from harmonie.validation.services import validation_execute

    user = User.objects.get(username="coord.bench")
    exam = Exam.objects.get(code="FRA-ECRIT")
    rss_start = peak_rss_mib()
    started = time.perf_counter()
    preview = validation_preview(exam=exam, academy_id=user.academy_id)
    t_preview = time.perf_counter() - started

    started = time.perf_counter()
    validation = validation_execute(user=user, exam_code="FRA-ECRIT")
    t_execute = time.perf_counter() - started
    rss_execute = peak_rss_mib()
    messages = validation.messages.count()
    connection.close()

    logs = (WORK / "worker.log").open("w")
    worker = [PY, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.1"]
    worker_processes = [
        subprocess.Popen(
            [*worker, "--no-startup-delay"], cwd=ROOT, env=os.environ, stdout=logs, stderr=logs
        )
        for _ in range(workers)
    ]
    started = time.perf_counter()
    watched = [psutil.Process(process.pid) for process in worker_processes]
    worker_rss = 0
    try:
        while True:
            for process in watched:  # the worker processes' peak memory, sampled
                with contextlib.suppress(psutil.NoSuchProcess):
                    worker_rss = max(worker_rss, process.memory_info().rss)
            validation.refresh_from_db()
            report = validation_report(validation=validation)
            if report.status != "in_progress":
                break
            time.sleep(0.5)
        t_delivery = time.perf_counter() - started
    finally:
        processes_stop(worker_processes)
    started = time.perf_counter()
    report = validation_report(validation=validation)
    t_report = time.perf_counter() - started
    marks = next(s for s in report.systems if s.system == "results")
    work = next(s for s in report.systems if s.system == "payroll")
    written = (
        sqlite3.connect(WORK / "standins" / "standin-results.sqlite3")
        .execute("SELECT count(*), sum(writes), max(writes) FROM marks")
        .fetchone()
    )
    assert report.status == "delivered", report.as_dict()
    assert marks.delivered == preview.marks == written[0] == written[1], (marks.delivered, written)
    assert written[2] == 1
    label = f"| {candidates:,} | {preview.marks:,} ({preview.mode}) | {len(preview.work_done):,} |"
    return [
        f"{label} preview | {t_preview:.2f} s | |",
        f"{label} validation: {messages} messages written | {t_execute:.2f} s | "
        f"{rss_execute:.0f} MiB (from {rss_start:.0f}) |",
        f"{label} delivery, {workers} worker(s), commit to last ack | {t_delivery:.1f} s "
        f"({preview.marks / t_delivery:,.0f} marks/s) | largest worker {worker_rss / 2**20:.0f} MiB "
        "(sampled) |",
        f"{label} delivery report | {t_report * 1000:.0f} ms | |",
        f"{label} checked: {written[0]:,} marks stored once, {work.delivered:,} work done | | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.fill:
        django_setup()
        academy_fill(candidates=options.fill)
        return
    if options.measure:
        for row in measure(options.measure, options.workers):
            print("ROW" + row, flush=True)
        return
    rows: list[str] = []
    for candidates in options.sizes:
        url = database_prepare(candidates, options.keep)
        urls, standins = standins_start(WORK / "standins")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "HARMONIE_VAR_DIR": str(WORK / "var"),
            "HARMONIE_RESULTS_URL": urls["results"],
            "HARMONIE_PAYROLL_URL": urls["payroll"],
            "HARMONIE_LOG_LEVEL": "WARNING",
        }
        try:
            out = subprocess.run(
                [PY, __file__, "--measure", str(candidates), "--workers", str(options.workers)],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
        finally:
            processes_stop(standins)
        found = [line[3:] for line in out.splitlines() if line.startswith("ROW")]
        for line in found:
            print(line, flush=True)
        rows.extend(found)
    body = "\n".join(
        [
            "## Validation and delivery (PostgreSQL, stand-ins and workers as processes)",
            "",
            f"Command: `.venv/bin/python bench/validation_delivery.py {' '.join(map(str, options.sizes))}"
            f" --workers {options.workers}`",
            "",
            "One academy, every candidate registered for one exam: about 1 % recorded absent",
            "(sent as AB: full transmission), the others with a script in a locked batch of 100.",
            "Messages of 5,000 records. Delivery: `db_worker` processes, from the commit of the",
            "validation to the last acknowledged message; the stand-ins' own databases are read",
            "afterwards to check that every mark was stored exactly once.",
            "",
            "| candidates | marks (mode) | graders | step | time | peak memory |",
            "|---:|---:|---:|---|---:|---:|",
            *rows,
        ]
    )
    print(results_write("validation-delivery", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
