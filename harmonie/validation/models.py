"""Validations, the messages that deliver them, and the schools' script archives.

Delivery state lives here, not in the task queue: a task takes a message id, re-reads the
message and acts on its state, so a worker killed at any point leaves a state that the
next run (or the supervisor) finishes without sending anything twice (R-VAL-6).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TransmissionMode(models.TextChoices):
    FULL = "full", _("transmission totale")
    PARTIAL = "partial", _("transmission partielle")


class System(models.TextChoices):
    RESULTS = "results", _("Cyclades (notes)")
    PAYROLL = "payroll", _("Imag'In (services faits)")


class Validation(models.Model):
    """One run of « valider l'harmonisation » for an exam in one academy (R-VAL-1)."""

    # Namespace of the idempotency keys: unique across every Harmonie installation.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    exam = models.ForeignKey("referential.Exam", on_delete=models.PROTECT, related_name="+")
    academy = models.ForeignKey("referential.Academy", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("date"), default=timezone.now)
    mode = models.CharField(_("mode"), max_length=8, choices=TransmissionMode.choices)
    # [{"code": ..., "count": n}]: why the transmission is partial (R-VAL-3).
    reasons = models.JSONField(_("motifs"), default=list)
    frauds = models.PositiveIntegerField(_("candidats fraudeurs"), default=0)
    marks_count = models.PositiveIntegerField(_("notes envoyées"), default=0)
    work_done_count = models.PositiveIntegerField(_("services faits envoyés"), default=0)
    marks_version = models.PositiveBigIntegerField(default=0)
    # Batches locked when validating: their marks were transmitted (R-VAL-9 shows it).
    locked_batches = models.JSONField(default=list)
    # The next supervisor round, while the validation delivers (see services).
    supervisor_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("validation")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["exam", "academy", "-created_at"])]

    def __str__(self) -> str:
        return f"validation {self.pk}"


class MessageState(models.TextChoices):
    PENDING = "pending", _("à envoyer")
    SENDING = "sending", _("en cours d'envoi")
    DELIVERED = "delivered", _("remis")
    FAILED = "failed", _("échec")


class DeliveryMessage(models.Model):
    """One chunk of a validation's payload for one system: the unit of delivery and retry."""

    validation = models.ForeignKey(Validation, on_delete=models.CASCADE, related_name="messages")
    system = models.CharField(max_length=16, choices=System.choices)
    number = models.PositiveIntegerField()
    # The exact body sent, envelope and records.
    payload = models.JSONField()
    record_count = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=MessageState.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While sending: past this instant the sender is presumed dead and the message is resent.
    lease_until = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    task_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    written = models.PositiveIntegerField(default=0)
    kept = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    # {"kept:hand_entered_di": n, "written:hand_entered_kept_apart": n, ...}
    reason_counts = models.JSONField(default=dict)
    # Only the records not simply written: [[ref, outcome, reason], ...] (compact).
    exceptions = models.JSONField(default=list)

    class Meta:
        verbose_name = _("message de transmission")
        ordering = ["validation", "system", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["validation", "system", "number"], name="delivery_message_unique"
            )
        ]
        indexes = [models.Index(fields=["validation", "state"])]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def idempotency_key(self) -> str:
        return f"harmonie:{self.validation.public_id}:{self.system}:{self.number}"


class ArchiveState(models.TextChoices):
    BUILDING = "building", _("en préparation")
    READY = "ready", _("prêt")
    FAILED = "failed", _("échec")


class SchoolArchive(models.Model):
    """A school's zip of scripts for an exam, built after a validation (R-VAL-7)."""

    validation = models.ForeignKey(Validation, on_delete=models.CASCADE, related_name="archives")
    school = models.ForeignKey("referential.School", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=16, choices=ArchiveState.choices, default=ArchiveState.BUILDING
    )
    # Relative to MEDIA_ROOT.
    file = models.CharField(max_length=255, blank=True)
    script_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    built_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The build in parts (`archives`): planned once, then rendered by several tasks.
    planned_at = models.DateTimeField(null=True, blank=True)
    # Whoever assembles the parts holds this lease; a dead assembler's runs out.
    lease_until = models.DateTimeField(null=True, blank=True)
    supervisor_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("archive de copies")
        constraints = [
            models.UniqueConstraint(fields=["validation", "school"], name="school_archive_unique")
        ]

    def __str__(self) -> str:
        return self.file or f"archive {self.pk}"


class PartState(models.TextChoices):
    PENDING = "pending", _("à préparer")
    RENDERING = "rendering", _("en préparation")
    DONE = "done", _("prête")


class SchoolArchivePart(models.Model):
    """A run of consecutive scripts of a school's zip, rendered by one task into its file.

    The scripts are frozen when the build is planned, in the zip's order; a part is claimed
    under a lease renewed while it renders, so that a part whose worker died is taken up
    again, and only the holder of the latest claim may put its file in place.
    """

    archive = models.ForeignKey(SchoolArchive, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    script_ids = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=PartState.choices, default=PartState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Relative to MEDIA_ROOT.
    file = models.CharField(max_length=255, blank=True)
    script_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("partie d'archive de copies")
        constraints = [
            models.UniqueConstraint(fields=["archive", "number"], name="school_archive_part_unique")
        ]

    def __str__(self) -> str:
        return f"archive {self.archive_id}, partie {self.number}"
