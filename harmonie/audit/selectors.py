import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.audit.models import AuditEntry
from harmonie.audit.permissions import audit_entries_in_scope
from harmonie.audit.wording import ACTION_LABELS
from harmonie.errors import InvalidInput


@dataclass(frozen=True)
class JournalFilter:
    action: str = ""
    author: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_query(self) -> list[tuple[str, str]]:
        pairs = [("action", self.action)] if self.action else []
        if self.author is not None:
            pairs.append(("author", str(self.author)))
        if self.date_from:
            pairs.append(("from", self.date_from.isoformat()))
        if self.date_to:
            pairs.append(("to", self.date_to.isoformat()))
        return pairs


def audit_entries_for_user(*, user: User) -> QuerySet[AuditEntry]:
    """The journal of the user's academy (R-ACC-1): 403 without the ability `view_audit`."""
    return audit_entries_in_scope(user=user).select_related("actor", "exam")


def _date(value: str, label: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"Date « {label} » : « {value[:20]} » n'est pas une date (JJ/MM/AAAA).",
            details={"key": "from" if label == "Du" else "to"},
        ) from None


def journal_filter_parse(*, data: Mapping[str, Any]) -> JournalFilter:
    """The journal's filter from the query string; a bad value is a French 400."""
    action = (data.get("action") or "").strip()
    if action and action not in ACTION_LABELS:
        raise InvalidInput(f"Action « {action[:40]} » inconnue.", details={"key": "action"})
    raw_author = (data.get("author") or "").strip()
    author = None
    if raw_author:
        if not raw_author.isdigit():
            raise InvalidInput("Auteur inconnu.", details={"key": "author"})
        author = int(raw_author)
    date_from = _date(data.get("from") or "", "Du")
    date_to = _date(data.get("to") or "", "au")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput(
            "Dates « Du » et « au » : la date de début suit la date de fin.",
            details={"key": "from"},
        )
    return JournalFilter(action=action, author=author, date_from=date_from, date_to=date_to)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def journal_entries(*, user: User, journal_filter: JournalFilter) -> QuerySet[AuditEntry]:
    """The user's academy journal narrowed by action, author and dates (inclusive)."""
    entries = audit_entries_for_user(user=user)
    if journal_filter.action:
        entries = entries.filter(action=journal_filter.action)
    if journal_filter.author is not None:
        entries = entries.filter(actor_id=journal_filter.author)
    if journal_filter.date_from:
        entries = entries.filter(created_at__gte=_day_start(journal_filter.date_from))
    if journal_filter.date_to:
        next_day = journal_filter.date_to + dt.timedelta(days=1)
        entries = entries.filter(created_at__lt=_day_start(next_day))
    return entries


def journal_authors(*, user: User) -> list[User]:
    """The people who wrote in the user's academy journal, by name (the author filter)."""
    ids = audit_entries_for_user(user=user).exclude(actor=None).values("actor_id").distinct()
    return list(User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "username"))


def journal_actions(*, user: User) -> list[tuple[str, str]]:
    """(code, French label) of the actions present in the user's academy journal."""
    present = set(audit_entries_for_user(user=user).values_list("action", flat=True).distinct())
    return [(code, label) for code, label in ACTION_LABELS.items() if code in present]
