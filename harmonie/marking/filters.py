"""The script filter of API.md §2, shared by the script list, statistics, scenario
populations and simulation display (R-UNIT-3, R-MASS-4, R-MASS-5).

Lists are OR inside a key and AND across keys; `mark_min`/`mark_max` are inclusive and
apply to the global final mark, or to one part's mark (sum of its leaves as marked) when
`mark_part` is set. Everything is applied in SQL and works on SQLite and PostgreSQL.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DecimalField, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from harmonie.accounts.models import User
from harmonie.accounts.permissions import ACADEMY_ROLES, scripts_in_scope
from harmonie.errors import InvalidInput
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import (
    ClassGroup,
    Department,
    Exam,
    Jury,
    Part,
    Qualification,
    School,
    Subject,
)
from harmonie.referential.versions import academy_marks_version

LIST_KEYS: tuple[str, ...] = (
    "departments",
    "schools",
    "class_groups",
    "qualifications",
    "juries",
    "graders",
    "batches",
    "subjects",
)
MARK_KEYS: tuple[str, ...] = ("mark_min", "mark_max", "mark_part")
FILTER_KEYS: tuple[str, ...] = LIST_KEYS + MARK_KEYS

# Script column holding each list key's value (the natural key of the related row).
_LOOKUPS: dict[str, str] = {
    "departments": "department__code",
    "schools": "school__uai",
    "class_groups": "class_group__code",
    "qualifications": "qualification__code",
    "juries": "jury__code",
    "graders": "grader__username",
    "batches": "batch__code",
    "subjects": "subject__code",
}

# Script foreign key of each list key, and the related model's natural-key field.
_COLUMNS: dict[str, tuple[str, str, str]] = {
    "departments": ("department_id", "referential.Department", "code"),
    "schools": ("school_id", "referential.School", "uai"),
    "class_groups": ("class_group_id", "referential.ClassGroup", "code"),
    "qualifications": ("qualification_id", "referential.Qualification", "code"),
    "juries": ("jury_id", "referential.Jury", "code"),
    "graders": ("grader_id", "accounts.User", "username"),
    "batches": ("batch_id", "marking.Batch", "code"),
    "subjects": ("subject_id", "referential.Subject", "code"),
}


def _model(label: str) -> Any:
    return apps.get_model(label)


_LABELS: dict[str, str] = {
    "departments": "Départements",
    "schools": "Établissements",
    "class_groups": "Divisions de classe",
    "qualifications": "Qualifications",
    "juries": "Jurys",
    "graders": "Correcteurs",
    "batches": "Lots",
    "subjects": "Sujets",
    "mark_min": "Note min.",
    "mark_max": "Note max.",
    "mark_part": "Partie",
}

# Singular French nouns for « X « value » inconnu(e) » messages.
_UNKNOWN: dict[str, str] = {
    "departments": "Département « {} » inconnu",
    "schools": "Établissement « {} » inconnu",
    "class_groups": "Division de classe « {} » inconnue",
    "qualifications": "Qualification « {} » inconnue",
    "juries": "Jury « {} » inconnu",
    "graders": "Correcteur « {} » inconnu",
    "batches": "Lot « {} » inconnu",
    "subjects": "Sujet « {} » inconnu",
}

_MARK = DecimalField(max_digits=8, decimal_places=2)


@dataclass(frozen=True)
class ScriptFilter:
    departments: tuple[str, ...] = ()
    schools: tuple[str, ...] = ()
    class_groups: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    juries: tuple[str, ...] = ()
    graders: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    mark_min: Decimal | None = None
    mark_max: Decimal | None = None
    mark_part: str | None = None

    def as_dict(self) -> dict:
        """The API.md filter object: only non-empty keys, marks as numbers."""
        out: dict[str, Any] = {}
        for key in LIST_KEYS:
            values = getattr(self, key)
            if values:
                out[key] = list(values)
        for key in ("mark_min", "mark_max"):
            value = getattr(self, key)
            if value is not None:
                out[key] = float(value)
        if self.mark_part:
            out["mark_part"] = self.mark_part
        return out

    def is_empty(self) -> bool:
        return not self.as_dict()

    def as_query(self) -> list[tuple[str, str]]:
        """Query-string pairs (lists repeated), to keep a view in its URL."""
        pairs: list[tuple[str, str]] = []
        for key in LIST_KEYS:
            pairs.extend((key, value) for value in getattr(self, key))
        for key in ("mark_min", "mark_max"):
            value = getattr(self, key)
            if value is not None:
                pairs.append((key, _decimal_text(value)))
        if self.mark_part:
            pairs.append(("mark_part", self.mark_part))
        return pairs


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


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
            f"Filtre « {_LABELS[key]} » : au plus {settings.HARMONIE_FILTER_VALUES_MAX} valeurs.",
            details={"key": key},
        )
    for value in values:
        if not isinstance(value, str):
            raise InvalidInput(
                f"Filtre « {_LABELS[key]} » : une liste de codes (texte) est attendue.",
                details={"key": key},
            )
    return tuple(dict.fromkeys(values))


def _parse_mark(data: Mapping[str, Any], key: str) -> Decimal | None:
    values = _raw_values(data, key, split=False)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput(
            f"Filtre « {_LABELS[key]} » : une seule note est attendue.", details={"key": key}
        )
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(
            f"Filtre « {_LABELS[key]} » : « {value} » n'est pas une note.", details={"key": key}
        )
    try:
        mark = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(
            f"Filtre « {_LABELS[key]} » : « {value} » n'est pas une note.", details={"key": key}
        ) from None
    if not mark.is_finite():
        raise InvalidInput(
            f"Filtre « {_LABELS[key]} » : « {value} » n'est pas une note.", details={"key": key}
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


def script_filter_parse(*, data: Mapping[str, Any], exam: Exam, user: User) -> ScriptFilter:
    """A ScriptFilter from a JSON object or a QueryDict, checked against the user's scope."""
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
        raise InvalidInput(f"Filtre « {_LABELS['mark_part']} » : un code de partie est attendu.")
    mark_part = part_values[0] if part_values else None

    maximum = exam.max_mark
    if mark_part is not None:
        part = Part.objects.filter(exam=exam, code=mark_part).first()
        if part is None:
            raise InvalidInput(
                f"Filtre « {_LABELS['mark_part']} » : partie « {mark_part} » inconnue pour cette épreuve.",
                details={"key": "mark_part"},
            )
        maximum = part.max_mark
    for key, mark in (("mark_min", mark_min), ("mark_max", mark_max)):
        if mark is not None and not (0 <= mark <= maximum):
            raise InvalidInput(
                f"Filtre « {_LABELS[key]} » : la note {_decimal_text(mark)} n'est pas comprise "
                f"entre 0 et {_decimal_text(maximum)}.",
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
        known = _known_values(user=user, exam=exam, key=key, values=values)
        missing = [value for value in values if value not in known]
        if missing:
            raise InvalidInput(
                f"Filtre « {_LABELS[key]} » : {_UNKNOWN[key].format(missing[0])}.",
                details={"key": key, "values": missing},
            )
    return ScriptFilter(**lists, mark_min=mark_min, mark_max=mark_max, mark_part=mark_part)


def _known_values(*, user: User, exam: Exam, key: str, values: tuple[str, ...]) -> set[str]:
    """The values that exist in the user's scope for this exam.

    For academy roles the small referential tables of the academy answer, not the
    scripts: scanning an academy's scripts for a code cost a second at 600,000 rows.
    """
    if user.role in ACADEMY_ROLES:
        academy = user.academy_id
        tables: dict[str, QuerySet] = {
            "departments": Department.objects.filter(academy_id=academy, code__in=values),
            "schools": School.objects.filter(department__academy_id=academy, uai__in=values),
            "class_groups": ClassGroup.objects.filter(
                school__department__academy_id=academy, code__in=values
            ),
            "qualifications": Qualification.objects.filter(code__in=values),
            "juries": Jury.objects.filter(academy_id=academy, code__in=values),
            "graders": Batch.objects.filter(
                exam=exam, academy_id=academy, grader__username__in=values
            ),
            "batches": Batch.objects.filter(exam=exam, academy_id=academy, code__in=values),
            "subjects": Subject.objects.filter(exam=exam, code__in=values),
        }
        field = {
            "departments": "code",
            "schools": "uai",
            "class_groups": "code",
            "qualifications": "code",
            "juries": "code",
            "graders": "grader__username",
            "batches": "code",
            "subjects": "code",
        }[key]
        return set(tables[key].values_list(field, flat=True).distinct().order_by())
    lookup = _LOOKUPS[key]
    return set(
        scripts_in_scope(user=user, exam=exam)
        .filter(**{f"{lookup}__in": values})
        .values_list(lookup, flat=True)
        .distinct()
        .order_by()
    )


def _part_leaf_codes(*, exam_id: int, part_code: str) -> list[str]:
    parts = list(Part.objects.filter(exam_id=exam_id).values("pk", "parent_id", "code", "is_leaf"))
    by_parent: dict[int | None, list[dict]] = {}
    for part in parts:
        by_parent.setdefault(part["parent_id"], []).append(part)
    roots = [part for part in parts if part["code"] == part_code]
    leaves: list[str] = []
    stack = list(roots)
    while stack:
        part = stack.pop()
        children = by_parent.get(part["pk"], [])
        if not children:
            leaves.append(part["code"])
        stack.extend(children)
    return leaves


def part_mark_expression(*, leaf_codes: list[str]) -> Any:
    """SQL sum of the given leaves in `Script.marks` (a missing leaf counts 0)."""
    total: Any = Value(Decimal(0), output_field=_MARK)
    for code in leaf_codes:
        total = total + Coalesce(
            Cast(KT(f"marks__{code}"), _MARK), Value(Decimal(0), output_field=_MARK)
        )
    return total


def scripts_filter(*, scripts: QuerySet[Script], script_filter: ScriptFilter) -> QuerySet[Script]:
    """`scripts` narrowed by the filter, in SQL only."""
    condition = Q()
    for key in LIST_KEYS:
        values = getattr(script_filter, key)
        if values:
            # A subquery on the small referential table, no join on the scripts side: the
            # planner uses the (exam, academy, <column>) indexes.
            column, model, natural = _COLUMNS[key]
            related = _model(model).objects.filter(**{f"{natural}__in": values}).values("pk")
            condition &= Q(**{f"{column}__in": related})
    scripts = scripts.filter(condition)
    if script_filter.mark_min is None and script_filter.mark_max is None:
        return scripts
    if script_filter.mark_part:
        exam_ids = set(scripts.values_list("exam_id", flat=True).distinct().order_by()[:2])
        leaves: list[str] = []
        for exam_id in exam_ids:
            leaves.extend(_part_leaf_codes(exam_id=exam_id, part_code=script_filter.mark_part))
        if not leaves:
            return scripts.none()
        scripts = scripts.filter(special_mark__isnull=True).annotate(
            filter_part_mark=part_mark_expression(leaf_codes=sorted(set(leaves)))
        )
        column = "filter_part_mark"
    else:
        column = "final_mark"
    if script_filter.mark_min is not None:
        scripts = scripts.filter(**{f"{column}__gte": script_filter.mark_min})
    if script_filter.mark_max is not None:
        scripts = scripts.filter(**{f"{column}__lte": script_filter.mark_max})
    return scripts


def _option_labels(key: str, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(value, label) of each related row id."""
    _column, model, natural = _COLUMNS[key]
    rows = _model(model).objects.filter(pk__in=ids)
    labels: dict[int, tuple[str, str]] = {}
    if key == "graders":
        for pk, value, first, last in rows.values_list("pk", natural, "first_name", "last_name"):
            labels[pk] = (value, f"{first} {last}".strip() or value)
    elif key in ("departments", "schools", "qualifications"):
        for pk, value, label in rows.values_list("pk", natural, "label"):
            labels[pk] = (value, f"{value} {label}".strip())
    else:
        for pk, value in rows.values_list("pk", natural):
            labels[pk] = (value, value)
    return labels


def filter_options(
    *,
    user: User,
    exam: Exam,
    script_filter: ScriptFilter,
    locked_only: bool = False,
    keys: tuple[str, ...] = LIST_KEYS,
) -> dict[str, list[dict]]:
    """Linked choices (R-MASS-5): per list key, the values present among the user's scripts
    of the exam that match every OTHER key of the filter, with their count.

    `locked_only` restricts to scripts of locked batches (the unit-harmonisation list);
    `keys` names the lists wanted (a page asks only for those it shows).
    Each key's counts are cached under the academy's marks version and the filter of the
    OTHER keys, the only inputs they depend on: picking a school leaves the schools'
    counts cached, and every service that changes a mark or a lock state bumps the
    version, so a cached answer is never stale. Keys that share one filter are counted
    in one scan (GROUPING SETS on PostgreSQL).
    """
    head = [*marks_cache_head(user=user, exam=exam), locked_only]
    others = {key: replace(script_filter, **{key: ()}) for key in keys}
    cache_keys = {
        key: cache_key("filter-counts", *head, key, others[key].as_dict()) for key in keys
    }
    found = cache.get_many(list(cache_keys.values()))
    counts = {key: found[cache_keys[key]] for key in keys if cache_keys[key] in found}
    missing = [key for key in keys if key not in counts]
    if missing:
        base = scripts_in_scope(user=user, exam=exam)
        if locked_only:
            base = base.filter(locked=True)
        sharing: dict[ScriptFilter, list[str]] = {}
        for key in missing:
            sharing.setdefault(others[key], []).append(key)
        computed: dict[str, dict[int, int]] = {}
        for other_filter, group in sharing.items():
            computed.update(
                _option_counts(scripts_filter(scripts=base, script_filter=other_filter), group)
            )
        cache.set_many({cache_keys[key]: computed[key] for key in missing}, timeout=3600)
        counts.update(computed)
    options: dict[str, list[dict]] = {}
    for key in keys:
        labels = _option_labels_cached(key, set(counts[key]), head=[exam.pk, exam.marks_version])
        merged: dict[str, dict] = {}
        for pk, count in counts[key].items():
            value, label = labels[pk]
            option = merged.setdefault(value, {"value": value, "label": label, "count": 0})
            option["count"] += count
        options[key] = sorted(merged.values(), key=lambda option: option["value"])
    return options


def marks_cache_head(*, user: User, exam: Exam) -> list:
    """What an answer computed from the user's scripts of the exam is cached under: the
    scope and the marks version that every change of those scripts bumps."""
    if user.role in ACADEMY_ROLES:
        version = academy_marks_version(exam_id=exam.pk, academy_id=user.academy_id)
        return [exam.pk, f"academy:{user.academy_id}", version]
    # Other scopes follow every change of the exam.
    return [exam.pk, f"user:{user.pk}", exam.marks_version]


def cache_key(*parts: Any) -> str:
    """A cache key from JSON-able parts, the first naming what is cached."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return f"{parts[0]}:" + hashlib.sha256(text.encode()).hexdigest()


def _option_counts(scripts: QuerySet[Script], keys: list[str]) -> dict[str, dict[int, int]]:
    """Scripts per related row id, for each key (NULLs left out)."""
    columns = [_COLUMNS[key][0] for key in keys]
    if len(keys) == 1 or connection.vendor != "postgresql":
        return {
            key: dict(
                scripts.filter(**{f"{column}__isnull": False})
                .values_list(column)
                .annotate(count=Count("pk"))
                .order_by()
                .values_list(column, "count")
            )
            for key, column in zip(keys, columns, strict=True)
        }
    inner, params = scripts.values_list(*columns).order_by().query.sql_with_params()
    selected = ", ".join(f"s.{column}" for column in columns)
    sets = ", ".join(f"(s.{column})" for column in columns)
    # Constant column names around Django's own compiled query; values stay in `params`.
    sql = (
        f"SELECT {selected}, COUNT(*) FROM ({inner}) s "  # noqa: S608
        f"GROUP BY GROUPING SETS ({sets})"
    )
    counts: dict[str, dict[int, int]] = {key: {} for key in keys}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            # One set per row: its column is the only one not NULL (a NULL value of that
            # column makes an all-NULL row, left out like the NULLs above).
            for key, value in zip(keys, row[:-1], strict=True):
                if value is not None:
                    counts[key][value] = row[-1]
    return counts


def _option_labels_cached(key: str, ids: set[int], *, head: list) -> dict[int, tuple[str, str]]:
    """`_option_labels` through the cache, under the exam's marks version (an import bumps it)."""
    stored = cache_key("filter-labels", *head, key)
    labels: dict[int, tuple[str, str]] = cache.get(stored) or {}
    unknown = ids - labels.keys()
    if unknown:
        labels = {**labels, **_option_labels(key, unknown)}
        cache.set(stored, labels, timeout=3600)
    return labels


def script_filter_describe(
    *, script_filter: ScriptFilter, grader_names: bool = False
) -> list[tuple[str, str]]:
    """Readable French (label, value) pairs, e.g. ("Départements", "057, 088").

    With `grader_names` (pages: history, statistics, script list) graders are named as the
    person filter does, « Élodie Lambert » (issue 13, item 11); without it (minutes,
    explanations, exports) by their identifier, which the payroll and the journal use.
    """
    pairs: list[tuple[str, str]] = []
    for field in fields(script_filter):
        value = getattr(script_filter, field.name)
        if value in ((), None, ""):
            continue
        if field.name == "graders" and grader_names:
            text = ", ".join(_grader_names(value))
        elif isinstance(value, tuple):
            text = ", ".join(value)
        elif isinstance(value, Decimal):
            text = _decimal_text(value)
        else:
            text = str(value)
        pairs.append((_LABELS[field.name], text))
    return pairs


def _grader_names(usernames: tuple[str, ...]) -> list[str]:
    """Each grader's « first last » name in the filter's order, the username when unnamed."""
    rows = User.objects.filter(username__in=usernames).values_list(
        "username", "first_name", "last_name"
    )
    names = {username: f"{first} {last}".strip() for username, first, last in rows}
    return [names.get(username) or username for username in usernames]
