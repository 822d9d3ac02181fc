"""Marks versions: every service that changes marks or lock states bumps them.

`Exam.marks_version` counts every change of the exam (any academy);
`AcademyMarksVersion` counts the changes of one academy's scripts, which is what a
simulation of that academy depends on (R-MASS-9). Callers hold the exam row lock.

Each academy's row also keeps which scripts its last few versions changed (issue 16):
a population loaded before a unit edit or a batch lock then needs only those scripts read
again, not the academy's 60,000. Written in the bump's own transaction, so the record is
exactly the change that committed with the version.
"""

from collections.abc import Iterable

from django.db.models import F

from harmonie.referential.models import AcademyMarksVersion, Exam

# How many versions back the changed scripts are kept, and the most scripts one version
# records (a larger change, or one that names no scripts, records that it is unknown).
CHANGES_KEPT = 16
CHANGES_MAX_SCRIPTS = 5000


def marks_version_bump(
    *, exam_id: int, academy_ids: Iterable[int], script_ids: Iterable[int] | None = None
) -> None:
    """One more version for the exam and for each academy.

    `script_ids`, with a single academy, names every script whose marks, lock state or
    other loaded columns the change touched; without them the change is recorded as
    unknown (an import, a harmonisation), and whoever needs the academy's scripts reads
    them all again.
    """
    Exam.objects.filter(pk=exam_id).update(marks_version=F("marks_version") + 1)
    academies = sorted(set(academy_ids))
    changed = None
    if script_ids is not None and len(academies) == 1:
        changed = sorted(set(script_ids))
        if len(changed) > CHANGES_MAX_SCRIPTS:
            changed = None
    for academy_id in academies:
        row = (
            AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id)
            .values_list("marks_version", "recent_changes")
            .first()
        )
        if row is None:
            AcademyMarksVersion.objects.create(
                exam_id=exam_id,
                academy_id=academy_id,
                marks_version=1,
                recent_changes={"1": changed},
            )
            continue
        version = row[0] + 1
        recent = {
            number: ids
            for number, ids in (row[1] or {}).items()
            if int(number) > version - CHANGES_KEPT
        }
        recent[str(version)] = changed
        AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id).update(
            marks_version=version, recent_changes=recent
        )


def labels_version_bump(*, exam_ids: Iterable[int]) -> None:
    """One more labels version for each exam an import touched (see Exam.labels_version):
    the names and lists cached under the old one are no longer read."""
    Exam.objects.filter(pk__in=sorted(set(exam_ids))).update(labels_version=F("labels_version") + 1)


def academy_marks_version(*, exam_id: int, academy_id: int | None) -> int:
    version = (
        AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id)
        .values_list("marks_version", flat=True)
        .first()
    )
    return version or 0


def academy_marks_changes(
    *, exam_id: int, academy_id: int
) -> tuple[int, dict[str, list[int] | None]]:
    """The academy's marks version, and the scripts each of its last versions changed
    (by version number as text; `None` where the change is unknown)."""
    row = (
        AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id)
        .values_list("marks_version", "recent_changes")
        .first()
    )
    if row is None:
        return 0, {}
    return row[0], row[1] or {}


def scripts_changed_since(
    *, changes: dict[str, list[int] | None], version: int, since: int
) -> list[int] | None:
    """Every script changed by the versions after `since` up to `version`, or `None` when
    one of them is not recorded (unknown, or older than the kept ones)."""
    ids: set[int] = set()
    for number in range(since + 1, version + 1):
        step = changes.get(str(number))
        if step is None:
            return None
        ids.update(step)
    return sorted(ids)
