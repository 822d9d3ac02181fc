"""The filter object of API.md §2 as a value, read from JSON or a query string and said
in French (R-UNIT-3, R-MASS-4, R-MASS-5). Its keys are the rows of `keys.py`."""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from harmonie.accounts.models import User
from harmonie.accounts.permissions import is_academy_staff
from harmonie.errors import InvalidInput
from harmonie.referential.models import Exam, Part
from harmonie.referential.scheme import mark_french, mark_parse
from harmonie.scriptfilter.keys import FILTER_KEYS, LABELS, LIST_KEYS, LISTS

_BOUNDS = ("mark_min", "mark_max")


class ScriptFilter:
    """An immutable filter: one tuple of natural keys per list key of the table (read as
    attributes, `script_filter.schools`), the mark bounds and the part they apply to.

    Lists are OR inside a key and AND across keys; `mark_min`/`mark_max` are inclusive
    and apply to the global mark, or to one part's mark when `mark_part` is set.
    """

    mark_min: Decimal | None
    mark_max: Decimal | None
    mark_part: str | None

    def __init__(
        self,
        *,
        mark_min: Decimal | None = None,
        mark_max: Decimal | None = None,
        mark_part: str | None = None,
        **lists: tuple[str, ...],
    ) -> None:
        unknown = [key for key in lists if key not in LISTS]
        if unknown:
            raise TypeError(f"ScriptFilter has no key {unknown[0]!r}")
        values = {key: tuple(lists.get(key, ())) for key in LIST_KEYS}
        object.__setattr__(self, "_lists", values)
        object.__setattr__(self, "mark_min", mark_min)
        object.__setattr__(self, "mark_max", mark_max)
        object.__setattr__(self, "mark_part", mark_part)

    def __getattr__(self, name: str) -> tuple[str, ...]:
        lists = self.__dict__.get("_lists")
        if lists is None or name not in lists:
            raise AttributeError(name)
        return lists[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ScriptFilter is immutable")

    def _identity(self) -> tuple:
        lists = self.__dict__["_lists"]
        return (
            tuple(lists[key] for key in LIST_KEYS),
            self.mark_min,
            self.mark_max,
            self.mark_part,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScriptFilter) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.items())
        return f"ScriptFilter({shown})"

    def __reduce__(self) -> tuple:
        # Cached answers keep their filter: pickled by its keyword arguments.
        return (_script_filter_build, (dict(self.items()),))

    def values(self, key: str) -> tuple[str, ...]:
        """The natural keys chosen for one list key."""
        return self.__dict__["_lists"][key]

    def replace(self, **changes: Any) -> "ScriptFilter":
        """A copy with some keys changed (`replace(schools=())` drops the schools)."""
        return _script_filter_build({**dict(self.items()), **changes})

    def items(self) -> Iterator[tuple[str, Any]]:
        """(key, value) of every key that is set, in the table's order."""
        for key in LIST_KEYS:
            if self.values(key):
                yield key, self.values(key)
        for key in (*_BOUNDS, "mark_part"):
            value = getattr(self, key)
            if value not in (None, ""):
                yield key, value

    def as_dict(self) -> dict:
        """The API.md filter object: only non-empty keys, marks as numbers."""
        return {
            key: list(value) if key in LISTS else float(value) if key in _BOUNDS else value
            for key, value in self.items()
        }

    def is_empty(self) -> bool:
        return not self.as_dict()

    def as_query(self) -> list[tuple[str, str]]:
        """Query-string pairs (lists repeated), to keep a view in its URL."""
        pairs: list[tuple[str, str]] = []
        for key, value in self.items():
            if key in LISTS:
                pairs.extend((key, item) for item in value)
            elif key in _BOUNDS:
                pairs.append((key, decimal_text(value)))
            else:
                pairs.append((key, value))
        return pairs


def _script_filter_build(values: dict[str, Any]) -> ScriptFilter:
    return ScriptFilter(**values)


def decimal_text(value: Decimal) -> str:
    """A bound as the query string writes it (« 9.5 »)."""
    return format(value.normalize(), "f")


def decimal_french(value: Decimal) -> str:
    """A bound as a French reader writes it (« 9,5 »): descriptions and messages."""
    return mark_french(value)


def _raw_values(data: Mapping[str, Any], key: str, *, split: bool = True) -> list[Any]:
    """Values of `key` from a QueryDict (repeated or comma-separated) or a JSON object."""
    if hasattr(data, "getlist"):
        raw: list[Any] = list(data.getlist(key))
    else:
        value = data.get(key)
        if value is None:
            raw = []
        elif isinstance(value, list | tuple):
            raw = list(value)
        else:
            raw = [value]
    values: list[Any] = []
    for item in raw:
        if isinstance(item, str) and split:
            values.extend(part.strip() for part in item.split(",") if part.strip())
        elif isinstance(item, str):
            if item.strip():
                values.append(item.strip())
        elif item is not None:
            values.append(item)
    return values


def _parse_list(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = _raw_values(data, key)
    if len(values) > settings.HARMONIE_FILTER_VALUES_MAX:
        raise InvalidInput(
            f"Filtre « {LABELS[key]} » : au plus {settings.HARMONIE_FILTER_VALUES_MAX} valeurs.",
            details={"key": key},
        )
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput(
                f"Filtre « {LABELS[key]} » : une liste de codes (texte) est attendue.",
                details={"key": key},
            )
    return tuple(dict.fromkeys(values))


def _parse_mark(data: Mapping[str, Any], key: str) -> Decimal | None:
    values = _raw_values(data, key, split=False)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(
            f"Filtre « {LABELS[key]} » : une seule note est attendue.", details={"key": key}
        )
    mark = mark_parse(values[0])
    if mark is None:
        raise InvalidInput(
            f"Filtre « {LABELS[key]} » : « {values[0]} » n'est pas une note.",
            details={"key": key},
        )
    return mark


def filter_query_data(*, query: Any) -> dict[str, list[str]]:
    """The filter keys of a page's query string (a QueryDict), empty values dropped (an
    empty form field): what the list page and its export parse."""
    data: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        values = [value for value in query.getlist(key) if value.strip()]
        if values:
            data[key] = values
    return data


# Not a key of API.md's filter object: the statistics, the grader effects and the linked
# options take it beside the filter, « lots verrouillés seulement ».
LOCKED_ONLY_KEY = "locked_only"
_TRUE = {"1", "true", "on", "oui"}
_FALSE = {"", "0", "false", "off", "non"}


def locked_only_parse(*, data: Mapping[str, Any]) -> bool:
    """The « lots verrouillés seulement » toggle of a query string (its last value) or a
    JSON object; anything but yes/no is refused in French."""
    raw = data.get(LOCKED_ONLY_KEY, "")
    if hasattr(data, "getlist"):
        values = data.getlist(LOCKED_ONLY_KEY)
        raw = values[-1] if values else ""
    if raw is None:
        raw = ""
    text = str(raw).strip().lower() if not isinstance(raw, bool) else ("true" if raw else "")
    if text not in _TRUE | _FALSE:
        raise InvalidInput(
            f"« Lots verrouillés seulement » : « {raw} » n'est pas oui/non (true/false).",
            details={"key": LOCKED_ONLY_KEY},
        )
    return text in _TRUE


# How long the values of an academy's lists are kept (a new exam version makes a new key).
_KNOWN_SECONDS = 3600


def script_filter_parse(
    *, data: Mapping[str, Any], exam: Exam, user: User, scripts: QuerySet
) -> ScriptFilter:
    """A ScriptFilter from a JSON object or a QueryDict, checked against the user's scope:
    `scripts` are the user's scripts of the exam (the caller's scope queryset, lazy)."""
    if not hasattr(data, "keys"):
        raise InvalidInput("Le filtre doit être un objet.")
    unknown = [key for key in data if key not in FILTER_KEYS]
    if unknown:
        raise InvalidInput(
            f"Filtre « {unknown[0]} » inconnu.", details={"key": unknown[0], "allowed": FILTER_KEYS}
        )
    lists = {key: _parse_list(data, key) for key in LIST_KEYS}
    mark_min = _parse_mark(data, "mark_min")
    mark_max = _parse_mark(data, "mark_max")
    part_values = _raw_values(data, "mark_part")
    if len(part_values) > 1 or (part_values and not isinstance(part_values[0], str)):
        raise InvalidInput(f"Filtre « {LABELS['mark_part']} » : un code de partie est attendu.")
    mark_part = part_values[0] if part_values else None

    maximum = exam.max_mark
    if mark_part is not None:
        part = Part.objects.filter(exam=exam, code=mark_part).first()
        if part is None:
            raise InvalidInput(
                f"Filtre « {LABELS['mark_part']} » : partie « {mark_part} » inconnue pour cette épreuve.",
                details={"key": "mark_part"},
            )
        maximum = part.max_mark
    for key, mark in (("mark_min", mark_min), ("mark_max", mark_max)):
        if mark is not None and not (0 <= mark <= maximum):
            raise InvalidInput(
                f"Filtre « {LABELS[key]} » : la note {decimal_french(mark)} n'est pas comprise "
                f"entre 0 et {decimal_french(maximum)}.",
                details={"key": key},
            )
    if mark_min is not None and mark_max is not None and mark_min > mark_max:
        raise InvalidInput(
            "Filtres « Note min. » et « Note max. » : la note minimale dépasse la note maximale.",
            details={"key": "mark_min"},
        )

    for key, values in lists.items():
        if not values:
            continue
        known = _known_values(user=user, exam=exam, scripts=scripts, key=key, values=values)
        missing = [value for value in values if value not in known]
        if missing:
            raise InvalidInput(
                f"Filtre « {LABELS[key]} » : {LISTS[key].unknown.format(missing[0])}.",
                details={"key": key, "values": missing},
            )
    return ScriptFilter(**lists, mark_min=mark_min, mark_max=mark_max, mark_part=mark_part)


def _known_values(
    *, user: User, exam: Exam, scripts: QuerySet, key: str, values: tuple[str, ...]
) -> set[str]:
    """The values that exist in the user's scope for this exam.

    For academy staff the small referential tables of the academy answer, not the
    scripts: scanning an academy's scripts for a code cost a second at 600,000 rows.
    """
    row = LISTS[key]
    if is_academy_staff(user):
        # The academy's values, kept under the exam's labels version (an import bumps it):
        # one cache read per request instead of a query per filtered list. These rows are
        # never deleted, so a cached value exists; a value not cached (a row added since
        # by an import that did not touch this exam) is looked up as before.
        cache_key = f"filter-known:{exam.pk}:{exam.labels_version}:{user.academy_id}:{key}"
        known = cache.get(cache_key)
        if known is None:
            known = _known_rows(user=user, exam=exam, key=key, values=None)
            cache.set(cache_key, known, _KNOWN_SECONDS)
        found = set(known.intersection(values))
        if len(found) < len(set(values)):
            found |= _known_rows(user=user, exam=exam, key=key, values=set(values) - found)
        return found
    return set(
        scripts.filter(**{f"{row.lookup}__in": values})
        .values_list(row.lookup, flat=True)
        .distinct()
        .order_by()
    )


def _known_rows(*, user: User, exam: Exam, key: str, values: set[str] | None) -> frozenset[str]:
    """The academy's values of a list (all of them, or those among `values`)."""
    row = LISTS[key]
    model, field = row.known_table()
    rows = (
        model.objects.all() if values is None else model.objects.filter(**{f"{field}__in": values})
    )
    if row.known_academy:
        rows = rows.filter(**{row.known_academy: user.academy_id})
    if row.known_exam:
        rows = rows.filter(exam=exam)
    return frozenset(rows.values_list(field, flat=True).distinct().order_by())


def script_filter_describe(
    *, script_filter: ScriptFilter, grader_names: bool = False
) -> list[tuple[str, str]]:
    """Readable French (label, value) pairs, e.g. ("Départements", "057, 088").

    With `grader_names` (pages: history, statistics, script list) graders are named as the
    person filter does, « Élodie Lambert » (issue 13, item 11); without it (minutes,
    explanations, exports) by their identifier, which the payroll and the journal use.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in script_filter.items():
        if key == "graders" and grader_names:
            text = ", ".join(_grader_names(value))
        elif isinstance(value, tuple):
            text = ", ".join(value)
        elif isinstance(value, Decimal):
            text = decimal_french(value)
        else:
            text = str(value)
        pairs.append((LABELS[key], text))
    return pairs


def _grader_names(usernames: tuple[str, ...]) -> list[str]:
    """Each grader's « first last » name in the filter's order, the username when unnamed."""
    rows = User.objects.filter(username__in=usernames).values_list(
        "username", "first_name", "last_name"
    )
    names = {username: f"{first} {last}".strip() for username, first, last in rows}
    return [names.get(username) or username for username in usernames]
