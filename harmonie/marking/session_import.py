"""`session_import`: load a session file (API.md §1) in one transaction.

The whole file is validated first (referential part, then batches and scripts); nothing
is written when it is refused. Then, under the exam row lock: the referential sync
(`harmonie.referential.importer.referential_sync`), the batches and scripts
(`harmonie.marking.imports.scripts_import`, R-TRUST-2), the marks versions of what
changed and the `session.imported` audit row. It lives in `marking` because it sits
above both apps.
"""

from pathlib import Path

from django.db import transaction

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.marking.import_guard import ImportConflict
from harmonie.marking.imports import (
    ImportReport,
    Touched,
    exams_lock,
    file_exam_codes,
    known_scripts_load,
    scripts_import,
)
from harmonie.marking.models import Script
from harmonie.marking.session_file import ValidImport, session_file_check
from harmonie.referential.importer import (
    ReferentialIds,
    known_keys_load,
    referential_sync,
    session_file_read,
)
from harmonie.referential.session_file import SessionFileError
from harmonie.referential.versions import labels_version_bump, marks_version_bump

__all__ = ["ImportConflict", "ImportReport", "SessionFileError", "session_import"]


def _referential_touched(valid: ValidImport, ids: ReferentialIds) -> Touched:
    """Labels, scheme or candidates changed: lists and statistics of every exam of the
    file show them (labels are cached under the exam's version)."""
    if not ids.changed:
        return set()
    data = valid.data
    file_exams = {ids.exam_ids[r["code"]] for r in data["exams"]}
    file_exams |= {ids.exam_ids[r["exam"]] for r in data["scripts"]}
    touched: Touched = set(
        Script.objects.filter(exam_id__in=file_exams)
        .values_list("exam_id", "academy_id")
        .distinct()
    )
    touched.update((exam_id, None) for exam_id in file_exams)
    return touched


def _marks_versions_bump(touched: Touched) -> None:
    """No cached list, statistic, label or simulation of what the import changed stays
    stale."""
    exam_ids = sorted({exam for exam, _academy in touched})
    for exam_id in exam_ids:
        marks_version_bump(
            exam_id=exam_id,
            academy_ids={a for e, a in touched if e == exam_id and a is not None},
        )
    labels_version_bump(exam_ids=exam_ids)


def session_import(
    *, path: Path, actor: User | None = None, replace_edited: bool = False
) -> ImportReport:
    """Validate then load the session file at `path`.

    Raises SessionFileError if the file is refused, ImportConflict if it would replace
    the marking of scripts edited in Harmonie and `replace_edited` is not given
    (R-TRUST-2); nothing is written then.
    """
    data = session_file_read(path)
    valid = session_file_check(
        data=data, base_dir=path.parent, known=known_keys_load(), known_scripts=known_scripts_load()
    )
    report = ImportReport()
    with transaction.atomic():
        # The exam rows are the lock every mark-changing service takes first (R-MASS-10),
        # before the referential sync writes any exam row.
        exams_lock(codes=file_exam_codes(valid.data))
        ids = referential_sync(valid=valid.session, report=report)
        touched = scripts_import(
            valid=valid,
            ids=ids,
            report=report,
            replace_edited=replace_edited,
            actor=actor,
            file_name=path.name,
        )
        _marks_versions_bump(touched | _referential_touched(valid, ids))
        if report.changed:
            audit_log(
                actor=actor,
                action="session.imported",
                target_type="session",
                target_id=valid.data["session"]["code"],
                after={
                    "file": path.name,
                    "created": report.created,
                    "updated": report.updated,
                    "kept_edited": report.kept_edited,
                    "replaced": report.replaced,
                },
            )
    return report
