"""The background build of a big school's zip, in parts shared by the task workers.

Every step re-reads its state from the database and acts on it, so that a worker killed
at any point leaves something the next round finishes: a part's claim is a lease renewed
while it renders, a part's file is put in place only by the latest claim, and the zip by
whoever holds the assembly's lease (see the package's docstring).
"""

import logging
import os
import shutil
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskContext, task

from harmonie.referential.models import Exam, School
from harmonie.validation.archives.content import ZIP_ORDER, archive_filename, entries, zip_writer
from harmonie.validation.conf import validation_config
from harmonie.validation.models import (
    ArchiveState,
    PartState,
    SchoolArchive,
    SchoolArchivePart,
    Validation,
)
from harmonie.validation.selectors import school_scripts
from harmonie.validation.task_state import task_alive

logger = logging.getLogger(__name__)

PART_MAX_ATTEMPTS = 3
_COPY_BUFFER = 1 << 20


@task(queue_name="zips", takes_context=True)
def school_archive_build_task(context: TaskContext, archive_id: int) -> str:
    """A round of the build (`tasks` lists it): it takes the id and re-reads the archive;
    its own task id tells it whether it is the round the archive's chain waits for."""
    return school_archive_build(archive_id=archive_id, round_id=str(context.task_result.id))


@task(queue_name="zips")
def school_archive_part_task(part_id: int) -> str:
    """One part of a build: it takes the part's id and re-reads it."""
    return school_archive_part(part_id=part_id)


def _archive_relative(*, validation: Validation, exam: Exam, school: School) -> Path:
    """Where the zip lives, relative to MEDIA_ROOT."""
    return Path("archives") / str(validation.public_id) / archive_filename(exam=exam, school=school)


def _parts_directory(*, validation: Validation, exam: Exam, school: School) -> Path:
    relative = _archive_relative(validation=validation, exam=exam, school=school)
    return Path(settings.MEDIA_ROOT) / relative.with_suffix(".parts")


def archive_build_restart(archive: SchoolArchive) -> None:
    """Start a failed or lost build again from the start (inside the caller's transaction,
    the archive locked): new parts, new claims, the old parts' files removed on commit."""
    archive.parts.all().delete()
    archive.state = ArchiveState.BUILDING
    archive.error = ""
    archive.planned_at = None
    archive.lease_until = None
    archive.save(update_fields=["state", "error", "planned_at", "lease_until"])
    validation = archive.validation
    parts = _parts_directory(validation=validation, exam=validation.exam, school=archive.school)
    transaction.on_commit(partial(shutil.rmtree, parts, ignore_errors=True))


def _lease() -> timedelta:
    return timedelta(seconds=validation_config().zip_lease_seconds)


def _archive_get(archive_id: int) -> SchoolArchive | None:
    return (
        SchoolArchive.objects.select_related("validation__exam", "school")
        .filter(pk=archive_id)
        .first()
    )


def school_archive_build(*, archive_id: int, round_id: str = "") -> str:
    """One round: plan the parts once, hand orphaned parts to new tasks, render one of them,
    assemble once every part is done. Returns the archive's state afterwards. `round_id`:
    the round's task, when a worker runs it."""
    state = SchoolArchive.objects.filter(pk=archive_id).values_list("state", flat=True).first()
    if state != ArchiveState.BUILDING:
        return state or "missing"
    # The next round is enqueued first: whatever kills this one, the build goes on.
    _round_enqueue(archive_id, round_id=round_id)
    _archive_plan(archive_id=archive_id)
    orphans = _parts_orphaned(archive_id=archive_id)
    _parts_enqueue(orphans[1:])
    if orphans:
        return school_archive_part(part_id=orphans[0])
    return _archive_assemble(archive_id=archive_id)


def _round_enqueue(archive_id: int, *, round_id: str = "") -> None:
    """Schedule the next round in `supervise_every` seconds. The round recorded on the
    archive schedules its successor; any other (the school's request's, a late one) only
    when none is coming: waiting, or running for less than a lease (it schedules the next).

    Under the archive's row lock, as delivery's supervisor: two rounds ending at the same
    instant, or the request's round beside the recorded one, leave one chain of rounds.
    """
    with transaction.atomic():
        recorded = (
            SchoolArchive.objects.select_for_update()
            .filter(pk=archive_id)
            .values_list("supervisor_task_id", flat=True)
            .first()
        )
        if recorded is None:
            return
        chained = bool(round_id) and recorded == round_id
        if not chained and task_alive(
            school_archive_build_task, recorded, started_after=timezone.now() - _lease()
        ):
            return
        run_after = timezone.now() + timedelta(seconds=validation_config().supervise_every)
        result = school_archive_build_task.using(run_after=run_after).enqueue(archive_id)
        SchoolArchive.objects.filter(pk=archive_id).update(supervisor_task_id=str(result.id))


def _archive_plan(*, archive_id: int) -> None:
    """Freeze the scripts in the zip's order and cut them into parts, once."""
    with transaction.atomic():
        archive = SchoolArchive.objects.select_for_update().filter(pk=archive_id).first()
        if archive is None or archive.state != ArchiveState.BUILDING or archive.planned_at:
            return
        exam = Exam.objects.get(pk=archive.validation.exam_id)
        ids = list(
            school_scripts(exam=exam, school=archive.school)
            .order_by(*ZIP_ORDER)
            .values_list("pk", flat=True)
        )
        size = validation_config().zip_part_scripts
        SchoolArchivePart.objects.bulk_create(
            SchoolArchivePart(archive=archive, number=number, script_ids=ids[start : start + size])
            for number, start in enumerate(range(0, len(ids), size))
        )
        archive.planned_at = timezone.now()
        archive.save(update_fields=["planned_at"])


def _parts_orphaned(*, archive_id: int) -> list[int]:
    """Parts not done that nobody will render: lease run out, or no task alive for them.

    A part whose claims all died (a script that kills its worker every time) fails the
    build after PART_MAX_ATTEMPTS, instead of killing workers forever.
    """
    now = timezone.now()
    orphans = []
    waiting = (
        SchoolArchivePart.objects.filter(archive_id=archive_id)
        .exclude(state=PartState.DONE)
        .order_by("number")
        .values_list("pk", "number", "state", "attempts", "lease_until", "task_id")
    )
    for part_id, number, state, attempts, lease_until, task_id in waiting:
        if state == PartState.RENDERING and lease_until is not None and lease_until > now:
            continue
        if state == PartState.PENDING and task_alive(
            school_archive_part_task, task_id, started_after=now - _lease()
        ):
            continue
        if attempts >= PART_MAX_ATTEMPTS:
            _archive_failed(archive_id, f"partie {number} : interrompue {attempts} fois")
            return []
        orphans.append(part_id)
    return orphans


def _parts_enqueue(part_ids: list[int]) -> None:
    with transaction.atomic():  # each task and its id on its part, together
        for part_id in part_ids:
            result = school_archive_part_task.enqueue(part_id)
            SchoolArchivePart.objects.filter(pk=part_id).update(task_id=str(result.id))


@dataclass(frozen=True)
class _Claim:
    part_id: int
    archive_id: int
    number: int
    attempt: int
    script_ids: list[int]


class _ClaimLost(Exception):
    """Another task took the part over (this one's lease ran out): its work is dropped."""


def _part_claim(part_id: int) -> _Claim | None:
    """Take the part if it is still to render and nobody holds it."""
    now = timezone.now()
    with transaction.atomic():
        part = SchoolArchivePart.objects.select_for_update().filter(pk=part_id).first()
        if part is None or part.state == PartState.DONE:
            return None
        if part.state == PartState.RENDERING and part.lease_until and part.lease_until > now:
            return None
        building = SchoolArchive.objects.filter(
            pk=part.archive_id, state=ArchiveState.BUILDING
        ).exists()
        if not building:
            return None
        part.state = PartState.RENDERING
        part.attempts += 1
        part.lease_until = now + _lease()
        part.save(update_fields=["state", "attempts", "lease_until"])
    return _Claim(part.pk, part.archive_id, part.number, part.attempts, list(part.script_ids))


def _lease_renew(claim: _Claim) -> None:
    renewed = SchoolArchivePart.objects.filter(
        pk=claim.part_id, state=PartState.RENDERING, attempts=claim.attempt
    ).update(lease_until=timezone.now() + _lease())
    if not renewed:
        raise _ClaimLost


def school_archive_part(*, part_id: int) -> str:
    """Render one part into its file; the last part done assembles the zip."""
    claim = _part_claim(part_id)
    if claim is None:
        return "skipped"
    archive = _archive_get(claim.archive_id)
    if archive is None:
        return "missing"
    exam, school = archive.validation.exam, archive.school
    directory = _parts_directory(validation=archive.validation, exam=exam, school=school)
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / f"{claim.part_id}-{claim.attempt}.tmp"
    try:
        count = _part_write(temporary, claim=claim, exam=exam, school=school)
    except _ClaimLost:
        temporary.unlink(missing_ok=True)
        return "superseded"
    except Exception as error:
        logger.exception("archive %s, partie %s : échec", claim.archive_id, claim.number)
        temporary.unlink(missing_ok=True)
        _part_failed(claim, error)
        return ArchiveState.FAILED
    last = _part_finish(claim, temporary, target=directory / f"{claim.number:05d}.zip", count=count)
    if last:
        return _archive_assemble(archive_id=claim.archive_id)
    return ArchiveState.BUILDING


def _part_write(temporary: Path, *, claim: _Claim, exam: Exam, school: School) -> int:
    """The part's scripts, still the school's to download (R-VAL-8 at render time too)."""
    scripts = school_scripts(exam=exam, school=school).filter(pk__in=claim.script_ids)
    renew_every = validation_config().zip_lease_seconds / 4
    renewed = time.monotonic()
    count = 0
    with temporary.open("wb") as output, zip_writer(output) as archive:
        for name, pdf in entries(exam=exam, scripts=scripts):
            archive.writestr(name, pdf)
            count += 1
            if time.monotonic() - renewed > renew_every:
                _lease_renew(claim)
                renewed = time.monotonic()
    return count


def _part_finish(claim: _Claim, temporary: Path, *, target: Path, count: int) -> bool:
    """Put the file in place if the claim is still the latest; True when every part is done."""
    with transaction.atomic():
        # The archive's row serialises the parts' ends: exactly one of them sees the last.
        archive = SchoolArchive.objects.select_for_update().filter(pk=claim.archive_id).first()
        part = SchoolArchivePart.objects.select_for_update().filter(pk=claim.part_id).first()
        if (
            archive is None
            or part is None
            or part.state != PartState.RENDERING
            or part.attempts != claim.attempt
        ):
            temporary.unlink(missing_ok=True)
            return False
        os.replace(temporary, target)
        part.state = PartState.DONE
        part.lease_until = None
        part.file = str(target.relative_to(settings.MEDIA_ROOT))
        part.script_count = count
        part.save(update_fields=["state", "lease_until", "file", "script_count"])
        return archive.state == ArchiveState.BUILDING and not (
            archive.parts.exclude(state=PartState.DONE).exists()
        )


def _part_failed(claim: _Claim, error: Exception) -> None:
    """A part that raised fails the build (the school may start it again), if still ours."""
    with transaction.atomic():
        ours = SchoolArchivePart.objects.filter(
            pk=claim.part_id, state=PartState.RENDERING, attempts=claim.attempt
        ).update(state=PartState.PENDING, lease_until=None)
        if ours:
            _archive_failed(claim.archive_id, f"{type(error).__name__}: {error}")


def _archive_failed(archive_id: int, error: str, *, planned_at: datetime | None = None) -> None:
    building = SchoolArchive.objects.filter(pk=archive_id, state=ArchiveState.BUILDING)
    if planned_at is not None:  # the same build, not one started again since
        building = building.filter(planned_at=planned_at)
    building.update(state=ArchiveState.FAILED, error=error[:500], lease_until=None)


def _archive_assemble(*, archive_id: int) -> str:
    """Copy the parts' entries in order into the school's zip, then move it in place."""
    now = timezone.now()
    with transaction.atomic():
        archive = SchoolArchive.objects.select_for_update().filter(pk=archive_id).first()
        if archive is None:
            return "missing"
        if archive.state != ArchiveState.BUILDING:
            return archive.state
        unfinished = archive.parts.exclude(state=PartState.DONE).exists()
        if archive.planned_at is None or unfinished:
            return ArchiveState.BUILDING
        if archive.lease_until is not None and archive.lease_until > now:
            return ArchiveState.BUILDING  # another task is assembling
        archive.lease_until = now + _lease()
        archive.save(update_fields=["lease_until"])
        planned_at = archive.planned_at
        parts = list(archive.parts.order_by("number").values_list("file", "script_count"))
    archive = _archive_get(archive_id)
    if archive is None:
        return "missing"
    exam, school = archive.validation.exam, archive.school
    relative = _archive_relative(validation=archive.validation, exam=exam, school=school)
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # Named for this assembler: a second one, after a lease ran out, never shares the file.
    temporary = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        _parts_copy(temporary, [Path(settings.MEDIA_ROOT) / file for file, _ in parts])
    except Exception as error:
        logger.exception("archive %s : échec de l'assemblage", archive_id)
        temporary.unlink(missing_ok=True)
        _archive_failed(archive_id, f"{type(error).__name__}: {error}", planned_at=planned_at)
        return ArchiveState.FAILED
    with transaction.atomic():
        current = SchoolArchive.objects.select_for_update().filter(pk=archive_id).first()
        if current is None or current.state != ArchiveState.BUILDING:
            temporary.unlink(missing_ok=True)
            return current.state if current else "missing"
        if current.planned_at != planned_at:  # started again meanwhile: not this build's zip
            temporary.unlink(missing_ok=True)
            return ArchiveState.BUILDING
        os.replace(temporary, target)
        SchoolArchive.objects.filter(pk=archive_id).update(
            state=ArchiveState.READY,
            file=str(relative),
            script_count=sum(count for _, count in parts),
            size=target.stat().st_size,
            built_at=timezone.now(),
            lease_until=None,
        )
    shutil.rmtree(target.with_suffix(".parts"), ignore_errors=True)
    _older_archives_remove(archive=archive)
    return ArchiveState.READY


def _parts_copy(output: Path, parts: list[Path]) -> None:
    """The parts' entries, in order, into one zip: stored as they are, names and dates kept."""
    with output.open("wb") as sink, zip_writer(sink) as archive:
        for path in parts:
            with zipfile.ZipFile(path) as part:
                for entry in part.infolist():
                    info = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                    info.external_attr = entry.external_attr
                    with part.open(entry) as source, archive.open(info, "w") as target:
                        shutil.copyfileobj(source, target, _COPY_BUFFER)


def _older_archives_remove(*, archive: SchoolArchive) -> None:
    """Archives of earlier validations of the same exam are superseded: files removed."""
    older = SchoolArchive.objects.filter(
        school=archive.school,
        validation__exam=archive.validation.exam,
        validation__created_at__lt=archive.validation.created_at,
    ).select_related("validation")
    exam, school = archive.validation.exam, archive.school
    for old in older:
        parts = _parts_directory(validation=old.validation, exam=exam, school=school)
        shutil.rmtree(parts, ignore_errors=True)
        if old.file:
            (Path(settings.MEDIA_ROOT) / old.file).unlink(missing_ok=True)
    older.delete()
