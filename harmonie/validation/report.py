"""The delivery report (R-VAL-6): per system, records sent, delivered, kept and refused
with their reasons, retrying, waiting, failed; the records kept or refused, by anonymous id.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from harmonie.marking.models import Script
from harmonie.validation import rules
from harmonie.validation.models import DeliveryMessage, MessageState, System, Validation
from harmonie.validation.selectors import validation_latest

REASON_LABELS = {
    "hand_entered_di": "DI saisi à la main dans Cyclades, conservé",
    "hand_entered_zero_absent": "0 saisi à la main dans Cyclades pour un absent, conservé",
    "hand_entered_kept_apart": "service fait saisi à la main dans Imag'In, conservé à part",
    "invalid_record": "enregistrement illisible",
    "invalid_mark": "note refusée",
    "invalid_count": "nombre de copies refusé",
    "unknown_candidate": "candidat inconnu du système",
    "unknown_grader": "correcteur inconnu du système",
    "no_mission": "correcteur sans mission pour cette épreuve",
}


def reason_label(code: str | None) -> str:
    if not code:
        return ""
    return REASON_LABELS.get(code, code)


@dataclass
class SystemReport:
    system: str
    label: str
    sent: int = 0
    delivered: int = 0
    kept: int = 0
    refused: int = 0
    retrying: int = 0
    waiting: int = 0
    failed: int = 0
    messages: int = 0
    messages_done: int = 0
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.delivered + self.kept + self.refused

    @property
    def percent(self) -> int:
        return 100 if not self.sent else round(100 * (self.done + self.failed) / self.sent)

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "kept": self.kept,
            "refused": self.refused,
            "retrying": self.retrying,
            "waiting": self.waiting,
            "failed": self.failed,
            "messages": self.messages,
            "messages_done": self.messages_done,
            "reasons": {
                outcome: [
                    {"code": code, "count": count, "message": reason_label(code)}
                    for code, count in sorted(by_code.items())
                ]
                for outcome, by_code in self.reasons.items()
            },
            "errors": self.errors,
        }


@dataclass
class Report:
    validation: Validation
    systems: list[SystemReport]
    is_latest: bool
    # A message whose sender's lease ran out: its worker died and nobody has taken it up yet.
    stalled: bool = False

    @property
    def status(self) -> str:
        if any(s.retrying or s.waiting for s in self.systems):
            return "in_progress"
        if any(s.failed for s in self.systems):
            return "failed"
        return "delivered"

    @property
    def can_retry(self) -> bool:
        """Only the latest validation is retried: an older one would overwrite newer marks."""
        return self.is_latest and (
            self.stalled or any(s.failed or s.retrying for s in self.systems)
        )

    def as_dict(self) -> dict:
        v = self.validation
        return {
            "id": v.pk,
            "exam": v.exam.code,
            "academy": v.academy.code,
            "created_at": v.created_at.isoformat(),
            "author": {"first_name": v.author.first_name, "last_name": v.author.last_name},
            "mode": v.mode,
            "reasons": [
                {**reason, "message": rules.REASON_MESSAGES.get(reason["code"], reason["code"])}
                for reason in v.reasons
            ],
            "frauds": v.frauds,
            "status": self.status,
            "is_latest": self.is_latest,
            "systems": {s.system: s.as_dict() for s in self.systems},
        }


def validation_report(*, validation: Validation) -> Report:
    """Per system: records sent, delivered, kept and refused with reasons, retrying, failed (R-VAL-6)."""
    now = timezone.now()
    systems = {
        system: SystemReport(system=system, label=str(label)) for system, label in System.choices
    }
    stalled = False
    rows = (
        DeliveryMessage.objects.filter(validation=validation)
        .values(
            "system",
            "number",
            "state",
            "record_count",
            "attempts",
            "written",
            "kept",
            "refused",
            "reason_counts",
            "last_error",
            "lease_until",
            "next_attempt_at",
        )
        .order_by("system", "number")
    )
    for row in rows:
        report = systems[row["system"]]
        report.messages += 1
        report.sent += row["record_count"]
        state = row["state"]
        if state == MessageState.DELIVERED:
            report.messages_done += 1
            report.delivered += row["written"]
            report.kept += row["kept"]
            report.refused += row["refused"]
            for key, count in row["reason_counts"].items():
                outcome, _, code = key.partition(":")
                by_code = report.reasons.setdefault(outcome, {})
                by_code[code] = by_code.get(code, 0) + count
        elif state == MessageState.FAILED:
            report.messages_done += 1
            report.failed += row["record_count"]
        elif row["attempts"]:
            report.retrying += row["record_count"]
        else:
            report.waiting += row["record_count"]
        if state == MessageState.SENDING and row["lease_until"] and row["lease_until"] < now:
            stalled = True
        if row["last_error"] and state != MessageState.DELIVERED:
            report.errors.append(
                {
                    "message_number": row["number"],
                    "state": state,
                    "attempts": row["attempts"],
                    "error": row["last_error"],
                    "next_attempt_at": row["next_attempt_at"].isoformat()
                    if row["next_attempt_at"] and state == MessageState.PENDING
                    else None,
                }
            )
    latest = validation_latest(exam=validation.exam, academy_id=validation.academy_id)
    return Report(
        validation=validation,
        systems=list(systems.values()),
        is_latest=latest is not None and latest.pk == validation.pk,
        stalled=stalled,
    )


def validation_exceptions(*, validation: Validation, limit: int = 200) -> list[dict]:
    """Records kept or refused, named by anonymous script id (never the candidate's number)."""
    found: list[tuple[str, str, str, str | None]] = []
    for system, exceptions in (
        DeliveryMessage.objects.filter(validation=validation, state=MessageState.DELIVERED)
        .exclude(exceptions=[])
        .values_list("system", "exceptions")
        .order_by("system", "number")
    ):
        for ref, outcome, reason in exceptions:
            found.append((system, ref, outcome, reason))
            if len(found) >= limit:
                break
    numbers = [ref for system, ref, _, _ in found if system == System.RESULTS]
    scripts = dict(
        Script.objects.filter(exam=validation.exam, candidate__number__in=numbers).values_list(
            "candidate__number", "public_id"
        )
    )
    rows = []
    for system, ref, outcome, reason in found:
        if system == System.RESULTS:
            who = scripts.get(ref) or "candidat absent (sans copie)"
        else:
            who = ref
        rows.append(
            {
                "system": system,
                "ref": who,
                "outcome": outcome,
                "reason": reason,
                "message": reason_label(reason),
            }
        )
    return rows
