"""Who may read the journal of modifications (R-ACC-1): the one rule the journal reads.

Each within his academy: the coordinator answers for his academy's work, the exam office
for its batches and transmissions.
"""

from django.db.models import QuerySet

from harmonie.accounts.models import Role, User
from harmonie.accounts.permissions import require, user_academy_id
from harmonie.audit.models import AuditEntry

JOURNAL_ROLES = (Role.ACADEMIC_COORDINATOR, Role.EXAM_OFFICER)
JOURNAL_REFUSED = "Le journal est réservé à la coordination académique et au gestionnaire DEC."


def view_audit(*, user: User) -> bool:
    """The ability `view_audit`: the journal of the user's academy is open to him."""
    return user.is_authenticated and user.role in JOURNAL_ROLES and user.academy_id is not None


def audit_entries_in_scope(*, user: User) -> QuerySet[AuditEntry]:
    """The journal of the user's academy; 403 without `view_audit`."""
    require(allowed=view_audit(user=user), message=JOURNAL_REFUSED)
    return AuditEntry.objects.filter(academy_id=user_academy_id(user))
