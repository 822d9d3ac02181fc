"""What a school's zip holds (R-VAL-7, R-VAL-8), written one script at a time: streamed,
into a file, or into one part of a background build (`build`)."""

import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from django.db.models import QuerySet

from harmonie.marking.models import Script
from harmonie.referential.models import Exam, School
from harmonie.referential.selectors import exam_scheme
from harmonie.validation.rendering import folder_name, script_pdf
from harmonie.validation.selectors import school_scripts

ZIP_ORDER = ("class_group__code", "public_id")


def entries(*, exam: Exam, scripts: QuerySet[Script]) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, PDF) for each of these scripts, in the zip's order, one at a time."""
    scheme = exam_scheme(exam=exam)
    rendered = (
        scripts.select_related("class_group")
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
        .order_by(*ZIP_ORDER)
    )
    for script in rendered.iterator(chunk_size=100):
        division = folder_name(script.class_group.code if script.class_group else None)
        name = f"{folder_name(exam.code)}/{division}/{folder_name(script.public_id)}.pdf"
        yield name, script_pdf(script=script, exam=exam, scheme=scheme)


def archive_entries(*, exam: Exam, school: School) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, PDF) for each script the school may download, one at a time."""
    return entries(exam=exam, scripts=school_scripts(exam=exam, school=school))


def zip_writer(fileobj: BinaryIO) -> zipfile.ZipFile:
    # PDFs of scans are already compressed: stored, not deflated.
    return zipfile.ZipFile(
        fileobj,
        mode="w",
        compression=zipfile.ZIP_STORED,
        allowZip64=True,
    )


def archive_write(fileobj: BinaryIO, *, exam: Exam, school: School) -> int:
    """Write the school's zip into a file object in one process; the number of scripts."""
    count = 0
    with zip_writer(fileobj) as archive:
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
    with zip_writer(pipe) as archive:  # type: ignore[arg-type]
        for name, pdf in archive_entries(exam=exam, school=school):
            archive.writestr(name, pdf)
            yield pipe.take()
    yield pipe.take()


def archive_filename(*, exam: Exam, school: School) -> str:
    return f"copies-{folder_name(school.uai)}-{folder_name(exam.code)}.zip"
