"""Linked choices of the filter's lists (R-MASS-5), and the cache heads of every answer
computed from a user's scripts of an exam."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, QuerySet

from harmonie.accounts.models import User
from harmonie.accounts.permissions import is_academy_staff
from harmonie.referential.models import Exam
from harmonie.referential.versions import academy_marks_version
from harmonie.scriptfilter.filter import ScriptFilter
from harmonie.scriptfilter.keys import CODE_LABEL, LIST_KEYS, LISTS, PERSON
from harmonie.scriptfilter.sql import scripts_filter


def marks_cache_head(*, user: User, exam: Exam) -> list:
    """What an answer computed from the user's scripts of the exam is cached under: the
    scope and the marks version that every change of those scripts bumps."""
    if is_academy_staff(user):
        version = academy_marks_version(exam_id=exam.pk, academy_id=user.academy_id)
        return [exam.pk, f"academy:{user.academy_id}", version]
    # Other scopes follow every change of the exam.
    return [exam.pk, f"user:{user.pk}", exam.marks_version]


def cache_key(*parts: Any) -> str:
    """A cache key from JSON-able parts, the first naming what is cached."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return f"{parts[0]}:" + hashlib.sha256(text.encode()).hexdigest()


# Counts per key of the scripts each filter keeps (locked ones only when asked), the same
# as `_option_counts` over the scope: a caller that holds the scope's arrays passes one;
# it answers None when it has no arrays at hand (the database counts then).
Counter = Callable[[dict[str, ScriptFilter], bool], dict[str, dict[int, int]] | None]


def filter_options(
    *,
    user: User,
    exam: Exam,
    scripts: QuerySet,
    script_filter: ScriptFilter,
    locked_only: bool = False,
    keys: tuple[str, ...] = LIST_KEYS,
    counter: Counter | None = None,
) -> dict[str, list[dict]]:
    """Linked choices (R-MASS-5): per list key, the values present among the user's scripts
    of the exam (`scripts`, the caller's scope queryset) that match every OTHER key of the
    filter, with their count.

    `locked_only` restricts to scripts of locked batches (the unit-harmonisation list);
    `keys` names the lists wanted (a page asks only for those it shows); `counter`, when
    given, counts instead of the database (the caller's arrays of the same scope).
    Each key's counts are cached under the academy's marks version and the filter of the
    OTHER keys, the only inputs they depend on: picking a school leaves the schools'
    counts cached, and every service that changes a mark or a lock state bumps the
    version, so a cached answer is never stale. Keys that share one filter are counted
    in one scan (GROUPING SETS on PostgreSQL). Each key's list as answered (labelled,
    merged, sorted) is cached too, under the exam's labels version as well (an import
    bumps it; a mark changed in another academy does not).
    """
    head = [*marks_cache_head(user=user, exam=exam), locked_only]
    others = {key: script_filter.replace(**{key: ()}) for key in keys}
    # The lists as answered, under both versions: the counts' (the academy's) and the
    # labels' (the exam's, which an import bumps). One read when every list is cached.
    listed_keys = {
        key: cache_key("filter-options", *head, exam.labels_version, key, others[key].as_dict())
        for key in keys
    }
    listed = cache.get_many(list(listed_keys.values()))
    options = {key: listed[listed_keys[key]] for key in keys if listed_keys[key] in listed}
    missing = [key for key in keys if key not in options]
    if missing:
        counts = _counts_cached(
            scripts=scripts,
            head=head,
            others=others,
            keys=missing,
            locked_only=locked_only,
            counter=counter,
        )
        for key in missing:
            labels = _option_labels_cached(
                key, set(counts[key]), head=[exam.pk, exam.labels_version]
            )
            merged: dict[str, dict] = {}
            for pk, count in counts[key].items():
                value, label = labels[pk]
                option = merged.setdefault(value, {"value": value, "label": label, "count": 0})
                option["count"] += count
            options[key] = sorted(merged.values(), key=lambda option: option["value"])
        cache.set_many({listed_keys[key]: options[key] for key in missing}, timeout=3600)
    return {key: options[key] for key in keys}


def _counts_cached(
    *,
    scripts: QuerySet,
    head: list,
    others: dict[str, ScriptFilter],
    keys: list[str],
    locked_only: bool,
    counter: Counter | None = None,
) -> dict[str, dict[int, int]]:
    """Scripts per related row id for each of `keys`, under the academy's version only:
    a change of another academy's marks (the exam's version) leaves them counted."""
    cache_keys = {
        key: cache_key("filter-counts", *head, key, others[key].as_dict()) for key in keys
    }
    found = cache.get_many(list(cache_keys.values()))
    counts = {key: found[cache_keys[key]] for key in keys if cache_keys[key] in found}
    missing = [key for key in keys if key not in counts]
    if missing:
        wanted = {key: others[key] for key in missing}
        counted = None if counter is None else counter(wanted, locked_only)
        computed: dict[str, dict[int, int]] = {}
        if counted is not None:
            computed = counted
        else:
            base = scripts.filter(locked=True) if locked_only else scripts
            sharing: dict[ScriptFilter, list[str]] = {}
            for key in missing:
                sharing.setdefault(others[key], []).append(key)
            for other_filter, group in sharing.items():
                computed.update(
                    _option_counts(scripts_filter(scripts=base, script_filter=other_filter), group)
                )
        cache.set_many({cache_keys[key]: computed[key] for key in missing}, timeout=3600)
        counts.update(computed)
    return counts


def _option_counts(scripts: QuerySet, keys: list[str]) -> dict[str, dict[int, int]]:
    """Scripts per related row id, for each key (NULLs left out)."""
    columns = [LISTS[key].column for key in keys]
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
    try:
        inner, params = scripts.values_list(*columns).order_by().query.sql_with_params()
    except EmptyResultSet:  # a filter Django knows to match nothing (an unknown part)
        return {key: {} for key in keys}
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


def _option_labels(key: str, ids: set[int]) -> dict[int, tuple[str, str]]:
    """(value, label) of each related row id."""
    row = LISTS[key]
    rows = row.related().objects.filter(pk__in=ids)
    labels: dict[int, tuple[str, str]] = {}
    if row.option_label == PERSON:
        for pk, value, first, last in rows.values_list(
            "pk", row.natural, "first_name", "last_name"
        ):
            labels[pk] = (value, f"{first} {last}".strip() or value)
    elif row.option_label == CODE_LABEL:
        for pk, value, label in rows.values_list("pk", row.natural, "label"):
            labels[pk] = (value, f"{value} {label}".strip())
    else:
        for pk, value in rows.values_list("pk", row.natural):
            labels[pk] = (value, value)
    return labels


def _option_labels_cached(key: str, ids: set[int], *, head: list) -> dict[int, tuple[str, str]]:
    """`_option_labels` through the cache, under the exam's labels version (an import bumps it)."""
    stored = cache_key("filter-labels", *head, key)
    labels: dict[int, tuple[str, str]] = cache.get(stored) or {}
    unknown = ids - labels.keys()
    if unknown:
        labels = {**labels, **_option_labels(key, unknown)}
        cache.set(stored, labels, timeout=3600)
    return labels
