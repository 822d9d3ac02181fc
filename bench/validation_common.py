"""Shared by the validation benchmarks: fill a database fast, run the stand-ins, peak memory
and CPU of the processes involved."""

import os
import resource
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import PY, ROOT, WORK, run  # noqa: F401 - shared with the validation benches


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def standins_start(directory: Path) -> tuple[dict[str, str], list[subprocess.Popen]]:
    """Both stand-ins as processes with fresh databases; their URLs and handles."""
    directory.mkdir(parents=True, exist_ok=True)
    urls, processes = {}, []
    for system in ("results", "payroll"):
        database = directory / f"standin-{system}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    f"standins.{system}",
                    "--port",
                    str(port),
                    "--db",
                    str(database),
                    "--quiet",
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
        )
        urls[system] = f"http://127.0.0.1:{port}"
    time.sleep(1.0)
    return urls, processes


def processes_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def academy_fill(*, candidates: int) -> None:
    """One academy, one exam, `candidates` registered (PostgreSQL): 1 % recorded absent, the
    others with a script in a locked batch of 100, 2 % of them blank (CB), 0.1 % frauds."""
    from django.db import connection

    from harmonie.accounts.models import Role, User
    from harmonie.marking.models import Batch
    from harmonie.referential.models import (
        Academy,
        ClassGroup,
        Department,
        Exam,
        ExamSession,
        Jury,
        Part,
        Qualification,
        School,
        Subject,
    )

    session = ExamSession.objects.create(code="BAC2026", label="Baccalauréat 2026")
    academy = Academy.objects.create(code="BENCH", label="Académie de mesure")
    department = Department.objects.create(code="099", label="Mesure", academy=academy)
    schools = School.objects.bulk_create(
        School(uai=f"099{i:04d}X", label=f"Lycée {i}", department=department)
        for i in range(max(1, candidates // 400))
    )
    groups = ClassGroup.objects.bulk_create(
        ClassGroup(school=school, code=f"1STMG{g}") for school in schools for g in range(1, 5)
    )
    qualification = Qualification.objects.create(code="STMG", label="STMG")
    jury = Jury.objects.create(code="J099", academy=academy)
    exam = Exam.objects.create(
        session=session, code="FRA-ECRIT", label="Écrit de français", kind="marked",
        max_mark=20, step=Decimal("0.5"), special_marks=["AB", "CB"],
    )  # fmt: skip
    p1 = Part.objects.create(
        exam=exam, code="P1", label="Commentaire", max_mark=10, position=1, is_leaf=False
    )
    Part.objects.create(exam=exam, parent=p1, code="Q1", max_mark=4, position=2)
    Part.objects.create(exam=exam, parent=p1, code="Q2", max_mark=6, position=3)
    Part.objects.create(exam=exam, code="P2", label="Dissertation", max_mark=10, position=4)
    subject = Subject.objects.create(exam=exam, code="SUJET-A")
    User.objects.create(
        username="coord.bench", role=Role.ACADEMIC_COORDINATOR, academy=academy,
        first_name="Sabrina", last_name="Mesure",
    )  # fmt: skip
    batch_count = candidates // 100 + 1
    graders = User.objects.bulk_create(
        User(username=f"corr.{i:05d}", role=Role.GRADER, academy=academy, last_name=f"C{i}")
        for i in range(max(1, batch_count // 5))
    )
    Batch.objects.bulk_create(
        Batch(
            code=f"L-{i:06d}",
            exam=exam,
            academy=academy,
            grader=graders[i % len(graders)],
            locked=True,
        )
        for i in range(batch_count)
    )
    # The three big tables are filled by PostgreSQL itself: minutes become seconds.
    params = {
        "n": candidates, "q": qualification.pk, "j": jury.pk, "exam": exam.pk, "academy": academy.pk,
        "subject": subject.pk, "department": department.pk, "groups": len(groups),
        "first_group": groups[0].pk,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO referential_candidate (number, school_id, class_group_id, qualification_id,
                                               jury_id, fraud)
            SELECT lpad(n::text, 10, '0'), g.school_id, g.id, %(q)s, %(j)s, n %% 1000 = 7
            FROM generate_series(0, %(n)s - 1) AS n
            JOIN referential_classgroup g ON g.id = %(first_group)s + n %% %(groups)s
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO referential_registration (candidate_id, exam_id, academy_id, attendance)
            SELECT id, %(exam)s, %(academy)s,
                   CASE WHEN number::bigint %% 100 = 50 THEN 'absent' ELSE 'present' END
            FROM referential_candidate
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO marking_script (
                public_id, exam_id, candidate_id, subject_id, batch_id, academy_id, department_id,
                school_id, class_group_id, qualification_id, jury_id, grader_id, locked, marks,
                special_mark, initial_mark, delta, is_harmonised, final_mark, final_marks,
                annotations, pages, version, updated_at)
            SELECT 'S-' || c.number, %(exam)s, c.id, %(subject)s, b.id, %(academy)s,
                   %(department)s, c.school_id, c.class_group_id, c.qualification_id, c.jury_id,
                   b.grader_id, true,
                   CASE WHEN c.k %% 50 = 3 THEN '{}'::jsonb ELSE jsonb_build_object(
                       'Q1', (c.k * 7 %% 9) / 2.0, 'Q2', (c.k * 11 %% 13) / 2.0,
                       'P2', (c.k * 13 %% 21) / 2.0) END,
                   CASE WHEN c.k %% 50 = 3 THEN 'CB' END,
                   CASE WHEN c.k %% 50 = 3 THEN NULL ELSE
                       (c.k * 7 %% 9 + c.k * 11 %% 13 + c.k * 13 %% 21) / 2.0 END,
                   0, false,
                   CASE WHEN c.k %% 50 = 3 THEN NULL ELSE
                       (c.k * 7 %% 9 + c.k * 11 %% 13 + c.k * 13 %% 21) / 2.0 END,
                   NULL, '[]'::jsonb, '[]'::jsonb, 1, now()
            FROM (
                SELECT c.*, c.number::bigint AS k,
                       row_number() OVER (ORDER BY c.id) - 1 AS rank
                FROM referential_candidate c
                JOIN referential_registration r ON r.candidate_id = c.id
                WHERE r.attendance = 'present'
            ) c
            JOIN marking_batch b ON b.code = 'L-' || lpad((c.rank / 100)::text, 6, '0')
            """,
            params,
        )


def django_setup(env: dict[str, str] | None = None) -> None:
    os.environ.update(env or {})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


SHARED_POSTGRES_PROCESSES = {
    "checkpointer", "background writer", "walwriter", "autovacuum launcher",
    "logical replication launcher", "archiver", "stats collector",
}  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def peak_rss_of_mib(pid: int) -> float:
    """Peak resident memory of another process so far (VmHWM), not a sample."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def postgres_cpu(database: str) -> tuple[dict[int, float], float]:
    """CPU seconds so far of each PostgreSQL backend serving `database` (autovacuum
    included), and of the processes every database shares (postmaster, WAL writer,
    checkpointer...). Other databases' backends are left out: other work on the server."""
    backends, shared = {}, 0.0
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times, words = process.info["cpu_times"], process.info["cmdline"] or []
        if process.info["name"] != "postgres" or times is None or not words:
            continue
        title = " ".join(words).split(": ")  # "postgres: 15/main: postgres db host(port) idle"
        if len(title) < 3:  # the postmaster
            shared += times.user + times.system
        elif f" {database} " in f" {title[-1]} ":
            backends[process.pid] = times.user + times.system
        elif title[-1].strip() in SHARED_POSTGRES_PROCESSES:
            shared += times.user + times.system
    return backends, shared
