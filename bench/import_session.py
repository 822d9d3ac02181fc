"""Import timing: generate sessions of N candidates, import them into SQLite and PostgreSQL.

    .venv/bin/python bench/import_session.py 60000 600000 [--repeat 1] [--no-sqlite]

Each import runs `manage.py import_session` in a fresh, migrated database; the second
import of the same file (idempotent: nothing changes) is timed too. Results go to
bench/results/<date>-<host>-import.md.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import PY, WORK, results_write, run, session_file

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def fresh_database(kind: str, candidates: int) -> str:
    if kind == "sqlite":
        db = WORK / f"import-{candidates}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"
    name = f"harmonie_bench_import_{candidates}"
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"{PG_SERVER}/{name}"


def copy_floor(url: str, candidates: int) -> float:
    """The raw COPY time of the same rows: the imported database's data, dumped (not
    timed), restored with pg_restore (COPY per table) into an empty database of the same
    schema, indexes and constraints (foreign-key triggers off, as COPY of trusted data)."""
    name = f"harmonie_bench_import_floor_{candidates}"
    dump = WORK / f"import-{candidates}.dump"
    server = f"{PG_SERVER}/postgres"
    subprocess.run(["pg_dump", "--data-only", "-Fc", "-f", str(dump), url], check=True)
    subprocess.run(["psql", server, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", server, "-qc", f"CREATE DATABASE {name}"], check=True)
    schema = subprocess.run(
        ["pg_dump", "--schema-only", url], check=True, capture_output=True, text=True
    ).stdout
    subprocess.run(
        ["psql", "-q", f"{PG_SERVER}/{name}"], input=schema, text=True, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        ["pg_restore", "--data-only", "--disable-triggers", "-d", f"{PG_SERVER}/{name}",
         str(dump)],
        check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    subprocess.run(["psql", server, "-qc", f"DROP DATABASE {name}"], check=True)
    dump.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[60000, 600000])
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    kinds = [
        k
        for k, off in (("sqlite", options.no_sqlite), ("postgres", options.no_postgres))
        if not off
    ]
    rows = []
    for candidates in options.sizes:
        path = session_file(candidates)
        size_mb = path.stat().st_size / 1e6
        for kind in kinds:
            url = fresh_database(kind, candidates)
            env = {**os.environ, "DATABASE_URL": url, "HARMONIE_VAR_DIR": str(WORK / "var")}
            run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env)
            first = run([PY, "manage.py", "import_session", str(path)], env)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if kind == "postgres":
                seconds = copy_floor(url, candidates)
                floor = f"{seconds:,.1f} s ({first / seconds:.1f}×)"
            else:
                floor = "—"
            second = run([PY, "manage.py", "import_session", str(path)], env)
            rows.append(
                f"| {candidates:,} | {size_mb:,.0f} MB | {kind} | {first:,.1f} s | {floor} "
                f"| {second:,.1f} s | {peak_mb:,.0f} MB |"
            )
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## Import of a generated session (`manage.py import_session`)",
            "",
            "First import into an empty migrated database; second import of the same file",
            "(nothing changes). Peak RSS: the largest child process so far in the run.",
            "Floor (PostgreSQL): the same rows loaded by raw COPY (`pg_restore --data-only` of",
            "the imported data into an empty database of the same schema and indexes); the",
            "import also reads, validates and resolves the JSON file, in one transaction.",
            "",
            "| candidates | file | database | first import | raw COPY floor (ratio) | re-import "
            "| peak RSS |",
            "|---:|---:|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(results_write("import", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
