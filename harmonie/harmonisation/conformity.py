"""Conformity reads (R-MASS-12): which scripts' leaf marks do not add up to the final mark.

A script is conforming when its `final_marks` (or, while null, its `marks` as marked)
add up to its final mark. Special marks and exams without a scheme always conform.
Only scripts with a delta or a stored spread can fail, so only those are read.
"""

from decimal import Decimal

from django.db.models import Q

from harmonie.harmonisation.engine import delta_spread
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scheme import exam_leaves as scheme_leaves


def exam_leaves(*, exam: Exam) -> list[tuple[str, Decimal]]:
    """The scheme's leaves and their maximum, in scheme order (`referential.scheme`)."""
    return list(scheme_leaves(exam_id=exam.pk).items())


def _sum(marks: dict, codes: list[str]) -> Decimal:
    return sum((Decimal(str(marks.get(code) or 0)) for code in codes), Decimal(0))


def conformity_pending(
    *, exam: Exam, academy_id: int, spread: bool = True
) -> dict[int, dict[str, float]]:
    """Not-conforming scripts of the academy, each with its conforming leaf marks
    (an empty dict when `spread` is false: counting only)."""
    leaves = exam_leaves(exam=exam)
    if not leaves:
        return {}
    codes = [code for code, _ in leaves]
    maxima = [maximum for _, maximum in leaves]
    rows = (
        Script.objects.filter(exam=exam, academy_id=academy_id, final_mark__isnull=False)
        .filter(~Q(delta=0) | Q(final_marks__isnull=False))
        .values_list("pk", "marks", "final_marks", "final_mark")
    )
    pending: dict[int, dict[str, float]] = {}
    for pk, marks, final_marks, final_mark in rows.iterator(chunk_size=5000):
        if _sum(final_marks if final_marks is not None else marks, codes) == final_mark:
            continue
        if not spread:
            pending[pk] = {}
            continue
        leaves = delta_spread(
            leaf_marks=[Decimal(str(marks.get(code) or 0)) for code in codes],
            leaf_maxima=maxima,
            final_mark=final_mark,
            step=exam.step,
        )
        pending[pk] = {code: float(value) for code, value in zip(codes, leaves, strict=True)}
    return pending
