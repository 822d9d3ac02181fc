"""Instructions each test executes, in two checkouts, counted by valgrind's callgrind
(issue 16: "no test got slower by more than 10 %").

    .venv/bin/python bench/test_instructions.py OLD_CHECKOUT NEW_CHECKOUT TEST_ID...

Per-test CPU time on this VM moves by 10-30 % between runs of the same code (the
hypervisor, the caches), even as the best of 7; the number of instructions a test runs
does not (0.2 % between two runs of the same checkout). Each checkout runs the given tests
in one pytest process under `valgrind --tool=callgrind --instr-atstart=no`, with a fixed
PYTHONHASHSEED and the same test settings (`--same-settings`, as in
bench/test_durations.py); the plugin bench/test_callgrind.py switches the counting on for
each test's setup, call and teardown and dumps it after, so start-up and the migrations
(a first test, not counted) are not. Slow: about 50 times the test's own time, plus a minute of start-up.
Results: bench/results/<date>-<host>-test-instructions.md.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import load_note, results_write
from test_durations import pytest_command, same_settings_write

BENCH = Path(__file__).resolve().parent
# Run first and not counted: it creates the test database (in both checkouts).
WARM_UP = "tests/accounts/test_login.py::test_wrong_password_french_message_nothing_logged_in"
DUMP = re.compile(r"DUMP (\d+) (.+)$")


def counted(checkout: Path, tests: list[str], settings: Path | None, work: Path) -> dict:
    """Each test's instructions (callgrind's totals of its dump) in `checkout`."""
    out_file = work / f"callgrind-{checkout.name}.out"
    command, env = pytest_command(checkout, plugin="test_callgrind", settings=settings)
    env["PYTHONHASHSEED"] = "0"
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out_file}",
            *command,
            WARM_UP,
            *tests,
        ],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    (work / f"{checkout.name}.log").write_text(run.stdout + run.stderr, encoding="utf-8")
    found: dict[str, int] = {}
    for line in run.stdout.splitlines():
        match = DUMP.match(line)
        if not match:
            continue
        dump = Path(f"{out_file}.{match.group(1)}")
        totals = re.search(r"^totals: (\d+)", dump.read_text(errors="replace"), re.M)
        if totals:
            found[match.group(2)] = int(totals.group(1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("tests", nargs="+")
    parser.add_argument("--same-settings", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="test-instructions-"))
    settings = None
    if args.same_settings:
        settings = same_settings_write(args.same_settings, work / "settings")
    old = counted(args.old, args.tests, settings, work)
    new = counted(args.new, args.tests, settings, work)
    lines = [
        f"Command: `.venv/bin/python bench/test_instructions.py {args.old} {args.new} "
        + (f"--same-settings '{args.same_settings}' " if args.same_settings else "")
        + "TEST_ID...` (the tests below)",
        "",
        f"Old: {args.old}, new: {args.new}. {load_note()} Logs and dumps: {work}.",
        "",
        "Instructions executed by each test (setup, call and teardown), millions:",
        "",
        "| test | old | new | ratio |",
        "|---|---:|---:|---:|",
    ]
    for test in args.tests:
        if test in old and test in new:
            ratio = new[test] / old[test]
            lines.append(
                f"| `{test}` | {old[test] / 1e6:,.0f} | {new[test] / 1e6:,.0f} | {ratio:.2f} |"
            )
        else:
            lines.append(f"| `{test}` | {old.get(test, '—')} | {new.get(test, '—')} | — |")
    print(results_write("test-instructions", "\n".join(lines)))


if __name__ == "__main__":
    main()
