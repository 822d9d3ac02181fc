"""Statistics of an exam's marks over the user's scripts (R-MASS-13).

The histogram and the global summary come from the scripts per final mark (at most a few
thousand distinct marks, whatever the number of scripts); the means by school,
qualification and grader from count, sum and sum of squares per group. For academy staff
these are counted from the academy's arrays (`marking/population.py`, the population
the simulations use) when they are kept, in exact integers of cents; else, and for other
scopes, in SQL, one `GROUP BY` (GROUPING SETS on PostgreSQL).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, QuerySet, Sum

from harmonie.accounts.models import User
from harmonie.accounts.permissions import is_academy_staff
from harmonie.marking.models import Script
from harmonie.marking.permissions import scripts_in_scope
from harmonie.marking.population import LoadedPopulation, filter_mask, population_kept
from harmonie.referential.models import Exam, Qualification, School
from harmonie.scriptfilter import (
    LOCKED_ONLY_KEY,
    ScriptFilter,
    cache_key,
    locked_only_parse,
    marks_cache_head,
    script_filter_parse,
    scripts_filter,
)
from harmonie.statistics.rules import (
    HistogramBin,
    Summary,
    histogram_compute,
    mark_round,
    moments_to_summary,
    summary_compute,
)


@dataclass(frozen=True)
class GroupRow:
    code: str
    label: str
    summary: Summary

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "count": self.summary.count,
            "mean": mark_round(self.summary.mean),
            "std": mark_round(self.summary.std),
        }


@dataclass(frozen=True)
class ExamStatistics:
    exam: Exam
    script_filter: ScriptFilter
    locked_only: bool
    summary: Summary
    histogram: list[HistogramBin]
    special_marks: list[tuple[str, int]]
    unmarked: int
    by_school: list[GroupRow]
    by_qualification: list[GroupRow]
    by_grader: list[GroupRow]

    def as_dict(self) -> dict[str, Any]:
        """The API.md statistics object, with its added fields."""
        return {
            "exam": self.exam.code,
            "filter": self.script_filter.as_dict(),
            "locked_only": self.locked_only,
            "count": self.summary.count,
            "mean": mark_round(self.summary.mean),
            "std": mark_round(self.summary.std),
            "median": mark_round(self.summary.median),
            "max_mark": float(self.exam.max_mark),
            "step": float(self.exam.step),
            "histogram": [{"mark": float(b.mark), "count": b.count} for b in self.histogram],
            "special_marks": [{"code": code, "count": n} for code, n in self.special_marks],
            "unmarked": self.unmarked,
            "by_school": [row.as_dict() for row in self.by_school],
            "by_qualification": [row.as_dict() for row in self.by_qualification],
            "by_grader": [row.as_dict() for row in self.by_grader],
        }


def statistics_filter_parse(
    *, data: Mapping[str, Any], exam: Exam, user: User
) -> tuple[ScriptFilter, bool]:
    """The filter (API.md keys, R-MASS-7) and the « lots verrouillés seulement » toggle
    from a query string or a JSON object."""
    locked_only = locked_only_parse(data=data)
    if hasattr(data, "copy") and hasattr(data, "getlist"):
        rest: Any = data.copy()
        rest.pop(LOCKED_ONLY_KEY, None)
    else:
        rest = {key: value for key, value in data.items() if key != LOCKED_ONLY_KEY}
    scripts = scripts_in_scope(user=user, exam=exam)
    return script_filter_parse(data=rest, exam=exam, user=user, scripts=scripts), locked_only


def statistics_scripts(
    *, user: User, exam: Exam, script_filter: ScriptFilter, locked_only: bool = False
) -> QuerySet[Script]:
    """The scripts the statistics count: the user's scripts of the exam matching the
    filter, of locked batches only when asked."""
    scripts = scripts_in_scope(user=user, exam=exam)
    if locked_only:
        scripts = scripts.filter(locked=True)
    return scripts_filter(scripts=scripts, script_filter=script_filter)


GROUP_COLUMNS = ("school_id", "qualification_id", "grader_id")
# (group key, count, sum of marks, sum of squares) per group.
Moments = list[tuple[int, int, Decimal, Decimal]]


@dataclass(frozen=True)
class Aggregates:
    """What SQL returns: mark counts, special marks, unmarked count, per-group moments."""

    by_value: list[tuple[Decimal, int]]
    special_marks: list[tuple[str, int]]
    unmarked: int
    groups: dict[str, Moments]


def aggregates_per_table(scripts: QuerySet[Script]) -> Aggregates:
    """One `GROUP BY` per table: works on every database (the embedded SQLite)."""
    by_mark = list(
        scripts.values("final_mark", "special_mark")
        .annotate(n=Count("pk"))
        .values_list("final_mark", "special_mark", "n")
        .order_by()
    )
    numeric = scripts.filter(final_mark__isnull=False)
    groups: dict[str, Moments] = {}
    for column in GROUP_COLUMNS:
        groups[column] = list(
            numeric.filter(**{f"{column}__isnull": False})
            .values(column)
            .annotate(
                n=Count("pk"),
                total=Sum("final_mark"),
                squares=Sum(F("final_mark") * F("final_mark")),
            )
            .values_list(column, "n", "total", "squares")
            .order_by()
        )
    return _aggregates_build(by_mark, groups)


def aggregates_grouping_sets(scripts: QuerySet[Script]) -> Aggregates:
    """The same in one scan with PostgreSQL's GROUPING SETS (4 times fewer scans of the
    scripts than one query per table; see bench/statistics_endpoint.py)."""
    try:
        inner, params = (
            scripts.values_list("final_mark", "special_mark", *GROUP_COLUMNS)
            .order_by()
            .query.sql_with_params()
        )
    except EmptyResultSet:  # a filter Django knows to match nothing
        return _aggregates_build([], {column: [] for column in GROUP_COLUMNS})
    columns = ", ".join(f"s.{column}" for column in GROUP_COLUMNS)
    sets = ", ".join(f"(s.{column})" for column in GROUP_COLUMNS)
    # Built from constant column names around Django's own compiled query; values stay
    # in `params`.
    sql = (
        f"SELECT s.final_mark, s.special_mark, {columns}, "  # noqa: S608
        f"GROUPING(s.final_mark, s.special_mark, {columns}) AS g, COUNT(*), "
        "COUNT(s.final_mark), SUM(s.final_mark), SUM(s.final_mark * s.final_mark) "
        f"FROM ({inner}) s GROUP BY GROUPING SETS ((s.final_mark, s.special_mark), {sets})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_mark: list[tuple[Decimal | None, str | None, int]] = []
    groups: dict[str, Moments] = {column: [] for column in GROUP_COLUMNS}
    width = len(GROUP_COLUMNS)
    for row in rows:
        final_mark, special_mark, keys, grouping = (
            row[0],
            row[1],
            row[2 : 2 + width],
            row[2 + width],
        )
        n_all, n_numeric, total, squares = row[3 + width :]
        if grouping == (1 << width) - 1:  # the (final_mark, special_mark) set
            by_mark.append((final_mark, special_mark, n_all))
            continue
        for position, column in enumerate(GROUP_COLUMNS):
            # GROUPING's bits: 1 for each column not grouped, the last column lowest.
            grouped = not grouping & (1 << (width - 1 - position))
            if grouped and keys[position] is not None and n_numeric:
                groups[column].append((keys[position], n_numeric, total, squares))
    return _aggregates_build(by_mark, groups)


def aggregates_from_population(*, loaded: LoadedPopulation, mask: np.ndarray) -> Aggregates:
    """The same from the academy's arrays: marks in cents, sums in exact integers; only
    the special marks' codes, which the arrays do not hold, are read for the scripts
    without a number (a few per hundred)."""
    final = loaded.population.final
    numeric = mask & (final >= 0)
    marks = final[numeric]
    values, numbers = np.unique(marks, return_counts=True)
    by_mark: list[tuple[Decimal | None, str | None, int]] = [
        (Decimal(int(value)) / 100, None, int(n))
        for value, n in zip(values.tolist(), numbers.tolist(), strict=True)
    ]
    without = loaded.ids[mask & (final < 0)]
    if without.size:
        by_mark.extend((None, code, n) for code, n in _special_marks(ids=without.tolist()))
    groups: dict[str, Moments] = {}
    squares_of = marks * marks
    for column in GROUP_COLUMNS:
        keys = loaded.columns[column][numeric]
        present = keys >= 0
        ids, inverse, counts = np.unique(keys[present], return_inverse=True, return_counts=True)
        # Integer sums (np.add.at): cents of 600,000 scripts stay far below 2**63.
        totals = np.zeros(ids.size, dtype=np.int64)
        squares = np.zeros(ids.size, dtype=np.int64)
        np.add.at(totals, inverse, marks[present])
        np.add.at(squares, inverse, squares_of[present])
        groups[column] = [
            (int(key), int(n), Decimal(int(total)) / 100, Decimal(int(square)) / 10000)
            for key, n, total, square in zip(
                ids.tolist(), counts.tolist(), totals.tolist(), squares.tolist(), strict=True
            )
        ]
    return _aggregates_build(by_mark, groups)


def _special_marks(*, ids: list[int]) -> list[tuple[str | None, int]]:
    """Scripts per special mark (None: not marked yet) among `ids`: one query with the ids
    as an array on PostgreSQL (a long `IN` list costs more to compile than to run)."""
    table = Script._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT special_mark, COUNT(*) FROM {table} "  # noqa: S608 (the model's own table)
                "WHERE id = ANY(%s) GROUP BY special_mark",
                [ids],
            )
            return list(cursor.fetchall())
    found: dict[str | None, int] = {}
    for start in range(0, len(ids), 500):
        rows = (
            Script.objects.filter(pk__in=ids[start : start + 500])
            .values("special_mark")
            .annotate(n=Count("pk"))
            .values_list("special_mark", "n")
            .order_by()
        )
        for code, n in rows:
            found[code] = found.get(code, 0) + n
    return list(found.items())


def _aggregates_build(
    by_mark: list[tuple[Decimal | None, str | None, int]], groups: dict[str, Moments]
) -> Aggregates:
    special: dict[str, int] = {}
    by_value: list[tuple[Decimal, int]] = []
    unmarked = 0
    for final_mark, special_mark, n in by_mark:
        if final_mark is not None:
            by_value.append((Decimal(final_mark), n))
        elif special_mark is not None:
            special[special_mark] = special.get(special_mark, 0) + n
        else:
            unmarked += n
    return Aggregates(
        by_value=by_value,
        special_marks=sorted(special.items()),
        unmarked=unmarked,
        groups=groups,
    )


def _group_rows(
    moments: Moments, labels: Callable[[list[int]], dict[int, tuple[str, str]]]
) -> list[GroupRow]:
    names = labels([key for key, *_ in moments])
    out = [
        GroupRow(
            code=names[key][0],
            label=names[key][1],
            summary=moments_to_summary(count=n, total=total, squares=squares),
        )
        for key, n, total, squares in moments
    ]
    return sorted(out, key=lambda row: (row.label.casefold(), row.code))


def _school_labels(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (uai, label)
        for pk, uai, label in School.objects.filter(pk__in=ids).values_list("pk", "uai", "label")
    }


def _qualification_labels(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (code, label)
        for pk, code, label in Qualification.objects.filter(pk__in=ids).values_list(
            "pk", "code", "label"
        )
    }


def _grader_labels(ids: list[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (username, f"{first} {last}".strip() or username)
        for pk, username, first, last in User.objects.filter(pk__in=ids).values_list(
            "pk", "username", "first_name", "last_name"
        )
    }


def exam_statistics(
    *, user: User, exam: Exam, script_filter: ScriptFilter, locked_only: bool = False
) -> ExamStatistics:
    """Distribution, summary and means by school, qualification and grader (R-MASS-13).

    Numeric final marks only; special marks (AB, CB, ...) are counted apart, and scripts
    not marked yet (neither mark nor special mark) are counted as `unmarked`. Cached
    under the marks version of the user's scope, which every change of a mark bumps.
    """
    key = cache_key(
        "statistics", *marks_cache_head(user=user, exam=exam), locked_only, script_filter.as_dict()
    )
    computed = cache.get(key)
    if computed is None:
        computed = _statistics_compute(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        )
        cache.set(key, computed, timeout=3600)
    return ExamStatistics(
        exam=exam, script_filter=script_filter, locked_only=locked_only, **computed
    )


def _statistics_compute(
    *, user: User, exam: Exam, script_filter: ScriptFilter, locked_only: bool
) -> dict[str, Any]:
    loaded = None
    if is_academy_staff(user) and user.academy_id is not None:
        loaded = population_kept(exam=exam, academy_id=user.academy_id)
    if loaded is not None:
        mask = filter_mask(loaded=loaded, script_filter=script_filter)
        if locked_only:
            mask &= loaded.population.locked
        aggregates = aggregates_from_population(loaded=loaded, mask=mask)
    else:
        scripts = statistics_scripts(
            user=user, exam=exam, script_filter=script_filter, locked_only=locked_only
        )
        if connection.vendor == "postgresql":
            aggregates = aggregates_grouping_sets(scripts)
        else:
            aggregates = aggregates_per_table(scripts)
    values = [float(value) for value, _ in aggregates.by_value]
    counts = [n for _, n in aggregates.by_value]
    return dict(
        summary=summary_compute(marks=values, counts=counts),
        histogram=histogram_compute(
            marks=values, counts=counts, maximum=exam.max_mark, step=exam.step
        ),
        special_marks=aggregates.special_marks,
        unmarked=aggregates.unmarked,
        by_school=_group_rows(aggregates.groups["school_id"], _school_labels),
        by_qualification=_group_rows(aggregates.groups["qualification_id"], _qualification_labels),
        by_grader=_group_rows(aggregates.groups["grader_id"], _grader_labels),
    )
