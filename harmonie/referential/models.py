"""Referential data of an exam session: geography, schools, candidates, exams.

Every object has a natural key from the session file (API.md §1); imports update
by natural key, and the API addresses objects by it.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ExamSession(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("session")

    def __str__(self) -> str:
        return self.label


class Academy(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("académie")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Department(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="departments")

    class Meta:
        verbose_name = _("département")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class School(models.Model):
    uai = models.CharField(_("UAI"), max_length=8, unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="schools")

    class Meta:
        verbose_name = _("établissement")
        ordering = ["uai"]

    def __str__(self) -> str:
        return f"{self.uai} {self.label}"


class ClassGroup(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="class_groups")
    code = models.CharField(_("division"), max_length=32)

    class Meta:
        verbose_name = _("division de classe")
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="class_group_unique_per_school")
        ]

    def __str__(self) -> str:
        return self.code


class Qualification(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("qualification présentée")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Jury(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="juries")

    class Meta:
        verbose_name = _("jury")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


DEFAULT_TOLERANCE = Decimal(2)
DEFAULT_THRESHOLDS = (8, 10, 12, 14, 16)


def default_thresholds() -> list[int]:
    return list(DEFAULT_THRESHOLDS)


class ExamKind(models.TextChoices):
    MARKED = "marked", _("épreuve ponctuelle")
    HARMONISATION_ONLY = "harmonisation_only", _("épreuve uniquement harmonisée")


class Exam(models.Model):
    session = models.ForeignKey(ExamSession, on_delete=models.PROTECT, related_name="exams")
    code = models.CharField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    kind = models.CharField(_("type"), max_length=32, choices=ExamKind.choices)
    max_mark = models.DecimalField(_("note maximale"), max_digits=6, decimal_places=2)
    step = models.DecimalField(_("pas"), max_digits=4, decimal_places=2, default=Decimal("0.5"))
    special_marks = models.JSONField(_("notes particulières"), default=list)
    # R-FAIR-1: how far (points on the exam's maximum) a grader's effect may go before
    # he is flagged; R-FAIR-3: the marks whose crossing a simulation counts.
    tolerance = models.DecimalField(
        _("tolérance"), max_digits=6, decimal_places=2, default=DEFAULT_TOLERANCE
    )
    thresholds = models.JSONField(_("seuils"), default=default_thresholds)
    # Bumped by every service that changes a mark or a batch's lock state, under a row
    # lock of the exam: a simulation remembers the version it ran on (R-MASS-9).
    marks_version = models.PositiveBigIntegerField(default=0)
    # Bumped by an import that touches the exam (the only writer of the departments',
    # schools', graders', subjects' and batches' names and of the academies' lists): the
    # labels the lists and linked choices keep in the cache follow it, not every mark
    # changed in any academy (issue 16).
    labels_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("épreuve")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(max_mark__gt=0), name="exam_max_mark_positive"),
            models.CheckConstraint(condition=Q(step__gt=0), name="exam_step_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_marked(self) -> bool:
        return self.kind == ExamKind.MARKED


class Part(models.Model):
    """A node of the marking scheme; leaves carry the marks (R-MARK-3)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="parts")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    code = models.CharField(_("code"), max_length=32)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    max_mark = models.DecimalField(_("maximum"), max_digits=6, decimal_places=2)
    position = models.PositiveIntegerField(default=0)
    is_leaf = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("partie du barème")
        ordering = ["exam", "position"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "code"], name="part_code_unique_per_exam"),
            models.CheckConstraint(condition=Q(max_mark__gt=0), name="part_max_positive"),
        ]

    def __str__(self) -> str:
        return self.label or self.code


class Subject(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="subjects")
    code = models.CharField(_("code"), max_length=32)

    class Meta:
        verbose_name = _("sujet")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["exam", "code"], name="subject_code_unique_per_exam")
        ]

    def __str__(self) -> str:
        return self.code


class Candidate(models.Model):
    """A candidate. Identity (number) never leaves the referential (R-UNIT-2)."""

    number = models.CharField(_("numéro"), max_length=32, unique=True)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="candidates")
    class_group = models.ForeignKey(
        ClassGroup, on_delete=models.PROTECT, related_name="candidates", null=True, blank=True
    )
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="candidates"
    )
    jury = models.ForeignKey(Jury, on_delete=models.PROTECT, related_name="candidates")
    fraud = models.BooleanField(_("fraude"), default=False)

    class Meta:
        verbose_name = _("candidat")

    def __str__(self) -> str:
        return f"candidat #{self.pk}"


class Attendance(models.TextChoices):
    PRESENT = "present", _("présent")
    ABSENT = "absent", _("absent")


class Registration(models.Model):
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="registrations")
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="registrations")
    # Denormalised from the candidate's school: every screen is scoped to an academy.
    academy = models.ForeignKey(Academy, on_delete=models.PROTECT, related_name="+")
    attendance = models.CharField(
        _("émargement"), max_length=16, choices=Attendance.choices, null=True, blank=True
    )

    class Meta:
        verbose_name = _("inscription")
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "exam"], name="registration_unique_per_exam"
            )
        ]
        indexes = [models.Index(fields=["exam", "academy", "attendance"])]

    def __str__(self) -> str:
        return f"inscription #{self.pk}"


class AcademyMarksVersion(models.Model):
    """How many times the marks of one academy's scripts of an exam changed.

    A simulation is stale when its academy's version moved (R-MASS-9); another
    academy's harmonisation of the same national paper leaves it valid.
    """

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="+")
    academy = models.ForeignKey(Academy, on_delete=models.CASCADE, related_name="+")
    marks_version = models.PositiveBigIntegerField(default=0)
    # The scripts each of the last versions changed, by version number as text (`None`
    # where unknown): see `referential.versions`.
    recent_changes = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exam", "academy"], name="academy_marks_version_unique")
        ]

    def __str__(self) -> str:
        return f"version {self.marks_version}"
