"""One chain of build rounds for a big school's zip, whatever the number of workers (R-VAL-7).

Every round of the build schedules the next one. With two workers, the first round (the
school's request) can run while the supervisor's round does, and two rounds can look for
a waiting one at the same instant: each must leave one chain of rounds, not start another
beside it, which would then run for as long as the archive is building, and after.
"""

import contextlib
import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from harmonie.validation import task_state
from harmonie.validation.archives import build, school_archive_build_task, school_archive_request
from harmonie.validation.models import ArchiveState, SchoolArchive
from harmonie.validation.services import validation_execute

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 60.0
EVERY = 30.0


@pytest.fixture
def archive(world, settings, tmp_path) -> SchoolArchive:
    """School A's zip, built in the background; its first round (the request's) waiting."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VALIDATION = {
        "zip_stream_max_scripts": 1,
        "zip_part_scripts": 2,
        "zip_lease_seconds": LEASE,
        "supervise_every": EVERY,
    }
    validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    return school_archive_request(user=world["school_a"], uai=None, exam_code="FRA-ECRIT")


def _first_round(worker) -> DBTaskResult:
    [first] = worker.waiting("school_archive_build_task")
    return first


def _supervisor_running(archive: SchoolArchive, worker_id: str) -> DBTaskResult:
    """The archive's supervisor round, scheduled by an earlier round, now running."""
    result = school_archive_build_task.enqueue(archive.pk)
    SchoolArchive.objects.filter(pk=archive.pk).update(supervisor_task_id=str(result.id))
    round_ = DBTaskResult.objects.get(pk=result.id)
    round_.claim(worker_id)
    return round_


def _recorded(archive: SchoolArchive) -> str:
    archive.refresh_from_db()
    return archive.supervisor_task_id


def test_the_first_round_beside_the_running_supervisor_starts_no_second_chain(
    archive, worker, monkeypatch
):
    """Worker 1 runs the supervisor's round while worker 2 runs the first round; the
    supervisor schedules its successor while the first round looks at it: one round
    waits afterwards, the one recorded, not one from each."""
    first = _first_round(worker)
    first.claim("worker-2")
    supervisor = _supervisor_running(archive, "worker-1")
    lookup = task_state.task_result
    scheduled = []

    def looked(task, task_id):
        if task_id == str(supervisor.pk) and not scheduled:
            scheduled.append(True)
            build._round_enqueue(archive.pk, round_id=str(supervisor.pk))  # worker 1, meanwhile
        return lookup(task, task_id)

    monkeypatch.setattr(task_state, "task_result", looked)
    build._round_enqueue(archive.pk)  # the first round, on worker 2
    assert scheduled
    [waiting] = worker.waiting("school_archive_build_task")
    assert str(waiting.pk) == _recorded(archive)


def test_each_round_a_worker_runs_schedules_one_next(archive, worker, clock):
    """While the build goes on (its parts held by other workers), the request's round
    starts the chain and each round after it, run by the worker, is the one recorded and
    schedules its successor: one round waits at a time."""
    build._archive_plan(archive_id=archive.pk)
    claims = [build._part_claim(part.pk) for part in archive.parts.all()]
    assert worker.run(queues=("zips",)) == 1  # the request's round
    [waiting] = worker.waiting("school_archive_build_task")
    assert str(waiting.pk) == _recorded(archive)
    for _ in range(2):
        clock.advance(EVERY)  # the next round is due; the parts' workers renew their claims
        for claim in claims:
            assert claim is not None
            build._lease_renew(claim)
        assert worker.run(queues=("zips",)) == 1
        [successor] = worker.waiting("school_archive_build_task")
        assert successor.pk != waiting.pk
        assert str(successor.pk) == _recorded(archive)
        waiting = successor
    archive.refresh_from_db()
    assert archive.state == ArchiveState.BUILDING


def test_a_dead_supervisor_is_replaced_by_the_next_round(archive, worker, clock):
    """A supervisor round whose worker died stays `running` for ever: once it has run
    for longer than a lease, the next round schedules a new one."""
    _first_round(worker).claim("worker-2")
    dead = _supervisor_running(archive, "killed-worker")
    clock.advance(LEASE + 1)
    build._round_enqueue(archive.pk)
    [waiting] = worker.waiting("school_archive_build_task")
    assert waiting.pk != dead.pk
    assert str(waiting.pk) == _recorded(archive)


@pytest.mark.postgres
def test_two_rounds_at_the_same_instant_schedule_one(archive, worker, monkeypatch):
    """The last supervisor round has ended; two rounds (two workers) look for a waiting
    one at the same instant: the archive's row serialises them, the second finds the
    first's."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrous de lignes)")
    _first_round(worker).claim("worker-2")
    ended = _supervisor_running(archive, "worker-1")
    ended.delete()
    both_looked = threading.Barrier(2)
    lookup = task_state.task_result

    def looked(task, task_id):
        # Both rounds read the recorded one before either schedules, unless the first
        # holds the row until it has scheduled (then the barrier gives up).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_looked.wait(timeout=2)
        return lookup(task, task_id)

    monkeypatch.setattr(task_state, "task_result", looked)
    errors: list[BaseException] = []

    def round_() -> None:
        try:
            build._round_enqueue(archive.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=round_) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    [waiting] = worker.waiting("school_archive_build_task")
    assert str(waiting.pk) == _recorded(archive)
