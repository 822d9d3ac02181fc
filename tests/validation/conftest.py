"""An academy ready to validate, both stand-ins running in threads on free ports, and the
production task worker run in the test process."""

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from standins.base import serve_in_thread
from standins.payroll import PayrollStandIn
from standins.results import ResultsStandIn
from tests.conftest import login_client
from tests.factories import (
    AcademyFactory,
    BatchFactory,
    CandidateFactory,
    ClassGroupFactory,
    DepartmentFactory,
    RegistrationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)


def _candidate(number: str, school, division: str | None = "1STMG1", fraud: bool = False):
    return CandidateFactory(
        number=number,
        school=school,
        class_group=ClassGroupFactory(school=school, code=division) if division else None,
        fraud=fraud,
    )


@pytest.fixture
def world(exam):
    """FRA-ECRIT in Nancy-Metz, every candidate absent or in a locked batch (full mode).

    - S-000001: 0000000001, school A, 1STMG1, batch L-0001 (corr.dupont), 3 + 4.5 + 7 = 14.5
    - S-000002: 0000000002, school A, 1STMG2, L-0001, blank script (CB)
    - S-000003: 0000000003, school A, 1STMG2, L-0002 (corr.martin), fraud, 4 + 6 + 9 = 19
    - S-000004: 0000000004, school B, 1STMG1, L-0002, 1 + 2 + 3 = 6
    - 0000000005: school A, recorded absent, no script
    - Strasbourg: one script of another academy (S-000900).
    """
    academy = AcademyFactory(code="NANCY-METZ", label="Nancy-Metz")
    department = DepartmentFactory(code="057", label="Moselle", academy=academy)
    school_a = SchoolFactory(uai="0570001A", label="Lycée Fabert", department=department)
    school_b = SchoolFactory(uai="0570002B", label="Lycée Poncelet", department=department)
    dupont = UserFactory(username="corr.dupont", grader=True, academy=academy)
    martin = UserFactory(username="corr.martin", grader=True, academy=academy)
    batch_1 = BatchFactory(code="L-0001", exam=exam, academy=academy, grader=dupont)
    batch_2 = BatchFactory(code="L-0002", exam=exam, academy=academy, grader=martin)
    scripts = [
        ScriptFactory(
            public_id="S-000001",
            batch=batch_1,
            candidate=_candidate("0000000001", school_a),
            marks={"Q1": 3, "Q2": 4.5, "P2": 7},
        ),
        ScriptFactory(
            public_id="S-000002",
            batch=batch_1,
            candidate=_candidate("0000000002", school_a, "1STMG2"),
            blank=True,
        ),
        ScriptFactory(
            public_id="S-000003",
            batch=batch_2,
            candidate=_candidate("0000000003", school_a, "1STMG2", fraud=True),
            marks={"Q1": 4, "Q2": 6, "P2": 9},
        ),
        ScriptFactory(
            public_id="S-000004",
            batch=batch_2,
            candidate=_candidate("0000000004", school_b),
            marks={"Q1": 1, "Q2": 2, "P2": 3},
        ),
    ]
    absent = RegistrationFactory(
        candidate=_candidate("0000000005", school_a), exam=exam, attendance="absent"
    )
    foreign_batch = BatchFactory(
        code="L-0900", exam=exam, academy__code="STRASBOURG", academy__label="Strasbourg"
    )
    foreign = ScriptFactory(public_id="S-000900", batch=foreign_batch)
    return {
        "exam": exam,
        "academy": academy,
        "schools": (school_a, school_b),
        "batches": (batch_1, batch_2),
        "graders": (dupont, martin),
        "scripts": scripts,
        "absent": absent,
        "foreign": foreign,
        "coordinator": UserFactory(username="coord.nm", coordinator=True, academy=academy),
        "officer": UserFactory(username="dec.nm", exam_officer=True, academy=academy),
        "member": UserFactory(username="membre.nm", member=True, academy=academy, missions=[exam]),
        "school_a": UserFactory(username="etab.a", school_head=True, school=school_a),
        "school_b": UserFactory(username="etab.b", school_head=True, school=school_b),
        "foreign_coordinator": UserFactory(
            username="coord.str", coordinator=True, academy=foreign_batch.academy
        ),
    }


def harmonise(script, delta: str) -> None:
    """Give a script a harmonisation delta directly (the harmonisation app owns the service)."""
    script.delta = Decimal(delta)
    script.final_mark = min(max(script.initial_mark + script.delta, Decimal(0)), Decimal(20))
    script.is_harmonised = True
    script.save()


class StandIns:
    """Both stand-ins, with an httpx client on each one's control endpoints."""

    def __init__(self, results, payroll) -> None:
        self.results_server = results
        self.payroll_server = payroll
        self.results = httpx.Client(base_url=results.url, timeout=5)
        self.payroll = httpx.Client(base_url=payroll.url, timeout=5)

    def state(self, system: str, exam: str = "FRA-ECRIT") -> dict:
        client = self.results if system == "results" else self.payroll
        return client.get("/control/state", params={"exam": exam}).json()

    def marks(self, exam: str = "FRA-ECRIT") -> dict[str, dict]:
        return {row["candidate"]: row for row in self.state("results", exam)["records"]}

    def faults(self, system: str, **faults: float) -> None:
        client = self.results if system == "results" else self.payroll
        assert client.post("/control/faults", json=faults).status_code == 200

    def close(self) -> None:
        self.results.close()
        self.payroll.close()
        self.results_server.shutdown()
        self.payroll_server.shutdown()
        self.results_server.server_close()
        self.payroll_server.server_close()
        self.results_server.standin.db.close()
        self.payroll_server.standin.db.close()


@pytest.fixture
def standins(settings, tmp_path):
    results = serve_in_thread(ResultsStandIn, tmp_path / "results.sqlite3")
    payroll = serve_in_thread(PayrollStandIn, tmp_path / "payroll.sqlite3")
    settings.RESULTS_SYSTEM_URL = results.url
    settings.PAYROLL_SYSTEM_URL = payroll.url
    settings.VALIDATION = {
        "timeout": 2.0,
        "connect_timeout": 1.0,
        "adapter_attempts": 1,
        "adapter_backoff": 0.0,
        "max_attempts": 3,
    }
    both = StandIns(results, payroll)
    yield both
    both.close()


class InProcessWorker:
    """django-tasks-db's worker, the loop of `manage.py db_worker --batch`, in this process.

    `run()` takes every task that is due, as the worker process does (claims it, runs it,
    records its result), and returns when none is left. Tasks deferred to later (a retry
    after its back-off, the supervisor's next round) wait for the clock to reach them. A
    task that raised fails the test with its traceback.
    """

    def run(self, *, queues: tuple[str, ...] = ("*",)) -> int:
        """Run what is due (on these queues); the number of tasks run."""
        before = set(DBTaskResult.objects.finished().values_list("pk", flat=True))
        Worker(
            queue_names=list(queues),
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()
        ran = DBTaskResult.objects.finished().exclude(pk__in=before)
        for failed in ran.filter(status=TaskResultStatus.FAILED):
            raise AssertionError(f"{failed.task_path} a échoué :\n{failed.traceback}")
        return ran.count()

    def waiting(self, name: str) -> list[DBTaskResult]:
        """Tasks of this name not run yet, soonest first."""
        return list(
            DBTaskResult.objects.filter(
                status=TaskResultStatus.READY, task_path__endswith=f".{name}"
            ).order_by("run_after")
        )


@pytest.fixture
def worker(transactional_db):
    """The real worker on the test database. Transactional tests: what a task enqueues on
    commit is enqueued when it commits, as in production."""
    return InProcessWorker()


class Clock:
    """Time moved forward for Django (`timezone.now`), the worker and delivery alike."""

    def __init__(self, monkeypatch) -> None:
        self.offset = timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, seconds: float) -> datetime:
        self.offset += timedelta(seconds=seconds)
        return timezone.now()


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def coordinator_client(world):
    return login_client(world["coordinator"])


@pytest.fixture
def no_delivery(settings):
    """Tasks are recorded, never run: the payload is checked as written."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "delivery", "zips"],
        }
    }
