"""The journal's listeners to the events of the layers below it (no import back)."""

from typing import Any

from django.dispatch import receiver

from harmonie.accounts.signals import sign_in_event
from harmonie.audit.services import audit_log


@receiver(sign_in_event, dispatch_uid="audit.sign_in_event")
def sign_in_event_journal(
    *, user: Any, action: str, target_type: str, target_id: str, after: Any = None, **_: Any
) -> None:
    audit_log(
        actor=user,
        action=action,
        target_type=target_type,
        target_id=target_id,
        academy=user.academy if user else None,
        after=after,
    )
