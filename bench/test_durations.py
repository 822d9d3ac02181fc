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

`--same-settings 'WHITENOISE_AUTOREFRESH = True'` runs both checkouts with the same lines
added to their test settings, so that a change of the tests' own settings does not hide or
make up a change of the code's speed.
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


def parse(text: str) -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            spent[match.group(3)] += float(match.group(1))
    return spent


def durations(
    checkout: Path, tests: list[str], log: Path | None = None, settings: Path | None = None
) -> dict[str, float]:
    """One run's durations; its pytest output is kept in `log` (`--logs` reads it again).
    `settings`: a directory holding `same_settings.py`, run instead of the checkout's own
    test settings (`--same-settings`)."""
    env = dict(os.environ)
    chosen: list[str] = []
    if settings is not None:
        env["PYTHONPATH"] = str(settings)
        chosen = ["--ds", "same_settings"]
    out = subprocess.run(
        [
            str(checkout / ".venv/bin/python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not browser",
            "--durations=0",
            "--durations-min=0.01",
            *chosen,
            *tests,
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if log is not None:
        log.write_text(out.stdout, encoding="utf-8")
    return parse(out.stdout)


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
        "--same-settings",
        default="",
        help="settings lines added to config.test_settings in both checkouts, so that a "
        "change of the tests' settings (WHITENOISE_AUTOREFRESH = True) compares the code alone",
    )
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)
    settings = None
    if args.same_settings:
        settings = Path(tempfile.mkdtemp(prefix="same-settings-"))
        (settings / "same_settings.py").write_text(
            "from config.test_settings import *  # noqa: F403\n"
            + args.same_settings.replace("; ", "\n")
            + "\n"
        )

    def run(checkout: Path, tests: list[str], name: str) -> dict[str, float]:
        log = args.logs / f"{name}.log"
        if args.from_logs:
            return parse(log.read_text(encoding="utf-8"))
        return durations(checkout, tests, log, settings)

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
    lines = [
        f"Command: `.venv/bin/python bench/test_durations.py {args.old} {args.new} "
        f"--rounds {args.rounds}"
        + (f" --same-settings '{args.same_settings}'" if args.same_settings else "")
        + (f" --logs {args.logs} --from-logs" if args.from_logs else "")
        + "`",
        "",
        f"Old: {args.old} at {commit(args.old)}, new: {args.new} at {commit(args.new)}. "
        + ("Summarised from the runs' kept logs." if args.from_logs else load_note()),
        "",
        f"One run each: the whole suite without the browser tests {sum(old.values()):,.1f} s "
        f"→ {sum(new.values()):,.1f} s; {len(first)} tests of at least 0.5 s in both, "
        f"median ratio {statistics.median(row[0] for row in first):.2f}, "
        f"{sum(row[0] > 1.10 for row in first)} more than 10 % slower.",
        "",
        f"Those ({len(flagged)} test functions, every parameter) run again {args.rounds} "
        "times, alternating, best run each: "
        f"{len(again)} tests of at least 0.3 s, median ratio "
        f"{statistics.median(row[0] for row in again) if again else 1:.2f}, "
        f"{sum(best_old[row[3]] for row in again):,.1f} s → "
        f"{sum(best_new[row[3]] for row in again):,.1f} s in all. More than 10 % slower:",
        "",
        "| test | old | new | ratio |",
        "|---|---:|---:|---:|",
    ]
    for ratio, before, after, test in again:
        if ratio > 1.10:
            lines.append(f"| `{test}` | {before:.2f} s | {after:.2f} s | {ratio:.2f} |")
    print(results_write("test-durations", "\n".join(lines)))


if __name__ == "__main__":
    main()
