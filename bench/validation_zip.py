"""A school's zip of 1,000 scripts: time and peak memory, built to a file and streamed.

    .venv/bin/python bench/validation_zip.py [--scripts 200 1000] [--keep]

A SQLite database under bench/work/ holds one school whose candidates each have a script
in a locked batch, with real generated page scans (1 or 2 pages, a pool of 100 distinct
files) and annotations. Each measure runs in its own process, so that its peak resident
memory (`ru_maxrss`) is its own: the baseline after loading Django and the data, then the
peak while writing the zip to a file (the background task's path) and while streaming it
to a consumer that discards the bytes (the response's path). Results in bench/results/.
"""

import argparse
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import results_write
from validation_common import PY, ROOT, WORK, django_setup, peak_rss_mib, run

SCANS = WORK / "zip-scans"
POOL = 100


def database(scripts: int) -> Path:
    return WORK / f"zip-bench-{scripts}.sqlite3"


def env(scripts: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database(scripts)}",
        "HARMONIE_VAR_DIR": str(WORK / "var"),
        "HARMONIE_SCANS_ROOT": str(SCANS),
        "HARMONIE_MEDIA_ROOT": str(WORK / "zip-media"),
    }


def fill(scripts: int) -> None:
    django_setup()
    from decimal import Decimal

    from harmonie.accounts.models import Role, User
    from harmonie.marking.models import Batch, Script
    from harmonie.referential.models import (
        Academy,
        Candidate,
        ClassGroup,
        Department,
        Exam,
        ExamSession,
        Jury,
        Part,
        Qualification,
        Registration,
        School,
    )
    from harmonie.referential.scans import scans_write
    from harmonie.validation.models import Validation

    names = [f"scan-{i:03d}" for i in range(POOL)]
    scans_write(directory=SCANS / "BAC2026", names=names, exam="FRA-ECRIT", seed=5)
    session = ExamSession.objects.create(code="BAC2026", label="Baccalauréat 2026")
    academy = Academy.objects.create(code="BENCH", label="Mesure")
    department = Department.objects.create(code="099", label="Mesure", academy=academy)
    school = School.objects.create(uai="0990001X", label="Lycée de mesure", department=department)
    groups = [ClassGroup.objects.create(school=school, code=f"T{g:02d}") for g in range(1, 31)]
    qualification = Qualification.objects.create(code="GEN", label="Général")
    jury = Jury.objects.create(code="J099", academy=academy)
    exam = Exam.objects.create(
        session=session, code="FRA-ECRIT", label="Français", kind="marked", max_mark=20,
        step=Decimal("0.5"), special_marks=["AB", "CB"],
    )  # fmt: skip
    p1 = Part.objects.create(
        exam=exam, code="P1", label="Commentaire", max_mark=10, position=1, is_leaf=False
    )
    Part.objects.create(exam=exam, parent=p1, code="Q1", max_mark=4, position=2)
    Part.objects.create(exam=exam, parent=p1, code="Q2", max_mark=6, position=3)
    Part.objects.create(exam=exam, code="P2", label="Dissertation", max_mark=10, position=4)
    grader = User.objects.create(username="corr.bench", role=Role.GRADER, academy=academy)
    coordinator = User.objects.create(
        username="coord.bench", role=Role.ACADEMIC_COORDINATOR, academy=academy
    )
    User.objects.create(username="etab.bench", role=Role.SCHOOL, school=school)
    batches = [
        Batch.objects.create(
            code=f"L-{b:04d}", exam=exam, academy=academy, grader=grader, locked=True
        )
        for b in range(scripts // 100 + 1)
    ]
    candidates = Candidate.objects.bulk_create(
        Candidate(
            number=f"{n:010d}",
            school=school,
            class_group=groups[n % len(groups)],
            qualification=qualification,
            jury=jury,
            fraud=n % 100 == 42,
        )
        for n in range(scripts)
    )
    Registration.objects.bulk_create(
        Registration(candidate=c, exam=exam, academy=academy, attendance="present")
        for c in candidates
    )
    annotations = [
        {"kind": "comment", "page": 0, "x": 0.3, "y": 0.35, "text": "Bonne analyse"},
        {"kind": "tick", "page": 0, "x": 0.8, "y": 0.45},
        {"kind": "highlight", "page": 0, "x": 0.2, "y": 0.6, "w": 0.5, "h": 0.03},
        {"kind": "appreciation", "text": "Travail sérieux."},
    ]
    Script.objects.bulk_create(
        Script(
            public_id=f"S-{n:06d}",
            exam=exam,
            candidate=c,
            batch=batches[n // 100],
            academy=academy,
            department=department,
            school=school,
            class_group=c.class_group,
            qualification=qualification,
            jury=jury,
            grader=grader,
            locked=True,
            marks={"Q1": 3, "Q2": 4.5, "P2": 7},
            initial_mark=Decimal("14.5"),
            final_mark=Decimal("14.5"),
            annotations=annotations,
            pages=[f"BAC2026/{names[n % POOL]}.pdf"],
        )
        for n, c in enumerate(candidates)
    )
    Validation.objects.create(exam=exam, academy=academy, author=coordinator, mode="full")


def measure(mode: str) -> str:
    django_setup()
    from harmonie.referential.models import Exam, School
    from harmonie.validation.archives import archive_stream, archive_write
    from harmonie.validation.selectors import school_scripts

    exam = Exam.objects.get(code="FRA-ECRIT")
    school = School.objects.get(uai="0990001X")
    count = school_scripts(exam=exam, school=school).count()
    baseline = peak_rss_mib()
    started = time.perf_counter()
    target = WORK / "zip-media" / "bench.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "file":
        with target.open("wb") as output:
            written = archive_write(output, exam=exam, school=school)
        size = target.stat().st_size
        with zipfile.ZipFile(target) as archive:
            assert len(archive.namelist()) == written == count
            assert archive.testzip() is None
    else:
        size, chunks, largest = 0, 0, 0
        for chunk in archive_stream(exam=exam, school=school):
            size += len(chunk)
            chunks += 1
            largest = max(largest, len(chunk))
        written = chunks - 1
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    how = "to a file (background task)" if mode == "file" else "streamed (response)"
    return (
        f"| {count:,} | {how} | {seconds:.1f} s ({written / seconds:.0f} scripts/s) | "
        f"{size / 2**20:.0f} MiB | {baseline:.0f} MiB | {peak:.0f} MiB (+{peak - baseline:.0f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["file", "stream"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.fill:
        fill(options.fill)
        return
    if options.measure:
        print("ROW" + measure(options.measure), flush=True)
        return
    rows = []
    for scripts in options.scripts:
        if not (options.keep and database(scripts).exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database(scripts)}{suffix}").unlink(missing_ok=True)
            WORK.mkdir(parents=True, exist_ok=True)
            run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env(scripts))
            seconds = run([PY, __file__, "--fill", str(scripts)], env(scripts))
            print(f"filled {scripts:,} scripts in {seconds:.0f} s", flush=True)
        for mode in ("file", "stream"):
            out = subprocess.run(
                [PY, __file__, "--measure", mode], cwd=ROOT, env=env(scripts), check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            rows += [line[3:] for line in out.splitlines() if line.startswith("ROW")]
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## A school's zip (R-VAL-7): one PDF per script, pages annotated and marked",
            "",
            "Command: `.venv/bin/python bench/validation_zip.py --scripts "
            f"{' '.join(map(str, options.scripts))}`",
            "",
            "One school, N candidates, 30 class divisions, 1 % frauds (left",
            "out); each script 1 or 2 generated A4 scan pages (PDF, 100 dpi) rendered with",
            "pypdfium2, annotations and marks drawn with Pillow, saved as PDF (JPEG pages).",
            "Peak memory: `ru_maxrss` of the measuring process; baseline = Django and the data",
            "loaded, before the first script. Scripts are rendered one at a time, so the peak",
            "does not grow with the number of scripts.",
            "",
            "| scripts | written | time | zip size | baseline | peak memory |",
            "|---:|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(results_write("validation-zip", body))


if __name__ == "__main__":
    main()
