from django.db.models import QuerySet

from harmonie.accounts.models import Role, User
from harmonie.audit.models import AuditEntry
from harmonie.errors import Forbidden


def audit_entries_for_user(*, user: User) -> QuerySet[AuditEntry]:
    """The exam office reads the journal of its academy (and academy-less imports)."""
    if user.role != Role.EXAM_OFFICER:
        raise Forbidden("Le journal est réservé au gestionnaire DEC.")
    return AuditEntry.objects.filter(academy_id=user.academy_id).select_related("actor", "exam")
