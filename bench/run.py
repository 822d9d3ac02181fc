"""`make bench`: every benchmark, one after the other, then one summary file.

    .venv/bin/python bench/run.py [SIZES...]        (default: 60000 600000)

Each benchmark writes its own file under bench/results/; this script runs them with the
sizes given and gathers their newest results into bench/results/<date>-<host>.md.
PostgreSQL must answer on 127.0.0.1:5432 (trust auth, user postgres).
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from machine import RESULTS, results_write  # noqa: E402

PY = sys.executable


def suite(sizes: list[str]) -> list[tuple[str, list[str], str]]:
    """(title, command, results-file suffix) of each benchmark."""
    return [
        ("Import", [PY, "bench/import_session.py", *sizes], "import"),
        ("Script list and filter options", [PY, "bench/unit_list.py", *sizes], "unit-list"),
        ("Statistics", [PY, "bench/statistics_endpoint.py", *sizes], "statistics"),
        # The target is set at 60,000 scripts and 650 graders (issue 14): one academy's size.
        ("Grader effects", [PY, "bench/grader_severity.py", "60000"], "grader-severity"),
        (
            "Mass harmonisation, one academy holding every candidate (stress case)",
            [PY, "bench/mass_harmonisation.py", *sizes],
            "mass-harmonisation",
        ),
        (
            # A national paper is the largest size: a tenth of 60,000 is no real academy, and
            # the scenarios name batches that only an academy of 6,000 scripts or more holds.
            "Mass harmonisation, national paper (the academy holds 10 %)",
            [PY, "bench/mass_harmonisation.py", max(sizes, key=int), "--academy-share", "0.1"],
            "mass-harmonisation-national-paper",
        ),
        (
            # Executions repeated in one process, on the database the run above left.
            "Executions repeated, national paper",
            [PY, "bench/execution_repeat.py", max(sizes, key=int), "--academy-share", "0.1"],
            "execution-repeat-10pc",
        ),
        (
            "Executions repeated, stress case",
            [PY, "bench/execution_repeat.py", max(sizes, key=int), "--academy-share", "1"],
            "execution-repeat",
        ),
        (
            "Effects: with and without the index by script, after a history",
            [PY, "bench/effects_index.py"],
            "effects-index",
        ),
        (
            # The raw SQL floor of the execution's script writes, per table layout (issue 16).
            "Script writes: wide row, HOT updates, side table",
            [PY, "bench/narrow_writes.py", max(sizes, key=int)],
            "narrow-writes",
        ),
        (
            "Validation and delivery",
            [PY, "bench/validation_delivery.py", *sizes],
            "validation-delivery",
        ),
        ("School zip", [PY, "bench/validation_zip.py"], "validation-zip"),
        ("Load (50 coordinators)", [PY, "bench/load/run.py"], "load"),
    ]


def newest(suffix: str) -> Path | None:
    files = sorted(RESULTS.glob(f"*-{suffix}.md"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def main() -> None:
    sizes = sys.argv[1:] or ["60000", "600000"]
    sections = []
    for title, command, suffix in suite(sizes):
        if not (HERE.parent / command[1]).exists():
            sections.append(f"## {title}\n\n(no such benchmark: `{command[1]}`)")
            continue
        print(f"== {title}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        status = subprocess.run(command, cwd=HERE.parent, check=False).returncode
        elapsed = time.perf_counter() - started
        result = newest(suffix)
        text = result.read_text(encoding="utf-8") if result else "(no results file)"
        body = text.split("\n## Machine\n", 1)[-1].split("\n", 1)[-1] if result else text
        sections.append(
            f"## {title}\n\n`{' '.join(command[1:])}`: exit {status}, {elapsed:,.0f} s.\n"
            f"{body.strip()}"
        )
    path = results_write("summary", "\n\n".join(sections))
    final = path.with_name(path.name.replace("-summary", ""))
    path.rename(final)
    print(final)


if __name__ == "__main__":
    main()
