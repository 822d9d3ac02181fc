"""Pages of the script list sorted on a related row's key (department, school, grader,
subject, batch), read group by group.

Sorting the academy's scripts on a joined column made PostgreSQL join and sort all of
them for every page (40 ms of CPU, three processes in parallel, for one page of 50:
bench/load/profile.py, issue 16). The list's groups, one per key with its number of
scripts, are counted once per filter and cached with the list's count under the marks
version; a page then reads the rows of its one or two groups through the (exam, academy,
<column>) indexes, in the same order as `ORDER BY <key>, id` gives: the groups in the
database's order of their key (its collation), the rows of a group by id.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Model, Q, QuerySet

from harmonie.accounts.models import User
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Department, School, Subject

# The list's sort columns on a related row's key, and the scripts table's column of it.
GROUPED: dict[str, str] = {
    "department__code": "department_id",
    "school__uai": "school_id",
    "grader__username": "grader_id",
    "subject__code": "subject_id",
    "batch__code": "batch_id",
}
_RELATED: dict[str, type[Model]] = {
    "department__code": Department,
    "school__uai": School,
    "grader__username": User,
    "subject__code": Subject,
    "batch__code": Batch,
}


@dataclass(frozen=True)
class Group:
    """The scripts whose key is `value` ('' for a script without the related row): how
    many, and their lowest and highest row ids."""

    value: str
    ids: tuple[int | None, ...]
    count: int
    low: int
    high: int

    def as_tuple(self) -> tuple[str, tuple[int | None, ...], int, int, int]:
        """What the cache keeps: plain values, never a pickled class."""
        return (self.value, self.ids, self.count, self.low, self.high)


def sort_groups(*, scripts: QuerySet[Script], column: str) -> list[Group]:
    """The groups of `scripts` for a sort on `column` (a key of GROUPED), ascending."""
    fk = GROUPED[column]
    counts: dict[int | None, tuple[int, int, int]] = {
        pk: (n, low, high)
        for pk, n, low, high in scripts.values_list(fk)
        .annotate(n=Count("pk"), low=Min("pk"), high=Max("pk"))
        .order_by()
        .values_list(fk, "n", "low", "high")
    }
    natural = column.split("__")[1]
    # The related table orders its keys as the list's ORDER BY would (same collation).
    ordered = (
        _RELATED[column]
        ._default_manager.filter(pk__in=[pk for pk in counts if pk is not None])
        .order_by(natural, "pk")
        .values_list("pk", natural)
    )
    groups: list[Group] = []
    # No related row sorts as an empty key: before every other one, in any collation.
    rows: list[tuple[int | None, str]] = [(None, "")] if None in counts else []
    rows.extend((pk, value or "") for pk, value in ordered)
    for pk, value in rows:
        n, low, high = counts[pk]
        if groups and groups[-1].value == value:
            last = groups[-1]
            groups[-1] = Group(
                value, (*last.ids, pk), last.count + n, min(last.low, low), max(last.high, high)
            )
        else:
            groups.append(Group(value, (pk,), n, low, high))
    return groups


def groups_from_cache(stored: list[tuple]) -> list[Group]:
    return [Group(value, tuple(ids), *numbers) for value, ids, *numbers in stored]


def _in_groups(scripts: QuerySet[Script], fk: str, groups: list[Group]) -> QuerySet[Script]:
    """The scripts of `groups`, their id range said too: it makes no difference to the
    rows, but an index scan by id starts where they are, not at the table's other end."""
    ids = [pk for group in groups for pk in group.ids]
    condition = Q(**{f"{fk}__in": [pk for pk in ids if pk is not None]})
    if None in ids:
        condition |= Q(**{f"{fk}__isnull": True})
    return scripts.filter(
        condition,
        pk__gte=min(group.low for group in groups),
        pk__lte=max(group.high for group in groups),
    )


def group_keys(
    *,
    scripts: QuerySet[Script],
    column: str,
    groups: list[Group],
    descending: bool,
    after: tuple[Any, int] | None,
    backward: bool,
    count: int,
) -> list[tuple[int, str]] | None:
    """Up to `count` (pk, key) pairs of the list ordered by (key, id), descending or not,
    after the cursor's (key, pk) (before it, nearest first, going `backward`): what one
    `ORDER BY key, id` query with the keyset condition returns. None when the cursor's key
    is not one of the groups (the caller reads the list the other way)."""
    fk = GROUPED[column]
    reverse = descending != backward
    order = list(reversed(groups)) if reverse else groups
    pk_order = "-pk" if reverse else "pk"
    keys: list[tuple[int, str]] = []
    position = 0
    if after is not None:
        value, pk = after
        found = next((i for i, group in enumerate(order) if group.value == value), None)
        if found is None:
            return None
        group = order[found]
        rows = (
            _in_groups(scripts, fk, [group])
            .filter(**{f"pk__{'lt' if reverse else 'gt'}": pk})
            .order_by(pk_order)
            .values_list("pk", flat=True)[:count]
        )
        keys.extend((row, group.value) for row in rows)
        position = found + 1
    while len(keys) < count and position < len(order):
        need = count - len(keys)
        # Whole groups that the page holds entirely: one query, ordered here.
        whole: list[Group] = []
        total = 0
        while position < len(order) and total + order[position].count <= need:
            whole.append(order[position])
            total += order[position].count
            position += 1
        if whole:
            rank = {pk: index for index, group in enumerate(whole) for pk in group.ids}
            found_rows = sorted(
                _in_groups(scripts, fk, whole).values_list("pk", fk),
                key=lambda row: (rank[row[1]], -row[0] if reverse else row[0]),
            )
            keys.extend((row, whole[rank[group_id]].value) for row, group_id in found_rows[:need])
            continue
        # The group where the page ends: its first rows only.
        group = order[position]
        position += 1
        rows = (
            _in_groups(scripts, fk, [group]).order_by(pk_order).values_list("pk", flat=True)[:need]
        )
        keys.extend((row, group.value) for row in rows)
    return keys
