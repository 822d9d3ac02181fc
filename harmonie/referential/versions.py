"""Marks versions: every service that changes marks or lock states bumps them.

`Exam.marks_version` counts every change of the exam (any academy);
`AcademyMarksVersion` counts the changes of one academy's scripts, which is what a
simulation of that academy depends on (R-MASS-9). Callers hold the exam row lock.
"""

from collections.abc import Iterable

from django.db.models import F

from harmonie.referential.models import AcademyMarksVersion, Exam


def marks_version_bump(*, exam_id: int, academy_ids: Iterable[int]) -> None:
    Exam.objects.filter(pk=exam_id).update(marks_version=F("marks_version") + 1)
    for academy_id in sorted(set(academy_ids)):
        changed = AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id).update(
            marks_version=F("marks_version") + 1
        )
        if not changed:
            AcademyMarksVersion.objects.create(
                exam_id=exam_id, academy_id=academy_id, marks_version=1
            )


def academy_marks_version(*, exam_id: int, academy_id: int | None) -> int:
    version = (
        AcademyMarksVersion.objects.filter(exam_id=exam_id, academy_id=academy_id)
        .values_list("marks_version", flat=True)
        .first()
    )
    return version or 0
