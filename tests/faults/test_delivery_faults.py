"""Delivery under faults, real processes, on PostgreSQL (R-VAL-4, R-VAL-5, R-VAL-6).

Both stand-ins run as their own processes (`python -m standins.<system>`), the task
worker is Django's real `db_worker` on the test database, and the validation is recorded
by the service in the test process (the web server adds nothing here: the end-to-end
test in tests/validation/test_e2e.py covers it). The stand-ins fail 30% of the requests
(503) and sometimes answer past the client's time-out, before or after applying the
message. Every record must end up written exactly once, counted in the stand-ins' own
SQLite databases.
"""

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from harmonie.validation.models import DeliveryMessage, MessageState, System
from harmonie.validation.report import validation_report
from harmonie.validation.services import validation_execute
from tests.factories import (
    AcademyFactory,
    BatchFactory,
    CandidateFactory,
    DepartmentFactory,
    RegistrationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)
from tests.validation.test_e2e import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GRADERS = 10
SCRIPTS_PER_GRADER = 12
ABSENTS = 8
CHUNK = 5  # 128 marks → 26 messages, 10 work-done records → 2 messages
TIMEOUT = 1.0  # the adapters' read time-out; the stand-ins sometimes take 1.5 s
FAULTS = {"fail_rate": 0.3, "hang_rate": 0.08, "late_rate": 0.08, "hang_for": 1.5}
# At random, 40 requests or so can all go through on time (a run in CI did: p ≈ 0.1 %):
# in each system the first request times out before applying, the second after applying,
# and one request fails, for certain.
CERTAIN = {"fail_next": 1, "hang_next": 1, "late_next": 1}


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] or "postgres"
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def academy(transactional_db, exam, settings):
    """Nancy-Metz: 10 graders with a locked batch of 12 scripts each, 8 absents."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (worker réel sur la base de test)")
    academy = AcademyFactory(code="NANCY-METZ", label="Nancy-Metz")
    school = SchoolFactory(department=DepartmentFactory(academy=academy))
    scripts = []
    for g in range(GRADERS):
        grader = UserFactory(username=f"corr.{g:02d}", grader=True, academy=academy)
        batch = BatchFactory(exam=exam, academy=academy, grader=grader)
        for n in range(SCRIPTS_PER_GRADER):
            i = g * SCRIPTS_PER_GRADER + n
            scripts.append(
                ScriptFactory(
                    batch=batch,
                    candidate=CandidateFactory(number=f"{1000000000 + i}", school=school),
                    marks={"Q1": i % 5, "Q2": (i * 7) % 13 / 2, "P2": (i * 3) % 11},
                )
            )
    absents = [
        RegistrationFactory(
            candidate=CandidateFactory(number=f"{1000009000 + n}", school=school),
            exam=exam,
            attendance="absent",
        ).candidate.number
        for n in range(ABSENTS)
    ]
    # The test process records validations; the real worker delivers them.
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "delivery", "zips"],
        }
    }
    settings.VALIDATION = {"chunk_size": CHUNK}
    return {
        "exam": exam,
        "coordinator": UserFactory(coordinator=True, academy=academy),
        "marks": {
            s.candidate.number: format(Decimal(s.final_mark).normalize(), "f") for s in scripts
        }
        | dict.fromkeys(absents, "AB"),
        "work_done": {f"corr.{g:02d}": SCRIPTS_PER_GRADER for g in range(GRADERS)},
    }


@pytest.fixture
def stack(tmp_path, academy):
    """The stand-ins as processes with their SQLite files; workers started by each test."""
    running = Stack(tmp_path)
    running.env.update(
        {
            "DATABASE_URL": _database_url(),
            "HARMONIE_VALIDATION_TIMEOUT": str(TIMEOUT),
            "HARMONIE_VALIDATION_CONNECT_TIMEOUT": "1",
            "HARMONIE_VALIDATION_MAX_ATTEMPTS": "40",
            "HARMONIE_VALIDATION_RETRY_BACKOFF": "0.2",
            "HARMONIE_VALIDATION_RETRY_BACKOFF_MAX": "1",
            "HARMONIE_DB_CONN_MAX_AGE": "0",
        }
    )
    running.databases = {s: tmp_path / f"standin-{s}.sqlite3" for s in ("results", "payroll")}
    try:
        for system in ("results", "payroll"):
            running.start(
                system, "-m", f"standins.{system}", "--port", str(running.ports[system]),
                "--db", str(running.databases[system]), "--quiet",
            )  # fmt: skip
        for system, client in (("results", running.results), ("payroll", running.payroll)):
            running.wait_until(
                lambda c=client: running.answers(c, "/health"), timeout=20, what=system
            )
            assert client.post("/control/faults", json=FAULTS | CERTAIN).status_code == 200
        yield running
    finally:
        running.stop()


def _stored(stack: Stack, system: str, sql: str) -> list[tuple]:
    """Read a stand-in's own database (read-only), not its HTTP answers."""
    uri = f"file:{Path(stack.databases[system])}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as db:
        return db.execute(sql).fetchall()


def _wait_delivered(stack: Stack, validation, *, timeout: float) -> None:
    def finished() -> bool:
        return validation_report(validation=validation).status != "in_progress"

    stack.wait_until(finished, timeout=timeout, what="the end of the delivery")


def _assert_delivered_exactly_once(stack: Stack, academy: dict, validation) -> None:
    report = validation_report(validation=validation)
    assert report.status == "delivered"
    messages = DeliveryMessage.objects.filter(validation=validation)
    assert set(messages.values_list("state", flat=True)) == {MessageState.DELIVERED}
    results = next(s for s in report.systems if s.system == "results")
    assert (results.sent, results.delivered, results.failed) == (len(academy["marks"]),) * 2 + (0,)
    work = next(s for s in report.systems if s.system == "payroll")
    assert (work.sent, work.delivered, work.failed) == (GRADERS, GRADERS, 0)

    # In the results system's own database: each mark, written once, by one message each.
    marks = _stored(stack, "results", "SELECT candidate, mark, source, writes FROM marks")
    assert {c: m for c, m, _, _ in marks} == academy["marks"]
    assert {(s, w) for _, _, s, w in marks} == {("platform", 1)}
    keys = dict(_stored(stack, "results", "SELECT key, applications FROM messages"))
    sent_keys = {m.idempotency_key for m in messages.filter(system=System.RESULTS)}
    assert set(keys) == sent_keys
    assert set(keys.values()) == {1}
    # And in the payroll system's.
    work_rows = _stored(stack, "payroll", "SELECT grader, source, scripts, writes FROM work_done")
    assert {g: n for g, _, n, _ in work_rows} == academy["work_done"]
    assert {(s, w) for _, s, _, w in work_rows} == {("platform", 1)}


def _faults_happened(stack: Stack) -> dict:
    counters = stack.results.get("/control/state").json()["messages"]
    payroll = stack.payroll.get("/control/state").json()["messages"]
    return {name: counters[name] + payroll[name] for name in counters}


def test_every_record_delivered_once_through_failures_and_time_outs(stack, academy):
    """R-VAL-6, R-VAL-4, R-VAL-5: 30% of the requests fail, some time out before or after
    the remote system applied them; two real workers retry until every message is
    delivered, and each record is written exactly once in each remote system."""
    stack.start_worker()
    stack.start(
        "worker-2", "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2",
        "--no-startup-delay",
    )  # fmt: skip
    validation = validation_execute(user=academy["coordinator"], exam_code="FRA-ECRIT")
    assert validation.marks_count == GRADERS * SCRIPTS_PER_GRADER + ABSENTS
    _wait_delivered(stack, validation, timeout=60)
    _assert_delivered_exactly_once(stack, academy, validation)
    happened = _faults_happened(stack)
    # The faults really struck: failures, time-outs, and answers replayed from storage.
    assert happened["failed"] > 0
    assert happened["slowed"] > 0
    assert happened["received"] > DeliveryMessage.objects.filter(validation=validation).count()
    assert (
        sum(
            DeliveryMessage.objects.filter(validation=validation).values_list("attempts", flat=True)
        )
        > DeliveryMessage.objects.filter(validation=validation).count()
    )


def test_killed_worker_resumes_under_faults(stack, academy):
    """R-VAL-6: the worker is killed (SIGKILL) while the results system is applying
    messages; a new worker resumes what was left (the supervisor hands the interrupted
    message over once its lease runs out) and nothing is applied twice."""
    # Every applied message answers 0.7 s late (within the 1 s time-out): the kill lands
    # between the remote system applying a message and Harmonie recording its answer.
    stack.results.post("/control/faults", json={"delay_after_apply": 0.7})
    stack.start_worker()
    validation = validation_execute(user=academy["coordinator"], exam_code="FRA-ECRIT")
    messages = DeliveryMessage.objects.filter(validation=validation)

    def mid_delivery() -> bool:
        applied = stack.results.get("/control/state").json()["messages"]["applied"]
        return applied >= 2 and messages.filter(state=MessageState.SENDING).exists()

    stack.wait_until(mid_delivery, timeout=30, what="a message being sent after two applied")
    stack.kill("worker")
    assert messages.exclude(state=MessageState.DELIVERED).exists()
    assert validation_report(validation=validation).status == "in_progress"

    stack.results.post("/control/faults", json={"delay_after_apply": 0})
    stack.start_worker()
    _wait_delivered(stack, validation, timeout=60)
    _assert_delivered_exactly_once(stack, academy, validation)
    replays = _stored(stack, "results", "SELECT SUM(replays) FROM messages")[0][0]
    assert replays >= 1  # the interrupted message was sent again and answered from storage
