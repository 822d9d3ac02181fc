"""`audit_log`: the one way services write the audit trail, inside their transaction."""

from typing import Any

from harmonie.audit.models import AuditEntry


def audit_log(
    *,
    actor: Any,
    action: str,
    target_type: str,
    target_id: str | int,
    exam: Any = None,
    academy: Any = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        exam=exam,
        academy=academy,
        before=before,
        after=after,
    )
