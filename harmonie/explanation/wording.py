"""The words of an explanation (R-TRUST-1): marks with a decimal comma, French dates,
the filters of a scenario as the history shows them and as a sentence says them."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from harmonie.referential.scheme import mark_french
from harmonie.scriptfilter import (
    FILTER_KEYS,
    LIST_KEYS,
    LISTS,
    ScriptFilter,
    script_filter_describe,
)

MINUS = "\u2212"  # read « moins » by screen readers, unlike a hyphen

# R-FAIR-5's reasons (harmonie/harmonisation/models.py REASON_CODES), as read in a sentence.
REASON_LABELS: dict[str, str] = {
    "grader_severity": "sévérité d'un correcteur",
    "grader_leniency": "indulgence d'un correcteur",
    "subject_difficulty": "difficulté du sujet",
    "scheme_error": "erreur de barème",
    "scanning_incident": "incident de numérisation",
    "other": "autre motif",
}
SPECIAL_MARK_LABELS: dict[str, str] = {"AB": "absent", "CB": "copie blanche"}

_MARK_KEYS = ("mark_min", "mark_max")


def mark_text(value: Decimal | float) -> str:
    """A mark as a French reader writes it: 16,5 — 16 — 16,25."""
    return mark_french(value)


def signed_text(value: Decimal) -> str:
    """« + 2 », « − 1,5 »."""
    return f"{'+' if value >= 0 else MINUS} {mark_text(abs(value))}"


def day_text(at: datetime) -> str:
    """« 02/06 », in the time zone of the platform."""
    return timezone.localtime(at).strftime("%d/%m")


def moment_text(at: datetime) -> str:
    """« 02/06/2026 à 14:05 »."""
    return timezone.localtime(at).strftime("%d/%m/%Y à %H:%M")


def _script_filter(data: Mapping[str, Any]) -> ScriptFilter:
    """The stored scenario filter (already checked when it was executed) as a ScriptFilter;
    keys this version does not know are left to `filter_terms`."""
    values: dict[str, Any] = {}
    for key in LIST_KEYS:
        if data.get(key):
            values[key] = tuple(str(item) for item in data[key])
    for key in _MARK_KEYS:
        if data.get(key) is not None:
            values[key] = Decimal(str(data[key]))
    if data.get("mark_part"):
        values["mark_part"] = str(data["mark_part"])
    return ScriptFilter(**values)


def filter_description(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(label, value) pairs as the history page shows them (`script_filter_describe`),
    marks with a decimal comma."""
    script_filter = _script_filter(data)
    # `script_filter_describe` already writes marks with a decimal comma.
    described = tuple(script_filter_describe(script_filter=script_filter))
    known = set(FILTER_KEYS)
    extra = tuple((str(key), str(value)) for key, value in data.items() if key not in known)
    return described + extra


def filter_terms(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The filter in a sentence: « département 057 », « note ≤ 10 » (R-TRUST-1)."""
    script_filter = _script_filter(data)
    terms: list[str] = []
    for key in LIST_KEYS:
        values = getattr(script_filter, key)
        if not values:
            continue
        ((_label, text),) = script_filter_describe(script_filter=ScriptFilter(**{key: values}))
        singular, plural = LISTS[key].nouns
        terms.append(f"{singular if len(values) == 1 else plural} {text}")
    subject = f"note de la partie {script_filter.mark_part}" if script_filter.mark_part else "note"
    low, high = script_filter.mark_min, script_filter.mark_max
    if low is not None and high is not None:
        terms.append(f"{mark_text(low)} ≤ {subject} ≤ {mark_text(high)}")
    elif low is not None:
        terms.append(f"{subject} ≥ {mark_text(low)}")
    elif high is not None:
        terms.append(f"{subject} ≤ {mark_text(high)}")
    known = set(FILTER_KEYS)
    terms.extend(f"{key} {value}" for key, value in data.items() if key not in known and value)
    return tuple(terms)
