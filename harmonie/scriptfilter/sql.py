"""The script filter in SQL, for the script list, the statistics and the linked options:
the same semantics as the numpy mask of `mask.py`, on SQLite and PostgreSQL."""

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from harmonie.referential.scheme import exam_part_leaves
from harmonie.scriptfilter.filter import ScriptFilter
from harmonie.scriptfilter.keys import LIST_TABLE

_MARK: DecimalField = DecimalField(max_digits=8, decimal_places=2)


def part_mark_expression(*, leaf_codes: list[str]) -> Any:
    """SQL sum of the given leaves in `Script.marks` (a missing leaf counts 0)."""
    total: Any = Value(Decimal(0), output_field=_MARK)
    for code in leaf_codes:
        total = total + Coalesce(
            Cast(KT(f"marks__{code}"), _MARK), Value(Decimal(0), output_field=_MARK)
        )
    return total


def scripts_filter(*, scripts: QuerySet, script_filter: ScriptFilter) -> QuerySet:
    """`scripts` (a Script queryset) narrowed by the filter, in SQL only."""
    condition = Q()
    for row in LIST_TABLE:
        values = script_filter.values(row.name)
        if values:
            # A subquery on the small referential table, no join on the scripts side: the
            # planner uses the (exam, academy, <column>) indexes.
            related = row.related().objects.filter(**{f"{row.natural}__in": values}).values("pk")
            condition &= Q(**{f"{row.column}__in": related})
    scripts = scripts.filter(condition)
    if script_filter.mark_min is None and script_filter.mark_max is None:
        return scripts
    if script_filter.mark_part:
        exam_ids = set(scripts.values_list("exam_id", flat=True).distinct().order_by()[:2])
        leaves: set[str] = set()
        for exam_id in exam_ids:
            _leaves, under = exam_part_leaves(exam_id=exam_id)
            leaves.update(under.get(script_filter.mark_part, ()))
        if not leaves:
            return scripts.none()
        # A part's mark is the sum of its leaves as marked: only a script with a mark has
        # one, not a special mark and not a script still unmarked (as in the numpy mask).
        scripts = scripts.filter(initial_mark__isnull=False).annotate(
            filter_part_mark=part_mark_expression(leaf_codes=sorted(leaves))
        )
        column = "filter_part_mark"
    else:
        column = "final_mark"
    if script_filter.mark_min is not None:
        scripts = scripts.filter(**{f"{column}__gte": script_filter.mark_min})
    if script_filter.mark_max is not None:
        scripts = scripts.filter(**{f"{column}__lte": script_filter.mark_max})
    return scripts
