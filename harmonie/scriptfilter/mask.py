"""The script filter over arrays already in memory (numpy), for scenario populations,
simulations and executions (R-MASS-4, R-MASS-4b, R-MASS-6): the same semantics as the
SQL `scripts_filter`. The caller loads the arrays; this module only reads them."""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import numpy as np

from harmonie.referential.models import Exam
from harmonie.scriptfilter.filter import ScriptFilter
from harmonie.scriptfilter.keys import LIST_TABLE, LISTS


def key_ids(*, key: str, values: tuple[str, ...], exam: Exam) -> list[int]:
    """The ids of the related rows named by their natural keys (scoped to the exam when
    the key is unique per exam only)."""
    row = LISTS[key]
    rows = row.related().objects.filter(**{f"{row.natural}__in": values})
    if row.exam_field:
        rows = rows.filter(**{row.exam_field: exam})
    return list(rows.values_list("pk", flat=True))


def script_filter_mask(
    *,
    script_filter: ScriptFilter,
    exam: Exam,
    columns: Mapping[str, np.ndarray],
    numeric: np.ndarray,
    global_mark: np.ndarray,
    leaves: Mapping[str, np.ndarray],
    part_leaves: Mapping[str, Sequence[str]],
    ids_of: Callable[[str, tuple[str, ...]], Sequence[int]] | None = None,
) -> np.ndarray:
    """The boolean mask of the scripts the filter keeps: OR inside a key, AND across keys.

    `columns` maps each key's Script column (`department_id`...) to the scripts' ids
    (-1 for none); `numeric` says which scripts have a numeric mark; `global_mark` is the
    mark the bounds read (cents); `leaves` the leaf marks (cents) and `part_leaves` the
    leaves of every part, for a part's mark (the sum of its leaves as marked). `ids_of`
    resolves natural keys to ids (default `key_ids`; a caller may remember them).
    """
    mask = np.ones(numeric.shape[0], dtype=bool)
    for row in LIST_TABLE:
        values = script_filter.values(row.name)
        if values:
            ids = (
                ids_of(row.name, values)
                if ids_of is not None
                else key_ids(key=row.name, values=values, exam=exam)
            )
            mask &= np.isin(columns[row.column], np.array(ids, dtype=np.int64))
    if script_filter.mark_min is None and script_filter.mark_max is None:
        return mask
    if script_filter.mark_part:
        # A part's mark is the sum of its leaves as marked; special marks have none.
        codes = part_leaves.get(script_filter.mark_part)
        if not codes:
            return np.zeros(numeric.shape[0], dtype=bool)
        marks = sum(leaves[code] for code in codes)
    else:
        marks = global_mark
    mask &= numeric
    if script_filter.mark_min is not None:
        mask &= marks >= _cents(script_filter.mark_min)
    if script_filter.mark_max is not None:
        mask &= marks <= _cents(script_filter.mark_max)
    return mask


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())
