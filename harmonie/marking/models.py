"""Batches and scripts: the marking as it stands, and its versions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Batch(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    exam = models.ForeignKey("referential.Exam", on_delete=models.PROTECT, related_name="batches")
    academy = models.ForeignKey("referential.Academy", on_delete=models.PROTECT, related_name="+")
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches"
    )
    locked = models.BooleanField(_("verrouillé"), default=False)

    class Meta:
        verbose_name = _("lot")
        ordering = ["code"]
        indexes = [models.Index(fields=["exam", "academy", "locked"])]

    def __str__(self) -> str:
        return self.code


class Script(models.Model):
    """A candidate's script for one exam.

    Filter columns (academy, department, school, ...) are copied from the candidate and
    the batch at import so that lists, statistics and scenarios filter one table.
    Marks: `marks` holds leaf marks as marked (grader plus unit harmonisation);
    `initial_mark` is their sum (R-MARK-3, R-MARK-4); `delta` the harmonisation in
    force; `final_mark` = clamp(initial + delta); `final_marks` the leaf marks after
    conformity (R-MASS-12), null while not made conforming.
    """

    # Unique through a constraint: `unique=True` would add a second, LIKE index on PostgreSQL.
    public_id = models.CharField(_("copie"), max_length=16)
    # No single-column index on these keys: the composite indexes below lead with
    # (exam, academy) and serve every filter; fewer indexes make mass updates cheaper.
    exam = models.ForeignKey(
        "referential.Exam", on_delete=models.PROTECT, related_name="scripts", db_index=False
    )
    candidate = models.ForeignKey(
        "referential.Candidate", on_delete=models.PROTECT, related_name="scripts", db_index=False
    )
    subject = models.ForeignKey(
        "referential.Subject",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    batch = models.ForeignKey(
        Batch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scripts",
        db_index=False,
    )
    academy = models.ForeignKey(
        "referential.Academy", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        "referential.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    school = models.ForeignKey(
        "referential.School", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    class_group = models.ForeignKey(
        "referential.ClassGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    qualification = models.ForeignKey(
        "referential.Qualification", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    jury = models.ForeignKey(
        "referential.Jury", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Copied from the batch (True when there is no batch: harmonisation-only exams).
    locked = models.BooleanField(_("lot verrouillé"), default=False)

    marks = models.JSONField(_("notes par partie"), default=dict)
    special_mark = models.CharField(_("note particulière"), max_length=8, null=True, blank=True)
    initial_mark = models.DecimalField(
        _("note initiale"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    delta = models.DecimalField(_("harmonisation"), max_digits=6, decimal_places=2, default=0)
    # True while a raise or lower is in force (R-MASS-3); a reset clears it.
    is_harmonised = models.BooleanField(_("harmonisée"), default=False)
    final_mark = models.DecimalField(
        _("note finale"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    final_marks = models.JSONField(_("notes par partie après conformité"), null=True, blank=True)
    annotations = models.JSONField(_("annotations"), default=list)
    pages = models.JSONField(_("pages"), default=list)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    # What the last import brought (R-TRUST-2): `marking_fingerprint` of the file's marks,
    # special mark and annotations. The marking differs from it once edited in Harmonie.
    imported_fingerprint = models.CharField(
        _("empreinte de la notation importée"), max_length=32, null=True, blank=True
    )

    class Meta:
        verbose_name = _("copie")
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="script_public_id_unique"),
            models.UniqueConstraint(fields=["candidate", "exam"], name="script_unique_per_exam"),
            models.CheckConstraint(
                condition=Q(initial_mark__isnull=True) | Q(initial_mark__gte=0),
                name="script_initial_mark_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(final_mark__isnull=True) | Q(final_mark__gte=0),
                name="script_final_mark_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(special_mark__isnull=True) | Q(initial_mark__isnull=True),
                name="script_special_mark_has_no_numeric_mark",
            ),
        ]
        indexes = [
            models.Index(fields=["exam", "academy", "department"]),
            models.Index(fields=["exam", "academy", "school"]),
            models.Index(fields=["exam", "academy", "grader"]),
            models.Index(fields=["exam", "academy", "qualification"]),
            models.Index(fields=["exam", "academy", "batch"]),
            models.Index(fields=["exam", "academy", "subject"]),
            # No index holds a column a harmonisation writes (delta, final mark, flag,
            # spread, version): PostgreSQL then updates the row in place (HOT), with the
            # room fillfactor 70 leaves on each page (migration 0005, issue 16).
        ]

    def __str__(self) -> str:
        return self.public_id


class ScriptVersion(models.Model):
    """One saved state of a script's marking (R-UNIT-4): who, when, what."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    marks = models.JSONField(default=dict)
    special_mark = models.CharField(max_length=8, null=True, blank=True)
    annotations = models.JSONField(default=list)
    initial_mark = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # True for a marking a re-import brought over an edited script (R-TRUST-2,
    # `import_session --replace-edited`); no author then.
    from_import = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("version de copie")
        ordering = ["script", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["script", "number"], name="script_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.script_id} v{self.number}"
