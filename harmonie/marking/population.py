"""Load an academy's scripts of an exam into numpy arrays once, and turn script filters
into boolean masks over them (R-MASS-4, R-MASS-6, R-MASS-8).

One query reads every column the engine needs as integers (marks in cents, leaf marks
of the scheme included); filters are then evaluated in numpy by the filter table's
`script_filter_mask`, with the same semantics as the SQL `scripts_filter` (a part's mark
is the sum of its leaves as marked). The loaded arrays are kept per marks version (see
`population_load`) and never mutated.

Where a population comes from, fastest first (issue 16): this process's memory; the shared
cache (Redis in a deployment), where the last load or execution of any process left it;
the database. On PostgreSQL the database read aggregates every row's integers into one
binary string (`int4send`), which numpy reads without a Python object per value.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
import psycopg
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import DecimalField, F, IntegerField, Max, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Round

from harmonie.marking.arrays import Population, to_cents
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scheme import exam_part_leaves
from harmonie.referential.versions import (
    CHANGES_KEPT,
    academy_marks_changes,
    academy_marks_version,
    scripts_changed_since,
)
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

    def script_arrays(self) -> dict[str, np.ndarray]:
        """The ids and the script's own columns, by name (not the lists' ids nor leaves)."""
        pop = self.population
        return {
            "ids": self.ids,
            "initial": pop.initial,
            "delta": pop.delta,
            "final": pop.final,
            "numeric": pop.numeric,
            "is_harmonised": pop.is_harmonised,
            "locked": pop.locked,
        }


def academy_scripts(*, exam: Exam, academy_id: int):
    return Script.objects.filter(exam=exam, academy_id=academy_id)


def _leaf_cents(code: str) -> Coalesce:
    mark = Cast(KT(f"marks__{code}"), DecimalField(max_digits=8, decimal_places=2))
    return Coalesce(Cast(Round(mark * 100), IntegerField()), Value(0))


# Loaded populations by (exam, academy, marks version, last id): the counts, the
# simulation and its re-runs after an edit read the same data until a mark changes, and
# every mark-changing service bumps the academy's marks version (R-MASS-9). Scripts are
# never deleted, so the table's last id guards against writers that insert rows without
# bumping it (test factories): one index lookup, where a count cost 16 ms at 60,000.
_CACHE: OrderedDict[tuple, "LoadedPopulation"] = OrderedDict()
_CACHE_SIZE = 2
_CACHE_LOCK = threading.Lock()
# The shared cache keeps a population for the other processes (web workers, the task
# worker) one day at most: a new marks version makes a new key, old ones expire.
_SHARED_PREFIX = "population:v1"
_SHARED_SECONDS = 24 * 3600
# Integers the PostgreSQL read packs as 4-byte words: ids above this use the plain read.
_INT4_MAX = 2**31 - 1


def population_cache_clear() -> None:
    """Forget the populations of this process (the shared cache keeps its own)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _population_key(*, exam: Exam, academy_id: int) -> tuple:
    version = academy_marks_version(exam_id=exam.pk, academy_id=academy_id)
    # The table's last id, not the academy's: the end of the primary key index, where the
    # academy's own maximum made PostgreSQL walk that index backwards past every other
    # academy's scripts (129 ms on a national paper of 600,000).
    last = Script.objects.aggregate(last=Max("pk"))["last"]
    return (exam.pk, academy_id, version, last)


def _shared_key(key: tuple) -> str:
    return f"{_SHARED_PREFIX}:" + ":".join(str(part) for part in key)


def _remember(key: tuple, loaded: LoadedPopulation) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = loaded
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _narrow(values: np.ndarray) -> np.ndarray:
    """4-byte integers where they fit: a third of the time to put in and take out of
    Redis (60,000 scripts: 10 → 3 ms in, 15 → 5 ms out)."""
    if values.dtype != np.int64 or not values.size:
        return values
    if values.min() < -_INT4_MAX or values.max() > _INT4_MAX:
        return values
    return values.astype(np.int32)


def _widen(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64) if values.dtype == np.int32 else values


def _share(key: tuple, loaded: LoadedPopulation) -> None:
    """Put the population's arrays in the shared cache (no names, no resolved keys)."""
    arrays = loaded.script_arrays()
    cache.set(
        _shared_key(key),
        {
            **{name: _narrow(values) for name, values in arrays.items()},
            "columns": {name: _narrow(values) for name, values in loaded.columns.items()},
            "leaves": {code: _narrow(values) for code, values in loaded.leaves.items()},
            "part_leaves": loaded.part_leaves,
        },
        _SHARED_SECONDS,
    )


def _shared(key: tuple, *, exam: Exam) -> LoadedPopulation | None:
    data = cache.get(_shared_key(key))
    if data is None:
        return None
    return LoadedPopulation(
        exam=exam,
        academy_id=key[1],
        ids=_widen(data["ids"]),
        population=Population(
            initial=_widen(data["initial"]),
            delta=_widen(data["delta"]),
            final=_widen(data["final"]),
            numeric=data["numeric"],
            is_harmonised=data["is_harmonised"],
            locked=data["locked"],
        ),
        columns={name: _widen(values) for name, values in data["columns"].items()},
        maximum=to_cents(exam.max_mark),
        step=to_cents(exam.step),
        leaves={code: _widen(values) for code, values in data["leaves"].items()},
        part_leaves=data["part_leaves"],
    )


def population_load(*, exam: Exam, academy_id: int) -> LoadedPopulation:
    """Every script of the academy for the exam, as aligned arrays (ordered by id)."""
    loaded = _population(exam=exam, academy_id=academy_id, read=True)
    assert loaded is not None  # read=True always gives one
    return loaded


def population_kept(*, exam: Exam, academy_id: int) -> LoadedPopulation | None:
    """The same when it costs no read of every script: kept in this process or the shared
    cache, or an earlier version kept with only its changed scripts to read; else None.
    For the answers that a database query gives as fast as a first read (statistics,
    linked choices): 2.6 s to read 600,000 scripts against under a second to count them."""
    return _population(exam=exam, academy_id=academy_id, read=False)


def _population(*, exam: Exam, academy_id: int, read: bool) -> LoadedPopulation | None:
    key = _population_key(exam=exam, academy_id=academy_id)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    loaded = _shared(key, exam=exam)
    if loaded is None:
        loaded = _patched(key=key, exam=exam)
        if loaded is None:
            if not read:
                return None
            loaded = _population_query(exam=exam, academy_id=academy_id, last=key[3])
        _share(key, loaded)
    _remember(key, loaded)
    return loaded


def _kept(key: tuple, *, exam: Exam) -> LoadedPopulation | None:
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    return found if found is not None else _shared(key, exam=exam)


def _patched(*, key: tuple, exam: Exam) -> LoadedPopulation | None:
    """The population of an earlier version, kept here or in the shared cache, with the
    scripts changed since read again (a unit edit: one script; a batch lock: its
    scripts), or `None` when no earlier one is kept or a change between is unknown."""
    exam_id, academy_id, version, last = key
    current, changes = academy_marks_changes(exam_id=exam_id, academy_id=academy_id)
    if current != version:
        return None  # bumped since the key was read: the next load will see it
    for since in range(version - 1, max(version - CHANGES_KEPT, -1), -1):
        ids = scripts_changed_since(changes=changes, version=version, since=since)
        if ids is None:
            return None
        base = _kept((exam_id, academy_id, since, last), exam=exam)
        if base is not None:
            return _patch(base=base, ids=ids, exam=exam)
    return None


def _patch(*, base: LoadedPopulation, ids: list[int], exam: Exam) -> LoadedPopulation | None:
    leaves, under = exam_part_leaves(exam_id=exam.pk)
    if leaves != list(base.leaves) or under != base.part_leaves:
        return None
    table = _table(
        exam=exam, academy_id=base.academy_id, leaves=leaves, last=max(ids, default=0), only=ids
    )
    fresh = _loaded_from_table(
        exam=exam, academy_id=base.academy_id, table=table, leaves=leaves, under=under
    )
    positions = np.searchsorted(base.ids, fresh.ids)
    if len(fresh) != len(ids) or bool(np.any(positions >= len(base))):
        return None
    if not bool(np.all(base.ids[positions] == fresh.ids)):
        return None

    def put(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = old.copy()
        out[positions] = new
        return out

    pop, new = base.population, fresh.population
    return replace(
        base,
        exam=exam,
        population=Population(
            initial=put(pop.initial, new.initial),
            delta=put(pop.delta, new.delta),
            final=put(pop.final, new.final),
            numeric=put(pop.numeric, new.numeric),
            is_harmonised=put(pop.is_harmonised, new.is_harmonised),
            locked=put(pop.locked, new.locked),
        ),
        columns={name: put(values, fresh.columns[name]) for name, values in base.columns.items()},
        leaves={code: put(values, fresh.leaves[code]) for code, values in base.leaves.items()},
        # Keys resolved stay valid: a change that names a new row (an import) is unknown,
        # so never patched.
        resolved=dict(base.resolved),
    )


def population_after_execution(*, loaded: LoadedPopulation, outcome) -> None:
    """Keep the population an execution leaves (R-MASS-9), for the next simulation.

    Called inside the execution's transaction, after its writes and the marks version
    bump: the new arrays are the loaded ones with the outcome's delta, final mark and flag
    (what `writers.scripts_write` wrote), kept under the new version once committed.
    """
    key = _population_key(exam=loaded.exam, academy_id=loaded.academy_id)
    after = LoadedPopulation(
        exam=loaded.exam,
        academy_id=loaded.academy_id,
        ids=loaded.ids,
        population=Population(
            initial=loaded.population.initial,
            delta=np.asarray(outcome.delta, dtype=np.int64),
            final=np.asarray(outcome.final, dtype=np.int64),
            numeric=loaded.population.numeric,
            is_harmonised=np.asarray(outcome.is_harmonised, dtype=bool),
            locked=loaded.population.locked,
        ),
        columns=loaded.columns,
        maximum=loaded.maximum,
        step=loaded.step,
        leaves=loaded.leaves,
        part_leaves=loaded.part_leaves,
        public_ids=loaded.public_ids,
        resolved=loaded.resolved,
    )

    def keep() -> None:
        _remember(key, after)
        _share(key, after)

    transaction.on_commit(keep)


def _population_query(*, exam: Exam, academy_id: int, last: int | None) -> LoadedPopulation:
    leaves, under = exam_part_leaves(exam_id=exam.pk)
    table = _table(exam=exam, academy_id=academy_id, leaves=leaves, last=last)
    return _loaded_from_table(
        exam=exam, academy_id=academy_id, table=table, leaves=leaves, under=under
    )


def _table(
    *,
    exam: Exam,
    academy_id: int,
    leaves: list[str],
    last: int | None,
    only: list[int] | None = None,
) -> np.ndarray:
    """The academy's scripts (or those of `only`) as an integer matrix, ordered by id."""
    if connection.vendor == "postgresql" and (last or 0) <= _INT4_MAX:
        return _packed_table(exam=exam, academy_id=academy_id, leaves=leaves, only=only)
    return _rows_table(exam=exam, academy_id=academy_id, leaves=leaves, only=only)


def _packed_table(
    *, exam: Exam, academy_id: int, leaves: list[str], only: list[int] | None = None
) -> np.ndarray:
    """PostgreSQL: every row's integers as 4-byte big-endian words, aggregated into one
    bytea; numpy reads it as a matrix, sorted by id here (cheaper than ORDER BY in the
    aggregate). Marks in cents (a numeric or float8 cast to int rounds, exact for cents);
    both flags in one word; COALESCE only on the nullable columns (each expression costs
    PostgreSQL about 1 µs per row)."""
    table_name = Script._meta.db_table

    def key(column: str) -> str:
        return f"COALESCE({column}, -1)" if Script._meta.get_field(column).null else column

    expressions = [
        "id",
        "COALESCE(initial_mark * 100, -1)",
        "delta * 100",
        "COALESCE(final_mark * 100, -1)",
        "is_harmonised::int + 2 * locked::int",
        *(key(column) for column in _COLUMNS),
        *("COALESCE((marks ->> %s)::float8 * 100, 0)" for _ in leaves),
    ]
    packed = " || ".join(f"int4send(({expression})::int)" for expression in expressions)
    connection.ensure_connection()
    # A plain psycopg cursor, for the binary result format (Django's client-side cursors
    # have only the text one, which would send the bytea as hex: twice the bytes).
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT string_agg({packed}, ''::bytea), count(*) FROM {table_name} "  # noqa: S608
            "WHERE exam_id = %s AND academy_id = %s"
            + ("" if only is None else " AND id = ANY(%s::bigint[])"),
            [*leaves, exam.pk, academy_id, *([] if only is None else [only])],
            binary=True,
        )
        data, count = cursor.fetchone()
    width = len(expressions)
    words = np.frombuffer(bytes(data or b""), dtype=">i4").reshape(count, width)
    ids = words[:, 0]
    if count > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        # Rows come in scan order, usually the ids' own (a sort of 600,000 costs 50 ms).
        words = words[np.argsort(ids, kind="stable")]
    table = np.empty((count, width + 1), dtype=np.int64)
    table[:, :4] = words[:, :4]
    table[:, 4] = words[:, 4] & 1
    table[:, 5] = words[:, 4] >> 1
    table[:, 6:] = words[:, 5:]
    return table


def _rows_table(
    *, exam: Exam, academy_id: int, leaves: list[str], only: list[int] | None = None
) -> np.ndarray:
    scripts = academy_scripts(exam=exam, academy_id=academy_id)
    if only is not None:
        scripts = scripts.filter(pk__in=only)
    queryset = scripts.order_by("pk").values_list(
        "pk",
        _cents("initial_mark"),
        Cast(Round(F("delta") * 100), IntegerField()),
        _cents("final_mark"),
        Cast(F("is_harmonised"), IntegerField()),
        Cast(F("locked"), IntegerField()),
        *(_id(column) for column in _COLUMNS),
        *(_leaf_cents(code) for code in leaves),
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = 6 + len(_COLUMNS) + len(leaves)
    return np.array(rows, dtype=np.int64).reshape(len(rows), width)


def _loaded_from_table(
    *, exam: Exam, academy_id: int, table: np.ndarray, leaves: list[str], under: dict
) -> LoadedPopulation:
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
