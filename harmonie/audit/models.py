"""One audit table written by every mark-changing service, in its transaction."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Namespaced action type, e.g. "script.marking_updated", "harmonisation.executed".
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("type de cible"), max_length=64)
    target_id = models.CharField(_("cible"), max_length=64)
    exam = models.ForeignKey(
        "referential.Exam", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    academy = models.ForeignKey(
        "referential.Academy", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(_("avant"), null=True, blank=True)
    after = models.JSONField(_("après"), null=True, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("entrée du journal")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["academy", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"
