"""Mass harmonisation: simulations, executed harmonisations, their scenarios and effects."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Simulation(models.Model):
    """A draft harmonisation run on the data of one `marks_version` (R-MASS-8, R-MASS-9).

    `scenarios` holds the API.md scenario objects, normalised; `fingerprint` their hash,
    so that execution can tell an edited draft from the simulated one.
    """

    exam = models.ForeignKey("referential.Exam", on_delete=models.CASCADE, related_name="+")
    academy = models.ForeignKey("referential.Academy", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scenarios = models.JSONField(default=list)
    display = models.JSONField(default=dict)
    # Set for the simulation of an exact undo (R-MASS-14): the harmonisation it cancels.
    undoes = models.ForeignKey(
        "Harmonisation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    marks_version = models.PositiveBigIntegerField()
    fingerprint = models.CharField(max_length=64)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("simulation")

    def __str__(self) -> str:
        return f"simulation n°{self.pk}"


# R-FAIR-5: why a harmonisation was executed (a fixed list; `other` when not given).
REASON_CODES = {
    "grader_severity": _("Sévérité d'un correcteur"),
    "grader_leniency": _("Indulgence d'un correcteur"),
    "subject_difficulty": _("Difficulté du sujet"),
    "scheme_error": _("Erreur de barème"),
    "scanning_incident": _("Incident de numérisation"),
    "other": _("Autre motif"),
}


class Harmonisation(models.Model):
    exam = models.ForeignKey(
        "referential.Exam", on_delete=models.PROTECT, related_name="harmonisations"
    )
    academy = models.ForeignKey("referential.Academy", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("nom"), max_length=200, blank=True)
    executed_at = models.DateTimeField(_("exécutée le"), auto_now_add=True)
    # All scenarios are resets (R-MASS-2).
    is_cancellation = models.BooleanField(_("annulation"), default=False)
    # One simulation is executed at most once.
    simulation = models.OneToOneField(
        Simulation, on_delete=models.PROTECT, related_name="harmonisation"
    )
    reason_code = models.CharField(
        _("motif"), max_length=32, default="other", choices=list(REASON_CODES.items())
    )
    reason_text = models.CharField(_("précision du motif"), max_length=1000, blank=True)
    # The harmonisation an exact undo cancels (R-MASS-14); null for any other.
    cancels = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="cancelled_by"
    )

    class Meta:
        verbose_name = _("harmonisation")
        ordering = ["-executed_at", "-id"]
        indexes = [models.Index(fields=["exam", "academy", "-executed_at"])]

    def __str__(self) -> str:
        return self.name or f"harmonisation n°{self.pk}"


class Scenario(models.Model):
    harmonisation = models.ForeignKey(
        Harmonisation, on_delete=models.CASCADE, related_name="scenarios"
    )
    position = models.PositiveSmallIntegerField()
    filter = models.JSONField(default=dict)
    action = models.CharField(max_length=8)
    points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    matched = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("scénario")
        ordering = ["harmonisation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["harmonisation", "position"], name="scenario_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"scénario n°{self.position + 1}"


class HarmonisationEffect(models.Model):
    """What one harmonisation did to one script: enough to trace or undo it."""

    # No database-level foreign keys here (issue 16): PostgreSQL checks one per row at
    # commit, 1.9 s of a 195,391-script execution. Effects are written only by
    # `writers.effects_write`, with the ids of the scripts the same locked transaction
    # updates and of the harmonisation it creates; neither table ever loses a row. The
    # unique (harmonisation, script) index is the only one besides the key: it serves the
    # lookups by harmonisation, and those by script given the exam's harmonisations
    # (`explanation.selectors._changes`, `undo._carried`). An index by script alone cost
    # an execution a random insertion among every earlier effect (issue 16: about 40 %
    # of the effects' COPY, `docs/decisions.md`).
    harmonisation = models.ForeignKey(
        Harmonisation,
        on_delete=models.CASCADE,
        related_name="effects",
        db_constraint=False,
        db_index=False,
    )
    scenario_position = models.PositiveSmallIntegerField()
    script = models.ForeignKey(
        "marking.Script",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    initial_mark = models.DecimalField(max_digits=6, decimal_places=2)
    delta_before = models.DecimalField(max_digits=6, decimal_places=2)
    delta = models.DecimalField(max_digits=6, decimal_places=2)
    final_mark_before = models.DecimalField(max_digits=6, decimal_places=2)
    final_mark = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("effet d'harmonisation")
        constraints = [
            models.UniqueConstraint(
                fields=["harmonisation", "script"], name="effect_unique_per_script"
            )
        ]

    def __str__(self) -> str:
        return f"{self.script_id}: {self.final_mark_before} → {self.final_mark}"
