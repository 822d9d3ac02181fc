"""Reads of validation: what would be sent, what was delivered, batches, schools' exams."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce

from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Exam, Registration, School
from harmonie.validation import rules
from harmonie.validation.models import (
    DeliveryMessage,
    MessageState,
    SchoolArchive,
    Validation,
)

OPEN_STATES = (MessageState.PENDING, MessageState.SENDING)


def validation_last(*, exam: Exam, academy_id: int | None) -> datetime | None:
    """When the exam was last validated in the academy (the dashboard shows it)."""
    if academy_id is None:
        return None
    return (
        Validation.objects.filter(exam=exam, academy_id=academy_id)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def validation_first(*, exam: Exam, academy_id: int | None) -> datetime | None:
    """When the exam was first validated in the academy: since then its schools download
    their candidates' scripts (R-VAL-7)."""
    if academy_id is None:
        return None
    return (
        Validation.objects.filter(exam=exam, academy_id=academy_id)
        .order_by("created_at", "id")
        .values_list("created_at", flat=True)
        .first()
    )


def validation_latest(*, exam: Exam, academy_id: int) -> Validation | None:
    return (
        Validation.objects.filter(exam=exam, academy_id=academy_id)
        .order_by("-created_at", "-id")
        .first()
    )


def validation_in_progress(*, exam: Exam, academy_id: int) -> Validation | None:
    """A validation of the exam in the academy still delivering (pending or sending messages)."""
    return (
        Validation.objects.filter(exam=exam, academy_id=academy_id)
        .filter(
            Exists(DeliveryMessage.objects.filter(validation=OuterRef("pk"), state__in=OPEN_STATES))
        )
        .order_by("-created_at")
        .first()
    )


def _registrations(*, exam: Exam, academy_id: int) -> QuerySet[Registration]:
    """Registered candidates of the exam in the academy, each with its script (if any) as `s`."""
    return Registration.objects.filter(exam=exam, academy_id=academy_id).annotate(
        s=FilteredRelation("candidate__scripts", condition=Q(candidate__scripts__exam=exam))
    )


def candidate_counts(*, exam: Exam, academy_id: int) -> Counter[str]:
    """How many registered candidates fall in each class of `rules.candidate_classify`.

    One grouped query; the classification itself stays in the pure rule.
    """
    groups = (
        _registrations(exam=exam, academy_id=academy_id)
        .annotate(
            has_script=ExpressionWrapper(Q(s__id__isnull=False), output_field=BooleanField()),
            script_locked=Coalesce("s__locked", Value(False)),
            has_mark=ExpressionWrapper(
                Q(s__final_mark__isnull=False)
                | (Q(s__special_mark__isnull=False) & ~Q(s__special_mark="")),
                output_field=BooleanField(),
            ),
        )
        .values("attendance", "has_script", "script_locked", "has_mark")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: Counter[str] = Counter()
    for group in groups:
        klass = rules.candidate_classify(
            attendance=group["attendance"],
            has_script=bool(group["has_script"]),
            script_locked=bool(group["script_locked"]),
            final_mark=None,
            special_mark="X" if group["has_mark"] else None,
        )
        counts[klass] += group["n"]
    return counts


def marks_records(*, exam: Exam, academy_id: int, mode: rules.Mode) -> Iterator[dict]:
    """The marks records to send, ordered by candidate number, streamed (R-VAL-2, R-VAL-3)."""
    rows = (
        _registrations(exam=exam, academy_id=academy_id)  # type: ignore[misc]  # `s`: the FilteredRelation of `_registrations`
        .values_list(
            "candidate__number",
            "attendance",
            "s__id",
            "s__locked",
            "s__final_mark",
            "s__special_mark",
        )
        .order_by("candidate__number")
    )
    for number, attendance, script_id, locked, final_mark, special_mark in rows.iterator(
        chunk_size=5000
    ):
        klass = rules.candidate_classify(
            attendance=attendance,
            has_script=script_id is not None,
            script_locked=bool(locked),
            final_mark=final_mark,
            special_mark=special_mark,
        )
        mark = rules.mark_sent(
            klass=klass, mode=mode, final_mark=final_mark, special_mark=special_mark
        )
        if mark is not None:
            yield {"candidate": number, "mark": mark}


def work_done_records(*, exam: Exam, academy_id: int) -> list[dict]:
    """Scripts marked per grader: scripts of locked batches (R-VAL-1).

    Every grader with a batch of the exam in the academy is listed, with 0 when none of
    their batches is locked any more, so that an unlock after transmission is reflected.
    """
    graders = (
        Batch.objects.filter(exam=exam, academy_id=academy_id)
        .values("grader__username")
        .annotate(
            marked=Count("scripts", filter=Q(locked=True)),
        )
        .order_by("grader__username")
    )
    return [{"grader": row["grader__username"], "scripts": row["marked"]} for row in graders]


def work_done_rows(*, exam: Exam, academy_id: int) -> list[dict]:
    """The work done of `work_done_records` for the page: each grader by name (issue 13).

    The records sent to the payroll system keep the username; the page shows the person
    (first then last name, `person` filter), ordered by last then first name.
    """
    graders = (
        Batch.objects.filter(exam=exam, academy_id=academy_id)
        .values("grader__username", "grader__first_name", "grader__last_name")
        .annotate(marked=Count("scripts", filter=Q(locked=True)))
        .order_by("grader__last_name", "grader__first_name", "grader__username")
    )
    return [
        {
            "grader": {
                "username": row["grader__username"],
                "first_name": row["grader__first_name"],
                "last_name": row["grader__last_name"],
            },
            "scripts": row["marked"],
        }
        for row in graders
    ]


@dataclass(frozen=True)
class Preview:
    exam: Exam
    mode: rules.Mode
    counts: Counter[str]
    reasons: list[dict]
    marks: int
    absents_sent: int
    special_marks: dict[str, int]
    frauds: int
    work_done: list[dict]
    work_done_rows: list[dict]
    locked_batches: int
    batches: int
    in_progress: Validation | None
    last: Validation | None

    @property
    def nothing_locked(self) -> bool:
        return self.counts.get(rules.MARKED, 0) == 0 and self.counts.get(rules.UNMARKED, 0) == 0

    @property
    def numeric_marks(self) -> int:
        return self.counts.get(rules.MARKED, 0) - sum(self.special_marks.values())

    def as_dict(self) -> dict:
        return {
            "exam": self.exam.code,
            "mode": self.mode,
            "reasons": self.reasons,
            "marks": self.marks,
            "work_done": len(self.work_done),
            "frauds": self.frauds,
            "details": {
                "numeric_marks": self.numeric_marks,
                "special_marks": self.special_marks,
                "absents": self.absents_sent,
                "candidates": sum(self.counts.values()),
                "locked_batches": self.locked_batches,
                "batches": self.batches,
                "work_done": self.work_done,
            },
            "in_progress": self.in_progress.pk if self.in_progress else None,
            "last_validation": self.last.pk if self.last else None,
        }


def validation_preview(*, exam: Exam, academy_id: int) -> Preview:
    """Mode and reasons, what will be sent, frauds for information (R-VAL-2, R-VAL-3, R-VAL-8)."""
    counts = candidate_counts(exam=exam, academy_id=academy_id)
    mode = rules.transmission_mode(counts)
    scripts = Script.objects.filter(exam=exam, academy_id=academy_id)
    special_marks = dict(
        scripts.filter(locked=True, special_mark__isnull=False)
        .exclude(special_mark="")
        .values_list("special_mark")
        .annotate(n=Count("pk"))
        .order_by("special_mark")
    )
    batches = Batch.objects.filter(exam=exam, academy_id=academy_id).aggregate(
        total=Count("pk"), locked=Count("pk", filter=Q(locked=True))
    )
    frauds = Registration.objects.filter(
        exam=exam, academy_id=academy_id, candidate__fraud=True
    ).count()
    return Preview(
        exam=exam,
        mode=mode,
        counts=counts,
        reasons=rules.partial_reasons(counts),
        marks=rules.marks_count_sent(counts, mode),
        absents_sent=counts.get(rules.ABSENT, 0) if mode == "full" else 0,
        special_marks=special_marks,
        frauds=frauds,
        work_done=work_done_records(exam=exam, academy_id=academy_id),
        work_done_rows=work_done_rows(exam=exam, academy_id=academy_id),
        locked_batches=batches["locked"],
        batches=batches["total"],
        in_progress=validation_in_progress(exam=exam, academy_id=academy_id),
        last=validation_latest(exam=exam, academy_id=academy_id),
    )


def validations_of_exam(*, exam: Exam, academy_id: int, limit: int = 20) -> list[Validation]:
    return list(
        Validation.objects.filter(exam=exam, academy_id=academy_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


# --- batches (exam office) --------------------------------------------------------------


def batches_for_office(
    *, exam: Exam, academy_id: int, query: str = "", state: str = ""
) -> QuerySet[Batch]:
    batches = (
        Batch.objects.filter(exam=exam, academy_id=academy_id)
        .select_related("grader")
        .annotate(script_count=Count("scripts"))
        .order_by("code")
    )
    if query:
        batches = batches.filter(
            Q(code__icontains=query)
            | Q(grader__username__icontains=query)
            | Q(grader__last_name__icontains=query)
        )
    if state == "locked":
        batches = batches.filter(locked=True)
    elif state == "unlocked":
        batches = batches.filter(locked=False)
    return batches


def transmitted_batch_ids(*, exam: Exam, academy_id: int) -> set[int]:
    """Batches whose marks the last validation sent (locked when it ran)."""
    last = validation_latest(exam=exam, academy_id=academy_id)
    return set(last.locked_batches) if last else set()


# --- schools ----------------------------------------------------------------------------


def school_scripts(*, exam: Exam, school: School) -> QuerySet[Script]:
    """Scripts a school downloads: its candidates', marking finished, never a fraud's (R-VAL-8)."""
    return Script.objects.filter(exam=exam, school=school, locked=True, candidate__fraud=False)


@dataclass(frozen=True)
class SchoolExam:
    exam: Exam
    validation: Validation | None
    scripts: int
    divisions: list[tuple[str, int]]
    archive: SchoolArchive | None

    @property
    def available(self) -> bool:
        return self.validation is not None


def school_exam(*, exam: Exam, school: School) -> SchoolExam:
    validation = validation_latest(exam=exam, academy_id=school.department.academy_id)
    scripts = school_scripts(exam=exam, school=school)
    divisions: list[tuple[str, int]] = []
    archive = None
    if validation is not None:
        divisions = [
            (code or "", n)
            for code, n in scripts.values_list("class_group__code")
            .annotate(n=Count("pk"))
            .order_by("class_group__code")
        ]
        archive = SchoolArchive.objects.filter(validation=validation, school=school).first()
    return SchoolExam(
        exam=exam,
        validation=validation,
        scripts=sum(n for _, n in divisions),
        divisions=divisions,
        archive=archive,
    )
