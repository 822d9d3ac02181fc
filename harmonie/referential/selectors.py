"""Reads of the referential: exams with their counts, the marking scheme."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from harmonie.accounts.models import User
from harmonie.accounts.permissions import ACADEMY_ROLES, exams_for_user, scripts_in_scope
from harmonie.marking.models import Batch
from harmonie.referential.models import Exam, Part


@dataclass(frozen=True)
class ExamSummary:
    exam: Exam
    scripts: int
    locked_batches: int
    batches: int


def exam_summaries(*, user: User) -> list[ExamSummary]:
    """The user's exams with script and batch counts inside the user's scope."""
    summaries = []
    for exam in exams_for_user(user=user).select_related("session").order_by("code"):
        scripts = scripts_in_scope(user=user, exam=exam).count()
        batches = Batch.objects.filter(exam=exam)
        if user.role in ACADEMY_ROLES:
            batches = batches.filter(academy_id=user.academy_id)
        elif user.role == "grader":
            batches = batches.filter(grader=user)
        else:
            batches = batches.none()
        counts = batches.aggregate(total=Count("id"), locked=Count("id", filter=Q(locked=True)))
        summaries.append(
            ExamSummary(
                exam=exam,
                scripts=scripts,
                locked_batches=counts["locked"],
                batches=counts["total"],
            )
        )
    return summaries


@dataclass(frozen=True)
class SchemeNode:
    code: str
    label: str
    max_mark: Decimal
    children: tuple["SchemeNode", ...]

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "max": float(self.max_mark),
            "children": [child.as_dict() for child in self.children],
        }


def exam_scheme(*, exam: Exam) -> list[SchemeNode]:
    """The marking scheme as a tree, in the file's order."""
    parts = list(Part.objects.filter(exam=exam).order_by("position"))
    by_parent: dict[int | None, list[Part]] = {}
    for part in parts:
        by_parent.setdefault(part.parent_id, []).append(part)

    def build(parent_id: int | None) -> tuple[SchemeNode, ...]:
        return tuple(
            SchemeNode(
                code=part.code,
                label=part.label,
                max_mark=part.max_mark,
                children=build(part.pk),
            )
            for part in by_parent.get(parent_id, [])
        )

    return list(build(None))


def exam_leaf_codes(*, exam: Exam) -> list[str]:
    return list(
        Part.objects.filter(exam=exam, is_leaf=True)
        .order_by("position")
        .values_list("code", flat=True)
    )
