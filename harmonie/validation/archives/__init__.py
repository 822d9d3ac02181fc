"""Schools' script downloads (R-VAL-7, R-VAL-8): one zip per exam, a folder per class
division, one PDF per script (see `rendering`).

Scripts are read, rendered and written one at a time, never all held in memory. Layout:
``<exam>/<division>/<script id>.pdf`` — anonymous ids in file names; fraud candidates'
scripts are never included.

A small school's zip is streamed to the response as it is rendered. A big school's is built
by the task workers (queue `zips`), in parts, so that several workers share it:

1. a build round plans it once: the school's scripts, in the zip's order, cut into parts of
   `zip_part_scripts`; each part gets its own task, except the first, which the round
   renders itself;
2. a part's task claims it under a lease, renewed while it renders, writes its scripts into
   its own small zip and puts the file in place only while its claim is still the latest;
3. whoever finishes the last part assembles: the parts' entries copied in order into the
   school's zip (stored, never recompressed), written beside it and moved in place.

A round also supervises the build: it runs again every `supervise_every` seconds while the
archive is building, hands to a new task every part whose worker died (its lease ran out,
or its task is gone) and assembles when a dead assembler left every part done. A killed
worker costs the part it was rendering, no more.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from harmonie.accounts.models import User
from harmonie.errors import NotFound
from harmonie.referential.models import Exam, School
from harmonie.referential.permissions import exam_get_for_user
from harmonie.validation.archives.build import (
    archive_build_restart,
    school_archive_build,
    school_archive_build_task,
    school_archive_part,
    school_archive_part_task,
)
from harmonie.validation.archives.content import (
    archive_entries,
    archive_filename,
    archive_stream,
    archive_write,
)
from harmonie.validation.conf import validation_config
from harmonie.validation.models import ArchiveState, SchoolArchive, Validation
from harmonie.validation.permissions import school_for_downloads
from harmonie.validation.selectors import school_scripts, validation_latest

__all__ = [
    "Download",
    "archive_entries",
    "archive_filename",
    "archive_stream",
    "archive_write",
    "school_archive_build",
    "school_archive_build_task",
    "school_archive_part",
    "school_archive_part_task",
    "school_archive_request",
    "school_download",
]

NOT_YET = (
    "Les copies de cette épreuve ne sont pas encore disponibles : elles le seront dès que "
    "le coordinateur académique aura validé l'harmonisation au moins une fois."
)


@dataclass(frozen=True)
class Download:
    """What a school gets: a stream, a built file, or an archive still being built."""

    filename: str
    stream: Iterator[bytes] | None = None
    path: Path | None = None
    archive: SchoolArchive | None = None


def _school_exam_validated(
    *, user: User, uai: str | None, exam_code: str
) -> tuple[School, Exam, Validation]:
    school = school_for_downloads(user=user, uai=uai)
    exam = exam_get_for_user(user=user, code=exam_code)
    validation = validation_latest(exam=exam, academy_id=school.department.academy_id)
    if validation is None:
        raise NotFound(NOT_YET, code="not_validated")
    return school, exam, validation


def school_archive_request(*, user: User, uai: str | None, exam_code: str) -> SchoolArchive:
    """Get or start the background build of the school's zip for the latest validation."""
    school, _, validation = _school_exam_validated(user=user, uai=uai, exam_code=exam_code)
    with transaction.atomic():
        archive, created = SchoolArchive.objects.select_for_update().get_or_create(
            validation=validation, school=school
        )
        broken = archive.state == ArchiveState.FAILED or (
            archive.state == ArchiveState.READY
            and not (Path(settings.MEDIA_ROOT) / archive.file).exists()
        )
        if broken:
            archive_build_restart(archive)
        if created or broken:
            transaction.on_commit(partial(_archive_enqueue, archive.pk))
    return archive


def _archive_enqueue(archive_id: int) -> None:
    school_archive_build_task.enqueue(archive_id)


def school_download(*, user: User, uai: str | None, exam_code: str) -> Download:
    """The school's zip (R-VAL-7): streamed when small, else built in the background."""
    school, exam, _ = _school_exam_validated(user=user, uai=uai, exam_code=exam_code)
    filename = archive_filename(exam=exam, school=school)
    count = school_scripts(exam=exam, school=school).count()
    if count <= validation_config().zip_stream_max_scripts:
        return Download(filename=filename, stream=archive_stream(exam=exam, school=school))
    archive = school_archive_request(user=user, uai=uai, exam_code=exam_code)
    archive.refresh_from_db()
    if archive.state == ArchiveState.READY:
        return Download(filename=filename, path=Path(settings.MEDIA_ROOT) / archive.file)
    return Download(filename=filename, archive=archive)
