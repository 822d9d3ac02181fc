"""A big school's zip built in parts by the task workers (issue 16, item 4): the school gets
the same zip as the one streamed in one go (R-VAL-7: a folder per class division, one PDF
per script, in order), never a fraud's script (R-VAL-8), and a worker killed half-way
loses only what it was doing: the next round of the build takes it up again."""

import io
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from harmonie.marking.models import Script
from harmonie.referential.models import Candidate, Exam, School
from harmonie.referential.scans import scan_file_write
from harmonie.validation.archives import (
    archive_stream,
    build,
    content,
    school_archive_build,
    school_archive_part,
    school_archive_request,
)
from harmonie.validation.models import ArchiveState, PartState, SchoolArchive, SchoolArchivePart
from harmonie.validation.services import validation_execute
from tests.factories import CandidateFactory, ClassGroupFactory, ScriptFactory

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 60.0
EVERY = 30.0


class WorkerKilled(BaseException):
    """What a killed worker leaves behind: nothing caught, nothing recorded, files half written."""


@pytest.fixture
def school(world, settings, tmp_path):
    """School A with 8 scripts to download in 4 divisions (one script without a division),
    real page scans, and the fraud S-000003 left out; parts of 2 scripts, built in the
    background from 2 scripts up."""
    settings.SCANS_ROOT = tmp_path / "scans"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VALIDATION = {
        "zip_stream_max_scripts": 1,
        "zip_part_scripts": 2,
        "zip_lease_seconds": LEASE,
        "supervise_every": EVERY,
    }
    school_a = world["schools"][0]
    batch = world["batches"][0]
    for number, division in enumerate(["TG3", "1STMG1", None, "1STMG2", "TG3", "1STMG1"]):
        group = ClassGroupFactory(school=school_a, code=division) if division else None
        ScriptFactory(
            public_id=f"S-0001{number:02d}",
            batch=batch,
            candidate=CandidateFactory(number=f"00000001{number:02d}", school=school_a,
                                       class_group=group),
        )  # fmt: skip
    folder = settings.SCANS_ROOT / "BAC2026"
    folder.mkdir(parents=True)
    for script in Script.objects.filter(school=school_a):
        scan_file_write(directory=folder, name=script.public_id, exam="FRA-ECRIT", seed=3)
        script.pages = [f"BAC2026/{script.public_id}.pdf"]
        script.save(update_fields=["pages"])
    validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
    return school_a


EXPECTED = [
    "FRA-ECRIT/1STMG1/S-000001.pdf",
    "FRA-ECRIT/1STMG1/S-000101.pdf",
    "FRA-ECRIT/1STMG1/S-000105.pdf",
    "FRA-ECRIT/1STMG2/S-000002.pdf",
    "FRA-ECRIT/1STMG2/S-000103.pdf",
    "FRA-ECRIT/TG3/S-000100.pdf",
    "FRA-ECRIT/TG3/S-000104.pdf",
]
WITHOUT_DIVISION = "FRA-ECRIT/sans-division/S-000102.pdf"


def _names_in_zip_order(names: list[str]) -> list[str]:
    """EXPECTED with the script without a division where the database sorts a NULL code."""
    return names if names[0] == WITHOUT_DIVISION else [*EXPECTED, WITHOUT_DIVISION]


class Renders:
    """`script_pdf` as the workers call it: each script rendered is counted, in order, and
    `die_after(n)` kills the worker (as SIGKILL would) when it starts its n+1-th next one."""

    def __init__(self, monkeypatch) -> None:
        self.real = content.script_pdf
        self.names: list[str] = []
        self.kill_at: int | None = None
        monkeypatch.setattr(content, "script_pdf", self)

    def __call__(self, *, script, exam, scheme) -> bytes:
        if self.kill_at is not None and len(self.names) >= self.kill_at:
            self.kill_at = None
            raise WorkerKilled
        self.names.append(script.public_id)
        return self.real(script=script, exam=exam, scheme=scheme)

    def die_after(self, renders: int) -> None:
        self.kill_at = len(self.names) + renders


@pytest.fixture
def renders(monkeypatch):
    return Renders(monkeypatch)


def _request(world) -> SchoolArchive:
    return school_archive_request(user=world["school_a"], uai=None, exam_code="FRA-ECRIT")


def _built(archive: SchoolArchive, settings) -> zipfile.ZipFile:
    archive.refresh_from_db()
    assert archive.state == ArchiveState.READY, archive.error
    return zipfile.ZipFile(Path(settings.MEDIA_ROOT) / archive.file)


def _streamed(school: School) -> zipfile.ZipFile:
    exam = Exam.objects.get(code="FRA-ECRIT")
    return zipfile.ZipFile(io.BytesIO(b"".join(archive_stream(exam=exam, school=school))))


def _parts(archive: SchoolArchive) -> list[SchoolArchivePart]:
    return list(archive.parts.order_by("number"))


def test_parts_make_the_zip_streamed_in_one_go(world, school, worker, settings, renders):
    """R-VAL-7, R-VAL-8: the zip built in 4 parts holds, in the same order and byte for
    byte, what the single-process stream holds; the fraud's script is in neither."""
    streamed = _streamed(school)
    renders.names.clear()
    archive = _request(world)
    assert worker.run(queues=("zips",)) == 4  # the round (renders part 0) and 3 part tasks
    assert [part.state for part in _parts(archive)] == [PartState.DONE] * 4
    built = _built(archive, settings)
    assert built.testzip() is None
    assert built.namelist() == _names_in_zip_order(built.namelist())
    assert sorted(renders.names) == sorted(name[-12:-4] for name in built.namelist())  # once
    assert streamed.namelist() == built.namelist()
    for name in built.namelist():
        assert built.read(name) == streamed.read(name)
        assert built.getinfo(name).compress_type == zipfile.ZIP_STORED
    assert "S-000003" not in " ".join(built.namelist())  # fraud (R-VAL-8)
    archive.refresh_from_db()
    assert archive.script_count == 8
    assert not (Path(settings.MEDIA_ROOT) / archive.file).with_suffix(".parts").exists()


def test_a_fraud_flagged_after_planning_is_left_out(world, school, worker, settings):
    """R-VAL-8: the parts are planned with the scripts of that moment, but each part reads
    them again when it renders: a candidate flagged as fraud meanwhile is not in the zip."""
    archive = _request(world)
    school_archive_build(archive_id=archive.pk)  # plans, renders part 0, enqueues the rest
    assert _parts(archive)[0].state == PartState.DONE
    last = Script.objects.get(pk=_parts(archive)[-1].script_ids[-1])
    Candidate.objects.filter(pk=last.candidate_id).update(fraud=True)
    worker.run(queues=("zips",))
    names = _built(archive, settings).namelist()
    assert len(names) == 7
    assert last.public_id not in " ".join(names)


def _as_killed(part: SchoolArchivePart) -> None:
    """The part's task as a killed worker leaves it: claimed, started, never finished."""
    DBTaskResult.objects.filter(pk=part.task_id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=["killed"]
    )


def _leftovers(settings) -> list[Path]:
    return list((Path(settings.MEDIA_ROOT) / "archives").rglob("*.tmp"))


def test_a_worker_killed_in_the_middle_of_a_part_is_resumed(
    world, school, worker, settings, renders, clock
):
    """R-VAL-7: a worker killed half-way through part 2 leaves it claimed, with its file
    half written; the other parts go on, and once the claim's lease has run out the next
    round renders part 2 again, alone, and assembles the same zip."""
    expected = _streamed(school).namelist()
    archive = _request(world)
    school_archive_build(archive_id=archive.pk)  # plans, renders part 0, enqueues the rest
    part = _parts(archive)[2]
    renders.die_after(1)
    with pytest.raises(WorkerKilled):
        school_archive_part(part_id=part.pk)
    _as_killed(part)
    assert len(_leftovers(settings)) == 1  # the half-written part
    renders.names.clear()

    worker.run(queues=("zips",))  # parts 1 and 3; part 2 still held by the dead worker
    assert [p.state for p in _parts(archive)] == [
        PartState.DONE, PartState.DONE, PartState.RENDERING, PartState.DONE,
    ]  # fmt: skip
    archive.refresh_from_db()
    assert archive.state == ArchiveState.BUILDING
    assert len(renders.names) == 4

    clock.advance(LEASE + EVERY)  # the claim has run out; the next round is due
    worker.run(queues=("zips",))
    built = _built(archive, settings)
    assert built.testzip() is None
    assert built.namelist() == expected
    again = [Script.objects.get(pk=pk).public_id for pk in part.script_ids]
    assert renders.names[4:] == again  # part 2 rendered again, nothing else
    assert _parts(archive)[2].attempts == 2
    assert not _leftovers(settings)


def test_a_killed_assembly_is_finished_by_the_next_round(
    world, school, worker, settings, renders, monkeypatch, clock
):
    """R-VAL-7: every part done, the assembler killed while copying them: the zip is not
    in place, and the next round after the assembly's lease assembles it from the parts
    without rendering any script again."""
    expected = _streamed(school).namelist()
    renders.names.clear()
    real_copy = build._parts_copy

    def killed(output, parts):
        monkeypatch.setattr(build, "_parts_copy", real_copy)
        raise WorkerKilled

    monkeypatch.setattr(build, "_parts_copy", killed)
    archive = _request(world)
    with pytest.raises(AssertionError, match="WorkerKilled"):
        worker.run(queues=("zips",))  # the task that finished the last part dies assembling
    archive.refresh_from_db()
    assert archive.state == ArchiveState.BUILDING
    assert [p.state for p in _parts(archive)] == [PartState.DONE] * 4
    assert len(renders.names) == 8

    clock.advance(LEASE + EVERY)
    worker.run(queues=("zips",))
    assert _built(archive, settings).namelist() == expected
    assert len(renders.names) == 8


def test_a_claim_taken_over_never_replaces_the_new_one(world, school, settings, clock):
    """A worker too slow for its lease: another task takes the part over; when the slow one
    ends, its file is dropped and it may not renew its claim; the new claim's file is kept."""
    archive = _request(world)
    build._archive_plan(archive_id=archive.pk)
    part = _parts(archive)[1]
    slow = build._part_claim(part.pk)
    assert slow is not None
    assert build._part_claim(part.pk) is None  # held
    clock.advance(LEASE + 1)
    fresh = build._part_claim(part.pk)
    assert fresh is not None
    assert fresh.attempt == slow.attempt + 1
    directory = build._parts_directory(
        validation=archive.validation, exam=archive.validation.exam, school=archive.school
    )
    directory.mkdir(parents=True)
    target = directory / f"{part.number:05d}.zip"
    late = directory / "late.tmp"
    late.write_bytes(b"not a zip")
    assert not build._part_finish(slow, late, target=target, count=2)
    assert not late.exists()
    assert not target.exists()
    with pytest.raises(build._ClaimLost):
        build._lease_renew(slow)
    build._lease_renew(fresh)

    written = directory / "fresh.tmp"
    exam = Exam.objects.get(code="FRA-ECRIT")
    count = build._part_write(written, claim=fresh, exam=exam, school=school)
    assert not build._part_finish(fresh, written, target=target, count=count)  # not the last
    assert zipfile.ZipFile(target).testzip() is None
    part.refresh_from_db()
    assert (part.state, part.script_count, part.attempts) == (PartState.DONE, 2, 2)


def test_a_part_that_kills_its_worker_every_time_fails_the_build(
    world, school, worker, settings, renders, clock
):
    """After PART_MAX_ATTEMPTS claims that died, the build fails (the school may start it
    again) instead of killing workers forever; started again, it builds the whole zip."""
    archive = _request(world)
    school_archive_build(archive_id=archive.pk)
    part = _parts(archive)[1]
    for _ in range(build.PART_MAX_ATTEMPTS):
        renders.die_after(0)
        with pytest.raises(WorkerKilled):
            school_archive_part(part_id=part.pk)
        clock.advance(LEASE + 1)
    assert school_archive_build(archive_id=archive.pk) == ArchiveState.FAILED
    archive.refresh_from_db()
    assert "interrompue 3 fois" in archive.error

    again = _request(world)  # « relancer » : a new plan, new parts
    assert again.pk == archive.pk
    worker.run(queues=("zips",))
    assert len(_built(archive, settings).namelist()) == 8
