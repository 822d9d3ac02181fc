"""Load an academy's scripts of an exam into numpy arrays once, and turn script filters
into boolean masks over them (R-MASS-4, R-MASS-6, R-MASS-8).

One query reads every column the engine needs as integers (marks in cents, leaf marks
of the scheme included); filters are then evaluated in numpy by the filter table's
`script_filter_mask`, with the same semantics as the SQL `scripts_filter` (a part's mark
is the sum of its leaves as marked). The loaded arrays are kept per marks version (see
`population_load`) and never mutated.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, Max, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Round

from harmonie.harmonisation.engine import Population, to_cents
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scheme import exam_part_leaves
from harmonie.referential.versions import academy_marks_version
from harmonie.scriptfilter import LIST_TABLE, ScriptFilter, script_filter_mask
from harmonie.scriptfilter.mask import key_ids

# The Script column of every list key of the filter table, loaded as ids.
_COLUMNS = tuple(row.column for row in LIST_TABLE)


def _cents(field: str) -> Coalesce:
    return Coalesce(Cast(Round(F(field) * 100), IntegerField()), Value(-1))


def _id(field: str) -> Coalesce:
    return Coalesce(F(field), Value(-1))


@dataclass
class LoadedPopulation:
    exam: Exam
    academy_id: int
    ids: np.ndarray
    population: Population
    columns: dict[str, np.ndarray]
    maximum: int
    step: int
    leaves: dict[str, np.ndarray] = field(default_factory=dict)
    part_leaves: dict[str, list[str]] = field(default_factory=dict)
    # Anonymous script ids read so far (threshold crossings name them): the population
    # stays cached per marks version, so each id is read from the database once.
    # (aligned with `ids`, "" while not read yet).
    public_ids: np.ndarray | None = None
    # Natural keys resolved to ids, per (key, values): ids of existing rows never change,
    # and a script naming a new row comes with a new marks version, so a new population.
    resolved: dict[tuple[str, tuple[str, ...]], list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def academy_scripts(*, exam: Exam, academy_id: int):
    return Script.objects.filter(exam=exam, academy_id=academy_id)


def _leaf_cents(code: str) -> Coalesce:
    mark = Cast(KT(f"marks__{code}"), DecimalField(max_digits=8, decimal_places=2))
    return Coalesce(Cast(Round(mark * 100), IntegerField()), Value(0))


# Loaded populations by (exam, academy, marks version, count, last id): the counts, the
# simulation and its re-runs after an edit read the same data until a mark changes, and
# every mark-changing service bumps `Exam.marks_version` (R-MASS-9). Count and last id
# guard against writers that do not (tests, imports of new rows).
_CACHE: OrderedDict[tuple, "LoadedPopulation"] = OrderedDict()
_CACHE_SIZE = 2
_CACHE_LOCK = threading.Lock()


def population_cache_clear() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def population_load(*, exam: Exam, academy_id: int) -> LoadedPopulation:
    """Every script of the academy for the exam, as aligned arrays (ordered by id)."""
    version = academy_marks_version(exam_id=exam.pk, academy_id=academy_id)
    shape = academy_scripts(exam=exam, academy_id=academy_id).aggregate(
        count=Count("pk"), last=Max("pk")
    )
    key = (exam.pk, academy_id, version, shape["count"], shape["last"])
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    loaded = _population_query(exam=exam, academy_id=academy_id)
    with _CACHE_LOCK:
        _CACHE[key] = loaded
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return loaded


def _population_query(*, exam: Exam, academy_id: int) -> LoadedPopulation:
    leaves, under = exam_part_leaves(exam_id=exam.pk)
    queryset = (
        academy_scripts(exam=exam, academy_id=academy_id)
        .order_by("pk")
        .values_list(
            "pk",
            _cents("initial_mark"),
            Cast(Round(F("delta") * 100), IntegerField()),
            _cents("final_mark"),
            Cast(F("is_harmonised"), IntegerField()),
            Cast(F("locked"), IntegerField()),
            *(_id(column) for column in _COLUMNS),
            *(_leaf_cents(code) for code in leaves),
        )
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = 6 + len(_COLUMNS) + len(leaves)
    table = np.array(rows, dtype=np.int64).reshape(len(rows), width)
    initial = table[:, 1]
    numeric = initial >= 0
    population = Population(
        initial=np.where(numeric, initial, 0),
        delta=table[:, 2].copy(),
        final=table[:, 3].copy(),
        numeric=numeric,
        is_harmonised=table[:, 4].astype(bool),
        locked=table[:, 5].astype(bool),
    )
    columns = {column: table[:, 6 + index].copy() for index, column in enumerate(_COLUMNS)}
    offset = 6 + len(_COLUMNS)
    leaf_marks = {code: table[:, offset + index].copy() for index, code in enumerate(leaves)}
    return LoadedPopulation(
        exam=exam,
        academy_id=academy_id,
        ids=table[:, 0].copy(),
        population=population,
        columns=columns,
        maximum=to_cents(exam.max_mark),
        step=to_cents(exam.step),
        leaves=leaf_marks,
        part_leaves=under,
    )


def _mask(*, loaded: LoadedPopulation, script_filter: ScriptFilter, global_mark: np.ndarray):
    return script_filter_mask(
        script_filter=script_filter,
        exam=loaded.exam,
        columns=loaded.columns,
        numeric=loaded.population.numeric,
        global_mark=global_mark,
        leaves=loaded.leaves,
        part_leaves=loaded.part_leaves,
        ids_of=lambda key, values: _ids_remembered(loaded=loaded, key=key, values=values),
    )


def _ids_remembered(*, loaded: LoadedPopulation, key: str, values: tuple[str, ...]) -> list[int]:
    found = loaded.resolved.get((key, values))
    if found is None:
        found = key_ids(key=key, values=values, exam=loaded.exam)
        loaded.resolved[(key, values)] = found
    return found


def filter_mask(*, loaded: LoadedPopulation, script_filter: ScriptFilter) -> np.ndarray:
    """The scripts a display filter shows: OR inside a key, AND across keys.

    Mark bounds read the final mark, as the script list and the statistics do (R-MASS-4b).
    """
    return _mask(loaded=loaded, script_filter=script_filter, global_mark=loaded.population.final)


def scenario_mask(*, loaded: LoadedPopulation, script_filter: ScriptFilter) -> np.ndarray:
    """The scripts a scenario's filter matches (R-MASS-4, R-MASS-4b).

    Mark bounds read the initial mark, before any mass harmonisation: a replayed
    harmonisation matches the same candidates whatever it did to their final marks, so
    replaying it as resets cancels it exactly. The one definition used by the population
    counts, the simulation and the execution.
    """
    return _mask(loaded=loaded, script_filter=script_filter, global_mark=loaded.population.initial)
