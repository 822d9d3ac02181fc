"""Executions and their cancellations alternated in one process, each split into its two
bulk writes, beside the raw UPDATE floor of the same run (issue 16, item 1).

    .venv/bin/python bench/execution_repeat.py [600000] [--academy-share 0.1] [--turns 5]

`bench/mass_harmonisation.py` times one execution per run, the first of its process,
after the simulations it measures; this one repeats it. It reuses that benchmark's
database (h4_bench_<N>[_<share>pc]; filled the same way when missing), and for each turn:
the five scenarios are simulated and executed, then their reset replayed (the
cancellation: the database is back where it was). Before each execution the script table
is vacuumed (as autovacuum would have), outside the timing, as before each floor run;
`--no-vacuum` executes on the dead rows the turn before left instead.
Timed: the whole `harmonisation_execute` (lock, checks, writes, audit, commit), and in it
`effects_write` (the effects' binary COPY) and `scripts_write` (the scripts' UPDATE
joined to them); the rest is the transaction around them. The floor:
`mass_harmonisation.raw_update_floor`, the same UPDATE on as many random scripts with
its values as array literals, outside the ORM. Median and best over the turns.
Results: bench/results/<date>-<host>-execution-repeat[-<share>pc].md.
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
from machine import load_note, machine_settle, results_write
from mass_harmonisation import SCENARIOS, fresh_database, populate, raw_update_floor


def worker(candidates: int, share: float, turns: int, vacuum: bool) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from harmonie.accounts.models import User
    from harmonie.harmonisation import services
    from harmonie.harmonisation.services import harmonisation_execute, simulation_create
    from harmonie.marking.models import Script

    if not Script.objects.exists():
        populate(candidates, share)
    machine_settle()
    spent: dict[str, float] = {}

    def timing(name, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = time.perf_counter() - start

        return timed

    services.effects_write = timing("effects COPY", services.effects_write)
    services.scripts_write = timing("scripts UPDATE", services.scripts_write)
    user = User.objects.get(username="coord.bench")
    reset = [{**scenario, "action": {"type": "reset"}} for scenario in SCENARIOS]
    runs: dict[str, list[float]] = {}
    applied = 0
    for _ in range(turns):
        for kind, scenarios in (("execution", SCENARIOS), ("cancellation", reset)):
            simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
            if kind == "execution":
                applied = sum(s["applied"] for s in simulation.result["scenarios"])
            if vacuum:
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM marking_script")
            spent.clear()
            start = time.perf_counter()
            harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
            total = time.perf_counter() - start
            runs.setdefault(f"{kind}", []).append(total)
            for name, seconds in spent.items():
                runs.setdefault(f"{kind}: {name}", []).append(seconds)
            runs.setdefault(f"{kind}: the rest", []).append(total - sum(spent.values()))
    floor = raw_update_floor(count=applied, repeat=turns)
    scope = Script.objects.filter(academy_id=user.academy_id).count()
    return {"runs": runs, "floor": floor, "applied": applied, "scope": scope}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("candidates", nargs="?", type=int, default=600000)
    parser.add_argument("--academy-share", type=float, default=0.1)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="execute on the dead rows the turn before left (autovacuum not run yet)",
    )
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(worker(args.candidates, args.academy_share, args.turns, not args.no_vacuum))
        )
        return
    url = fresh_database(args.candidates, args.academy_share, reuse=True)
    exists = subprocess.run(
        ["psql", url, "-Atc", "SELECT 1"], capture_output=True, text=True, check=False
    )
    if exists.returncode:
        url = fresh_database(args.candidates, args.academy_share)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            str(args.candidates),
            "--academy-share",
            str(args.academy_share),
            "--turns",
            str(args.turns),
            "--worker",
            *(["--no-vacuum"] if args.no_vacuum else []),
        ],
        env={
            **os.environ,
            "DATABASE_URL": url,
            "HARMONIE_DB_CONN_MAX_AGE": "0",
            # As the mass harmonisation bench: the population an execution leaves is
            # shared through Redis.
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        },
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:,.0f} ms (best {min(values) * 1000:,.0f})"

    lines = [
        f"Command: `.venv/bin/python bench/execution_repeat.py {args.candidates} "
        f"--academy-share {args.academy_share} --turns {args.turns}"
        f"{' --no-vacuum' if args.no_vacuum else ''}`",
        "",
        f"{args.candidates:,} candidates, {data['scope']:,} scripts in the coordinator's "
        f"academy; {data['applied']:,} scripts changed by each execution and put back by its "
        f"cancellation; {args.turns} turns in one process; the script table "
        + ("not vacuumed between turns" if args.no_vacuum else "vacuumed before each execution")
        + f". {load_note()}",
        "",
        "| measure | median (best) |",
        "|---|---|",
    ]
    for name, values in data["runs"].items():
        lines.append(f"| {name} | {cell(values)} |")
    lines.append(
        f"| raw SQL floor: the UPDATE alone on {data['applied']:,} random scripts | "
        f"{cell(data['floor'])} |"
    )
    suffix = "" if args.academy_share >= 1 else f"-{round(args.academy_share * 100)}pc"
    suffix += "-no-vacuum" if args.no_vacuum else ""
    print(results_write(f"execution-repeat{suffix}", "\n".join(lines), pg_url=url))


if __name__ == "__main__":
    main()
