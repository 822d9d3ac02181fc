"""Schools' script downloads (R-VAL-7, R-VAL-8): one zip per exam, a folder per class
division, one PDF per script (see `rendering`).

Scripts are read, rendered and written one at a time: the zip is streamed to the response
(small schools) or to a file under MEDIA_ROOT by a background task (big schools), never
holding all scripts in memory. Layout: ``<exam>/<division>/<script id>.pdf`` — anonymous
ids in file names; fraud candidates' scripts are never included.
"""

import logging
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from harmonie.accounts.models import User
from harmonie.errors import NotFound
from harmonie.referential.models import Exam, School
from harmonie.referential.permissions import exam_get_for_user
from harmonie.referential.selectors import exam_scheme
from harmonie.validation.conf import validation_config
from harmonie.validation.models import ArchiveState, SchoolArchive, Validation
from harmonie.validation.permissions import school_for_downloads
from harmonie.validation.rendering import folder_name, script_pdf
from harmonie.validation.selectors import school_scripts, validation_latest

logger = logging.getLogger(__name__)

NOT_YET = (
    "Les copies de cette épreuve ne sont pas encore disponibles : elles le seront dès que "
    "le coordinateur académique aura validé l'harmonisation au moins une fois."
)


# --- the zip ----------------------------------------------------------------------------


def archive_entries(*, exam: Exam, school: School) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, PDF) for each script the school may download, one at a time."""
    scheme = exam_scheme(exam=exam)
    scripts = (
        school_scripts(exam=exam, school=school)
        .select_related("class_group")
        .only(
            "public_id",
            "class_group__code",
            "pages",
            "annotations",
            "marks",
            "final_marks",
            "final_mark",
            "special_mark",
            "delta",
        )
        .order_by("class_group__code", "public_id")
    )
    for script in scripts.iterator(chunk_size=100):
        division = folder_name(script.class_group.code if script.class_group else None)
        name = f"{folder_name(exam.code)}/{division}/{folder_name(script.public_id)}.pdf"
        yield name, script_pdf(script=script, exam=exam, scheme=scheme)


def _zip(fileobj: object) -> zipfile.ZipFile:
    # PDFs of scans are already compressed: stored, not deflated.
    return zipfile.ZipFile(
        fileobj,  # type: ignore[arg-type]
        mode="w",
        compression=zipfile.ZIP_STORED,
        allowZip64=True,
    )


def archive_write(fileobj: object, *, exam: Exam, school: School) -> int:
    """Write the school's zip into a file object; the number of scripts."""
    count = 0
    with _zip(fileobj) as archive:
        for name, pdf in archive_entries(exam=exam, school=school):
            archive.writestr(name, pdf)
            count += 1
    return count


class _Pipe:
    """A write-only, unseekable sink for ZipFile; `take()` hands over what was written."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def archive_stream(*, exam: Exam, school: School) -> Iterator[bytes]:
    """The school's zip as a stream of chunks, one script per chunk."""
    pipe = _Pipe()
    with _zip(pipe) as archive:
        for name, pdf in archive_entries(exam=exam, school=school):
            archive.writestr(name, pdf)
            yield pipe.take()
    yield pipe.take()


# --- services ---------------------------------------------------------------------------


def archive_filename(*, exam: Exam, school: School) -> str:
    return f"copies-{folder_name(school.uai)}-{folder_name(exam.code)}.zip"


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
            archive.state = ArchiveState.BUILDING
            archive.error = ""
            archive.save(update_fields=["state", "error"])
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


def school_archive_build(*, archive_id: int) -> str:
    """Build the zip into a temporary file, then move it in place (a reader never sees half)."""
    archive = (
        SchoolArchive.objects.select_related("validation__exam", "school")
        .filter(pk=archive_id)
        .first()
    )
    if archive is None or archive.state != ArchiveState.BUILDING:
        return archive.state if archive else "missing"
    exam, school = archive.validation.exam, archive.school
    relative = (
        Path("archives")
        / str(archive.validation.public_id)
        / archive_filename(exam=exam, school=school)
    )
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_file = target.with_suffix(".part")
    try:
        with partial_file.open("wb") as output:
            count = archive_write(output, exam=exam, school=school)
        os.replace(partial_file, target)
    except Exception as error:
        logger.exception("archive %s : échec", archive_id)
        partial_file.unlink(missing_ok=True)
        SchoolArchive.objects.filter(pk=archive_id).update(
            state=ArchiveState.FAILED, error=f"{type(error).__name__}: {error}"[:500]
        )
        return ArchiveState.FAILED
    SchoolArchive.objects.filter(pk=archive_id).update(
        state=ArchiveState.READY,
        file=str(relative),
        script_count=count,
        size=target.stat().st_size,
        built_at=timezone.now(),
    )
    _older_archives_remove(archive=archive)
    return ArchiveState.READY


@task(queue_name="zips")
def school_archive_build_task(archive_id: int) -> str:
    """The worker's task (`tasks` lists it): it takes the id and re-reads the archive."""
    return school_archive_build(archive_id=archive_id)


def _older_archives_remove(*, archive: SchoolArchive) -> None:
    """Archives of earlier validations of the same exam are superseded: files removed."""
    older = SchoolArchive.objects.filter(
        school=archive.school,
        validation__exam=archive.validation.exam,
        validation__created_at__lt=archive.validation.created_at,
    )
    for old in older:
        if old.file:
            (Path(settings.MEDIA_ROOT) / old.file).unlink(missing_ok=True)
    older.delete()
