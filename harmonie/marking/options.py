"""Linked choices of the filter's lists over the user's scope (R-MASS-5), counted from the
academy's arrays when the scope is an academy (issue 16, item 3).

Every page and endpoint that shows the lists asks here. Academy staff see their academy's
scripts of the exam, which is exactly the population `marking/population.py` keeps in
memory (and in the shared cache) per marks version: counting a new filter's choices there
costs a few numpy passes instead of grouping the scripts again in PostgreSQL. The counts
are the database's own (`tests/scriptfilter/test_table.py` checks them equal); when the
arrays are kept nowhere (after an import), and for other scopes (a school, a grader), the
database counts as before.
"""

import numpy as np

from harmonie.accounts.models import User
from harmonie.accounts.permissions import is_academy_staff
from harmonie.marking.permissions import scripts_in_scope
from harmonie.marking.population import LoadedPopulation, filter_mask, population_kept
from harmonie.referential.models import Exam
from harmonie.scriptfilter import LIST_KEYS, LISTS, ScriptFilter, filter_options
from harmonie.scriptfilter.options import Counter


def scope_filter_options(
    *,
    user: User,
    exam: Exam,
    script_filter: ScriptFilter,
    locked_only: bool = False,
    keys: tuple[str, ...] = LIST_KEYS,
) -> dict[str, list[dict]]:
    """`scriptfilter.filter_options` over `scripts_in_scope`, counted from the arrays for
    academy staff."""
    counter = None
    if is_academy_staff(user) and user.academy_id is not None:
        counter = population_counter(exam=exam, academy_id=user.academy_id)
    return filter_options(
        user=user,
        exam=exam,
        scripts=scripts_in_scope(user=user, exam=exam),
        script_filter=script_filter,
        locked_only=locked_only,
        keys=keys,
        counter=counter,
    )


def population_counter(*, exam: Exam, academy_id: int) -> Counter:
    """Counts per related row id of each key, among the academy's scripts (locked ones
    only when asked) that its filter keeps; None when the academy's arrays are kept
    nowhere (the database counts faster than a first read of them)."""

    def count(
        filters: dict[str, ScriptFilter], locked_only: bool
    ) -> dict[str, dict[int, int]] | None:
        loaded = population_kept(exam=exam, academy_id=academy_id)
        if loaded is None:
            return None
        masks: dict[ScriptFilter, np.ndarray] = {}
        counts: dict[str, dict[int, int]] = {}
        for key, other in filters.items():
            if other not in masks:
                masks[other] = _kept(loaded=loaded, script_filter=other, locked_only=locked_only)
            values = loaded.columns[LISTS[key].column][masks[other]]
            ids, numbers = np.unique(values[values >= 0], return_counts=True)
            counts[key] = dict(zip(ids.tolist(), numbers.tolist(), strict=True))
        return counts

    return count


def _kept(*, loaded: LoadedPopulation, script_filter: ScriptFilter, locked_only: bool):
    mask = filter_mask(loaded=loaded, script_filter=script_filter)
    return mask & loaded.population.locked if locked_only else mask
