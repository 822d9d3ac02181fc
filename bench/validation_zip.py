"""A school's zip of 1,000 scripts: in one process, and by 1 then 2 task workers, with the
floors measured in the same run.

    .venv/bin/python bench/validation_zip.py [--scripts 200 1000] [--workers 1 2] [--keep]

For each size, a PostgreSQL database `h_zip_bench_N` holds one school whose N candidates
each have a script in a locked batch (1 % frauds, left out), with real generated page scans
(1 or 2 pages, a pool of 100 distinct files) and annotations. Each measure runs in its own
process, so that its peak resident memory is its own:
- in one process: the zip written to a file, then streamed to a consumer that discards the
  bytes (the response's path for small schools); peak `ru_maxrss`, baseline = Django and
  the data loaded, before the first script;
- the task path: `db_worker` processes (`manage.py db_worker --queue-name zips`, the
  default polling interval of 1 s) started and idle first, then the school's request, timed
  from its commit to the archive `ready`, the zip checked; each worker's peak memory is its
  kernel high-water mark (VmHWM), its baseline the resident memory once idle;
- the floors: the same scripts' pages read and JPEG-encoded with no drawing, no database
  and no zip, in one process (as today's rendering reads them, and rasterised by pdfium at
  the same size as before issue 16), and the built zip's bytes copied into a new zip.
Results in bench/results/.
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import load_note, machine_settle, results_write
from validation_common import PY, ROOT, WORK, django_setup, peak_rss_mib, processes_stop, run

SCANS = WORK / "zip-scans"
MEDIA = WORK / "zip-media"
POOL = 100
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")


def database(scripts: int) -> str:
    return f"h_zip_bench_{scripts}"


def env(scripts: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG_SERVER}/{database(scripts)}",
        "HARMONIE_VAR_DIR": str(WORK / "var"),
        "HARMONIE_SCANS_ROOT": str(SCANS),
        "HARMONIE_MEDIA_ROOT": str(MEDIA),
        "HARMONIE_LOG_LEVEL": "WARNING",
    }


def database_prepare(scripts: int, keep: bool) -> None:
    name = database(scripts)
    exists = subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if exists and keep and SCANS.exists():
        return
    subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env(scripts))
    seconds = run([PY, __file__, "--fill", str(scripts)], env(scripts))
    subprocess.run(["psql", f"{PG_SERVER}/{name}", "-qc", "VACUUM ANALYZE"], check=True)
    print(f"filled {scripts:,} scripts in {seconds:.0f} s", flush=True)


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


def _school_exam():
    from harmonie.referential.models import Exam, School

    return Exam.objects.get(code="FRA-ECRIT"), School.objects.get(uai="0990001X")


def _mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


def measure_one_process(mode: str) -> str:
    django_setup()
    from harmonie.validation.archives import archive_stream, archive_write
    from harmonie.validation.selectors import school_scripts

    exam, school = _school_exam()
    count = school_scripts(exam=exam, school=school).count()
    baseline = peak_rss_mib()
    started = time.perf_counter()
    target = MEDIA / "bench.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "file":
        with target.open("wb") as output:
            written = archive_write(output, exam=exam, school=school)
        size = target.stat().st_size
        with zipfile.ZipFile(target) as archive:
            assert len(archive.namelist()) == written == count
            assert archive.testzip() is None
    else:
        size, chunks = 0, 0
        for chunk in archive_stream(exam=exam, school=school):
            size += len(chunk)
            chunks += 1
        written = chunks - 1
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    how = "one process, to a file" if mode == "file" else "one process, streamed (response)"
    return (
        f"| {count:,} | {how} | {seconds:.1f} s ({written / seconds:.0f} scripts/s) | "
        f"{_mib(size)} | {baseline:.0f} MiB → {peak:.0f} MiB (+{peak - baseline:.0f}) |"
    )


def _memory(pid: int) -> tuple[float, float]:
    """(resident now, high-water mark) of a process, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def measure_workers(workers: int) -> str:
    """The school's request, then `workers` db_worker processes build the zip in parts."""
    django_setup()
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from harmonie.accounts.models import User
    from harmonie.validation.archives import school_archive_request
    from harmonie.validation.conf import validation_config
    from harmonie.validation.models import ArchiveState, SchoolArchive
    from harmonie.validation.selectors import school_scripts

    exam, school = _school_exam()
    count = school_scripts(exam=exam, school=school).count()
    SchoolArchive.objects.all().delete()
    DBTaskResult.objects.all().delete()
    shutil.rmtree(MEDIA / "archives", ignore_errors=True)
    connection.close()
    logs = (WORK / "zip-worker.log").open("w")
    command = [PY, "manage.py", "db_worker", "--queue-name", "zips", "--no-startup-delay"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=logs, stderr=logs)
        for _ in range(workers)
    ]
    try:
        time.sleep(4)  # Django loaded, each worker idle, polling its queue
        idle = [_memory(process.pid)[0] for process in processes]
        user = User.objects.get(username="etab.bench")
        started = time.perf_counter()
        archive = school_archive_request(user=user, uai=None, exam_code="FRA-ECRIT")
        while True:
            archive.refresh_from_db()
            if archive.state != ArchiveState.BUILDING:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        peaks = [_memory(process.pid)[1] for process in processes]
    finally:
        processes_stop(processes)
    assert archive.state == ArchiveState.READY, archive.error
    path = MEDIA / archive.file
    with zipfile.ZipFile(path) as built:
        assert len(built.namelist()) == count == archive.script_count
        assert built.testzip() is None
    parts = archive.parts.count()
    memory = ", ".join(
        f"{before:.0f} → {peak:.0f} MiB (+{peak - before:.0f})"
        for before, peak in zip(idle, peaks, strict=True)
    )
    size = validation_config().zip_part_scripts
    return (
        f"| {count:,} | {workers} `db_worker` ({parts} parts of {size}) | {seconds:.1f} s "
        f"({count / seconds:.0f} scripts/s) | {_mib(path.stat().st_size)} | {memory} |"
    )


def measure_floor() -> list[str]:
    """The same scripts' pages read, made RGB and JPEG-encoded (quality 60), as the rendering
    does but with no drawing, no database access while timed and no zip; then the built
    zip's bytes copied into a new zip."""
    django_setup()
    import pypdfium2 as pdfium
    from PIL import Image

    from harmonie.validation.archives.content import ZIP_ORDER
    from harmonie.validation.rendering import PAGE_WIDTH, _allocator_keep_pages, _scanned_image
    from harmonie.validation.selectors import school_scripts

    exam, school = _school_exam()
    pages = [
        SCANS / relative
        for pages in school_scripts(exam=exam, school=school)
        .order_by(*ZIP_ORDER)
        .values_list("pages", flat=True)
        for relative in pages
    ]
    count = school_scripts(exam=exam, school=school).count()
    _allocator_keep_pages()  # as the rendering does

    def encode(image: Image.Image) -> int:
        output = io.BytesIO()
        image.save(output, format="JPEG", quality=60)
        return output.tell()

    def pages_read(rasterise: bool) -> tuple[float, int]:
        started, encoded, read = time.perf_counter(), 0, 0
        for path in pages:
            document = pdfium.PdfDocument(str(path))
            for page in document:
                if rasterise:
                    bitmap = page.render(scale=PAGE_WIDTH / page.get_width())
                    image = bitmap.to_pil().convert("RGB")
                else:
                    image = _scanned_image(page)
                    assert image is not None
                rgb = image if image.mode == "RGB" else Image.merge("RGB", (image,) * 3)
                encoded += encode(rgb)
                read += 1
            document.close()
        return time.perf_counter() - started, read

    rows = []
    seconds, read = pages_read(rasterise=False)
    rows.append(
        f"| {count:,} | floor: {read:,} pages read from the scans and JPEG-encoded in RGB, "
        f"no drawing, one process | {seconds:.1f} s ({count / seconds:.0f} scripts/s) | | |"
    )
    seconds, read = pages_read(rasterise=True)
    rows.append(
        f"| {count:,} | floor before issue 16: the same pages rasterised by pdfium and "
        f"JPEG-encoded | {seconds:.1f} s ({count / seconds:.0f} scripts/s) | | |"
    )
    built = MEDIA / "bench.zip"
    started = time.perf_counter()
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(MEDIA / "copy.zip", "w") as copy:
        for info in source.infolist():
            copy.writestr(info.filename, source.read(info))
    seconds = time.perf_counter() - started
    (MEDIA / "copy.zip").unlink()
    rows.append(
        f"| {count:,} | floor: the built zip's {_mib(built.stat().st_size)} copied into a new "
        f"zip (stored) | {seconds:.2f} s | | |"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripts", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", action="store_true", help="reuse the filled databases")
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.fill:
        fill(options.fill)
        return
    if options.measure:
        if options.measure in ("file", "stream"):
            found = [measure_one_process(options.measure)]
        elif options.measure == "floor":
            found = measure_floor()
        else:
            found = [measure_workers(int(options.measure))]
        for row in found:
            print("ROW" + row, flush=True)
        return
    rows = []
    for scripts in options.scripts:
        WORK.mkdir(parents=True, exist_ok=True)
        database_prepare(scripts, options.keep)
        machine_settle()
        for mode in ["file", "stream", "floor", *map(str, options.workers)]:
            out = subprocess.run(
                [PY, __file__, "--measure", mode], cwd=ROOT, env=env(scripts), check=True,
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            found = [line[3:] for line in out.splitlines() if line.startswith("ROW")]
            for line in found:
                print(line, flush=True)
            rows.extend(found)
    body = "\n".join(
        [
            "## A school's zip (R-VAL-7): one PDF per script, pages annotated and marked",
            "",
            "Command: `.venv/bin/python bench/validation_zip.py --scripts "
            f"{' '.join(map(str, options.scripts))} --workers "
            f"{' '.join(map(str, options.workers))}` (PostgreSQL, `h_zip_bench_N`)",
            "",
            "One school, N candidates, 30 class divisions, 1 % frauds (left out); each script",
            "1 or 2 generated A4 scan pages (PDF, 100 dpi, 4-bit gray) read at the zip's",
            "resolution, annotations and marks drawn with Pillow, saved as PDF (JPEG pages).",
            "One process: peak `ru_maxrss`, from Django and the data loaded to the end. Task",
            "path: `db_worker` processes, idle before the request, timed from its commit to",
            "the archive `ready` (their 1 s polling interval included); each worker's resident",
            "memory when idle → its high-water mark (VmHWM). Floors in the same run: the pages",
            "alone (no drawing, database or zip) and the zip's bytes alone.",
            "",
            "| scripts | how | time | zip size | memory |",
            "|---:|---|---:|---:|---:|",
            *rows,
            "",
            load_note(),
        ]
    )
    print(results_write("validation-zip", body, pg_url=f"{PG_SERVER}/postgres"))


if __name__ == "__main__":
    main()
