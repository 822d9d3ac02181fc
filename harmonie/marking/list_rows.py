"""The columns of one page of the script list: the scripts' own columns in one query
without joins, the related rows' keys and names from the cache.

The page's query joined five tables for its 50 rows, and PostgreSQL planned and hashed
them on every page (a few milliseconds of its CPU, more than reading the rows). Departments,
schools, graders, subjects and batches only change through an import, which bumps the
exam's labels version (`Exam.labels_version`; a mark changed in any academy leaves it):
their keys and names are kept per table under that version, and read for the ids not kept
yet (issue 16).
"""

from typing import Any

from django.core.cache import cache
from django.db.models import Model

from harmonie.accounts.models import User
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Department, Exam, School, Subject
from harmonie.scriptfilter import cache_key

# The script's own columns of a row.
OWN_COLUMNS = (
    "pk",
    "public_id",
    "final_mark",
    "initial_mark",
    "delta",
    "special_mark",
    "is_harmonised",
    "version",
)
# Per column of the scripts table: the related table and the fields a row shows, named as
# `values()` would name them through the join (`school__uai`).
RELATED: dict[str, tuple[type[Model], str, tuple[str, ...]]] = {
    "department_id": (Department, "department", ("code",)),
    "school_id": (School, "school", ("uai", "label")),
    "grader_id": (User, "grader", ("username", "first_name", "last_name")),
    "subject_id": (Subject, "subject", ("code",)),
    "batch_id": (Batch, "batch", ("code",)),
}


def page_values(*, exam: Exam, pks: list[int]) -> dict[int, dict[str, Any]]:
    """Each script's `values()` of the list's row fields, by pk, as one join would read them."""
    columns = (*OWN_COLUMNS, *RELATED)
    rows = list(Script.objects.filter(pk__in=pks).values(*columns))
    known = _related_cached(
        exam=exam, wanted={column: {row[column] for row in rows} for column in RELATED}
    )
    by_pk: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = {column: row[column] for column in OWN_COLUMNS}
        for column, (_model, relation, fields) in RELATED.items():
            related = known[column].get(row[column])
            for position, field in enumerate(fields):
                values[f"{relation}__{field}"] = None if related is None else related[position]
        by_pk[row["pk"]] = values
    return by_pk


def _related_cached(
    *, exam: Exam, wanted: dict[str, set[int | None]]
) -> dict[str, dict[int, tuple]]:
    """The shown fields of the related rows of `wanted` ids, per column, through the cache
    (one read for the five tables); ids not kept yet are read and added."""
    keys = {
        column: cache_key("list-related", exam.pk, exam.labels_version, column)
        for column in RELATED
    }
    found = cache.get_many(list(keys.values()))
    known: dict[str, dict[int, tuple]] = {}
    changed = {}
    for column, (model, _relation, fields) in RELATED.items():
        rows: dict[int, tuple] = found.get(keys[column]) or {}
        unknown = {pk for pk in wanted[column] if pk is not None} - rows.keys()
        if unknown:
            rows = {
                **rows,
                **{
                    pk: tuple(rest)
                    for pk, *rest in model._default_manager.filter(pk__in=unknown).values_list(
                        "pk", *fields
                    )
                },
            }
            changed[keys[column]] = rows
        known[column] = rows
    if changed:
        cache.set_many(changed, timeout=3600)
    return known
