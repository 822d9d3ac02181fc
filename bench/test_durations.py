"""Per-test durations of two checkouts, compared (issue 16: "no test got slower by more
than 10 %").

    .venv/bin/python bench/test_durations.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 3]

Both checkouts (git worktrees or clones, each with the `.venv` and `node_modules` of this
one linked in) run the suite without the browser tests once each with
`pytest --durations=0`; the tests of at least 0.5 s in either run that are more than 10 %
slower in the new one are then run again, old and new alternating, `--rounds` times, and
each test keeps its best run (setup, call and teardown together), so that a busy minute of
the machine does not count as a regression. Each run's pytest output is kept in `--logs`
(default var/test-durations/); `--from-logs` summarises them again. Results: bench/results/<date>-<host>-test-
durations.md.

Each test's CPU time in the pytest process is compared by default (`bench/test_cpu.py`,
a pytest plugin): on a VM the wall clock also counts the hypervisor's steal and the
machine's hiccups, ±20 % per test between runs; `--measure wall` compares pytest's
durations instead. `--same-settings 'WHITENOISE_AUTOREFRESH = True'` runs both checkouts
with the same lines added to their test settings, so that a change of the tests' own
settings does not hide or make up a change of the code's speed.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import load_note, results_write

LINE = re.compile(r"\s*([\d.]+)s (setup|call|teardown)\s+(\S+)")
CPU_LINE = re.compile(r"CPU ([\d.]+) (.+)$")
SQL_LINE = re.compile(r"SQL (\d+) (.+)$")
BENCH = Path(__file__).resolve().parent
MEASURES = {
    "cpu": "CPU time in the pytest process",
    "wall": "wall time",
    "sql": "number of SQL statements",
}


def parse(text: str, measure: str = "wall") -> dict[str, float]:
    """Each test's seconds in a run's output: wall (pytest's --durations, setup, call and
    teardown summed) or cpu (the test_cpu plugin's lines)."""
    spent: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if measure == "sql":
            found = SQL_LINE.match(line)
            if found:
                spent[found.group(2)] += float(found.group(1))
            continue
        if measure == "cpu":
            found = CPU_LINE.match(line)
            if found:
                spent[found.group(2)] += float(found.group(1))
            continue
        match = LINE.match(line)
        if match:
            spent[match.group(3)] += float(match.group(1))
    return spent


def same_settings_write(lines: str, directory: Path) -> Path:
    """`directory`, holding `same_settings.py`: config.test_settings and `lines` ("; "
    between two), the settings both checkouts run with (`--same-settings`)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "same_settings.py").write_text(
        "from config.test_settings import *  # noqa: F403\n" + lines.replace("; ", "\n") + "\n"
    )
    return directory


def pytest_command(
    checkout: Path, *, plugin: str, settings: Path | None
) -> tuple[list[str], dict[str, str]]:
    """The checkout's `python -m pytest -q` with a plugin of bench/, and the settings of
    `settings` (same_settings_write) when given; and the environment it runs in."""
    env = dict(os.environ, PYTHONPATH=str(BENCH))
    command = [str(checkout / ".venv/bin/python"), "-m", "pytest", "-q"]
    command += ["-p", "no:cacheprovider", "-p", plugin]
    if settings is not None:
        env["PYTHONPATH"] += os.pathsep + str(settings)
        command += ["--ds", "same_settings"]
    return command, env


def durations(
    checkout: Path, tests: list[str], log: Path | None = None, settings: Path | None = None
) -> str:
    """One run's pytest output (durations and CPU lines), kept in `log` (`--logs` reads it
    again).
    `settings`: a directory holding `same_settings.py`, run instead of the checkout's own
    test settings (`--same-settings`)."""
    command, env = pytest_command(checkout, plugin="test_cpu", settings=settings)
    out = subprocess.run(
        [*command, "-m", "not browser", "--durations=0", "--durations-min=0.01", *tests],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if log is not None:
        log.write_text(out.stdout, encoding="utf-8")
    return out.stdout


def commit(checkout: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"`{out.stdout.strip()[:80]}`"


def slower(old: dict[str, float], new: dict[str, float], least: float) -> list[tuple]:
    rows = []
    for test in new.keys() & old.keys():
        if max(old[test], new[test]) >= least and old[test]:
            rows.append((new[test] / old[test], old[test], new[test], test))
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path("var/test-durations"),
        help="where each run's pytest output is kept",
    )
    parser.add_argument(
        "--from-logs",
        action="store_true",
        help="summarise the runs kept in --logs instead of running them again",
    )
    parser.add_argument(
        "--measure",
        choices=("cpu", "wall", "sql"),
        default="cpu",
        help="compare each test's CPU time in the pytest process (default), its wall time, "
        "or its number of SQL statements",
    )
    parser.add_argument("--name", default="", help="suffix of the results file's name")
    parser.add_argument(
        "--again",
        type=int,
        default=0,
        help="run the tests still more than 10 %% slower this many more rounds, alternating",
    )
    parser.add_argument(
        "--same-settings",
        default="",
        help="settings lines added to config.test_settings in both checkouts, so that a "
        "change of the tests' settings (WHITENOISE_AUTOREFRESH = True) compares the code alone",
    )
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    settings = None
    if args.same_settings:
        settings = same_settings_write(
            args.same_settings, Path(tempfile.mkdtemp(prefix="same-settings-"))
        )

    def run(checkout: Path, tests: list[str], name: str) -> dict[str, float]:
        log = args.logs / f"{name}.log"
        if args.from_logs:
            return parse(log.read_text(encoding="utf-8"), args.measure)
        return parse(durations(checkout, tests, log, settings), args.measure)

    unit = {"cpu": "s of CPU", "wall": "s", "sql": "statements"}[args.measure]

    old, new = run(args.old, [], "old-all"), run(args.new, [], "new-all")
    first = slower(old, new, 0.5)
    flagged = sorted({row[3].split("[")[0] for row in first if row[0] > 1.10})
    best_old: dict[str, float] = {}
    best_new: dict[str, float] = {}
    for turn in range(1, args.rounds + 1):
        for checkout, best, name in ((args.old, best_old, "old"), (args.new, best_new, "new")):
            for test, seconds in run(checkout, flagged, f"{name}-{turn}").items():
                best[test] = min(seconds, best.get(test, seconds))
    again = slower(best_old, best_new, 0.3)
    still = [row[3] for row in again if row[0] > 1.10]
    for turn in range(1, args.again + 1 if still else 1):
        for checkout, best, name in ((args.old, best_old, "old"), (args.new, best_new, "new")):
            for test, seconds in run(checkout, still, f"{name}-again-{turn}").items():
                best[test] = min(seconds, best.get(test, seconds))
    final = slower(best_old, best_new, 0.3) if args.again and still else again

    def statements(name: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for log in sorted(args.logs.glob(f"{name}-*.log")):
            found.update(parse(log.read_text(encoding="utf-8"), "sql"))
        return found

    sql_old, sql_new = statements("old"), statements("new")
    lines = [
        f"Command: `.venv/bin/python bench/test_durations.py {args.old} {args.new} "
        f"--rounds {args.rounds} --measure {args.measure}"
        + (f" --again {args.again}" if args.again else "")
        + (f" --name {args.name}" if args.name else "")
        + (f" --same-settings '{args.same_settings}'" if args.same_settings else "")
        + (f" --logs {args.logs} --from-logs" if args.from_logs else "")
        + "`",
        "",
        f"Old: {args.old} at {commit(args.old)}, new: {args.new} at {commit(args.new)}. "
        + ("Summarised from the runs' kept logs." if args.from_logs else load_note()),
        "",
        f"Measured: each test's {MEASURES[args.measure]} (setup, call and teardown).",
        "",
        f"One run each: the whole suite without the browser tests {sum(old.values()):,.1f} {unit} "
        f"→ {sum(new.values()):,.1f} {unit}; {len(first)} tests of at least 0.5 s in either, "
        f"median ratio {statistics.median(row[0] for row in first):.2f}, "
        f"{sum(row[0] > 1.10 for row in first)} more than 10 % slower.",
        "",
        f"Those ({len(flagged)} test functions, every parameter) run again {args.rounds} "
        "times, alternating, best run each: "
        f"{len(again)} tests of at least 0.3 s, median ratio "
        f"{statistics.median(row[0] for row in again) if again else 1:.2f}, "
        f"{sum(best_old[row[3]] for row in again):,.1f} {unit} → "
        f"{sum(best_new[row[3]] for row in again):,.1f} {unit} in all"
        + (
            f"; the {len(still)} still more than 10 % slower run {args.again} more rounds, "
            f"best of {args.rounds + args.again}: median ratio "
            f"{statistics.median(row[0] for row in final if row[3] in still):.2f}"
            if args.again and still
            else ""
        )
        + ". More than 10 % slower, with each one's SQL statements (the same in every run):",
        "",
        "| test | old | new | ratio | SQL statements old → new |",
        "|---|---:|---:|---:|---:|",
    ]
    for ratio, before, after, test in final:
        if ratio > 1.10:
            queries = f"{sql_old.get(test, 0):.0f} → {sql_new.get(test, 0):.0f}"
            lines.append(f"| `{test}` | {before:.2f} s | {after:.2f} s | {ratio:.2f} | {queries} |")
    if not any(row[0] > 1.10 for row in final):
        lines.append("| none | | | | |")
    name = "test-durations" + (f"-{args.name}" if args.name else "")
    print(results_write(name, "\n".join(lines)))


if __name__ == "__main__":
    main()
