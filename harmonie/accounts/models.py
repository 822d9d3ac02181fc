"""Users, their role and scope (R-ACC-1), and API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ACADEMIC_COORDINATOR = "academic_coordinator", _("coordinateur académique")
    HARMONISATION_MEMBER = "harmonisation_member", _("membre harmonisation")
    EXAM_OFFICER = "exam_officer", _("gestionnaire DEC")
    GRADER = "grader", _("correcteur")
    SCHOOL = "school", _("chef d'établissement")


class User(AbstractUser):
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices, blank=True)
    academy = models.ForeignKey(
        "referential.Academy", on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    school = models.ForeignKey(
        "referential.School", on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    # Missions in the payroll system: a harmonisation member works only on these exams.
    missions = models.ManyToManyField(
        "referential.Exam", blank=True, related_name="missioned_users"
    )

    class Meta:
        verbose_name = _("utilisateur")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="school") | Q(school__isnull=False),
                name="school_account_has_school",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    # HMAC of the password hash when the token was made: a password changed by any path
    # (service, admin, changepassword) no longer matches, so the token stops working.
    password_stamp = models.CharField(max_length=64, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"jeton de {self.user} (expire le {self.expires_at:%d/%m/%Y %H:%M})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)


class FailedLogin(models.Model):
    """A refused login, counted to throttle guessing (shared by every web process)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"échec de connexion de {self.username}"
