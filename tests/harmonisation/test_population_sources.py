"""Where a population comes from (issue 16): this process, the shared cache, the database.

Every source must give the same arrays as a plain read of the scripts: a simulation on a
stale or wrongly decoded population would show, and execute, wrong marks (R-MASS-8,
R-MASS-9).
"""

from decimal import Decimal

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection

from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking import population as sources
from harmonie.marking.models import Script
from harmonie.marking.population import population_cache_clear, population_load
from harmonie.referential.scheme import exam_part_leaves
from harmonie.referential.versions import marks_version_bump
from tests.factories import BatchFactory, ScriptFactory

pytestmark = pytest.mark.django_db

SCENARIOS = [
    {"filter": {"mark_max": 14}, "action": {"type": "raise", "points": 1.5}},
    {"filter": {"mark_part": "P2", "mark_min": 8}, "action": {"type": "lower", "points": 0.5}},
]


def _arrays(loaded) -> dict[str, np.ndarray]:
    arrays = loaded.script_arrays()
    arrays.update({f"column {name}": values for name, values in loaded.columns.items()})
    arrays.update({f"leaf {code}": values for code, values in loaded.leaves.items()})
    return arrays


def _assert_same(one, other) -> None:
    left, right = _arrays(one), _arrays(other)
    assert left.keys() == right.keys()
    for name in left:
        assert np.array_equal(left[name], right[name]), name
        assert left[name].dtype == right[name].dtype, name
    assert one.part_leaves == other.part_leaves


def _database(world):
    """A read that goes to the database: nothing cached anywhere."""
    population_cache_clear()
    cache.clear()
    return population_load(exam=world["exam"], academy_id=world["academy"].pk)


@pytest.fixture
def varied_world(academy_world):
    """The academy world plus scripts with a missing leaf, quarter points, no batch."""
    world = academy_world
    batch = world["locked_batch"]
    ScriptFactory(batch=batch, marks={"Q1": 0.25, "Q2": 5.75, "P2": 10})
    ScriptFactory(batch=batch, marks={"Q1": 2.5, "P2": 0})
    ScriptFactory(batch=BatchFactory(exam=world["exam"], academy=world["academy"]), marks={})
    return world


def test_packed_postgresql_read_equals_the_row_read(varied_world):
    """R-MASS-8: the PostgreSQL read packed into one binary string decodes to the same
    integers as the row-by-row read (marks in cents, missing leaf 0, special mark -1)."""
    if connection.vendor != "postgresql":
        pytest.skip("the packed read is PostgreSQL's")
    exam, academy_id = varied_world["exam"], varied_world["academy"].pk
    leaves, _ = exam_part_leaves(exam_id=exam.pk)
    packed = sources._packed_table(exam=exam, academy_id=academy_id, leaves=leaves)
    rows = sources._rows_table(exam=exam, academy_id=academy_id, leaves=leaves)
    assert packed.shape == rows.shape == (7, 6 + len(sources._COLUMNS) + len(leaves))
    assert np.array_equal(packed, rows)


def test_another_process_reads_the_shared_population(varied_world):
    """A process that has not loaded the population gets it from the shared cache, equal
    to the database read; a marks version bump makes a new key, so it is read again."""
    world = varied_world
    first = _database(world)
    population_cache_clear()
    shared = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    assert shared is not first
    _assert_same(shared, first)

    Script.objects.filter(pk=world["scripts"][0].pk).update(
        initial_mark=Decimal("5.5"), final_mark=Decimal("5.5"), marks={"Q1": 1, "Q2": 1.5, "P2": 3}
    )
    marks_version_bump(exam_id=world["exam"].pk, academy_ids=[world["academy"].pk])
    population_cache_clear()
    after = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    row = int(np.nonzero(after.ids == world["scripts"][0].pk)[0][0])
    assert after.population.initial[row] == 550
    assert after.leaves["Q2"][row] == 150


def test_a_new_script_without_a_version_bump_is_not_missed(varied_world):
    """R-MASS-9: a script inserted without bumping the marks version (a factory, a writer
    that forgets) still changes the key: the last id is part of it."""
    world = varied_world
    before = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    ScriptFactory(batch=world["locked_batch"], marks={"Q1": 1, "Q2": 1, "P2": 1})
    population_cache_clear()
    after = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    assert len(after) == len(before) + 1


def test_population_kept_by_an_execution_equals_the_database(
    varied_world, django_capture_on_commit_callbacks
):
    """R-MASS-9: the execution keeps the population it leaves (new delta, final mark and
    flag) for the next simulation; it equals what the database then holds, in this
    process and in another one, and the next simulation shows the executed marks."""
    world = varied_world
    user = world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)
    with django_capture_on_commit_callbacks(execute=True):
        harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    kept = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    population_cache_clear()
    shared = population_load(exam=world["exam"], academy_id=world["academy"].pk)
    fresh = _database(world)
    _assert_same(kept, fresh)
    _assert_same(shared, fresh)
    assert kept.population.is_harmonised.any()

    again = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=SCENARIOS)
    finals = sorted(
        float(mark)
        for mark in Script.objects.filter(
            exam=world["exam"], academy=world["academy"], final_mark__isnull=False
        ).values_list("final_mark", flat=True)
    )
    before = [bar["mark"] for bar in again.result["before"] for _ in range(bar["count"])]
    assert sorted(before) == finals


@pytest.fixture
def table_reads(monkeypatch):
    """Each read of scripts for a population: `None` for every script of the academy, else
    the ids read again (the packed read bypasses Django's query log)."""
    reads: list[list[int] | None] = []
    read = sources._table

    def spy(**kwargs):
        reads.append(kwargs.get("only"))
        return read(**kwargs)

    monkeypatch.setattr(sources, "_table", spy)
    return reads


def test_a_unit_edit_patches_the_kept_population(
    varied_world, django_capture_on_commit_callbacks, table_reads
):
    """R-MASS-9 (issue 16): after a unit edit the next load takes the population kept
    before it (this process, or the shared cache for another process) with only the
    edited script read again, and equals a plain database read of the new marks."""
    from harmonie.marking.services import script_marking_update

    world = varied_world
    exam, academy_id = world["exam"], world["academy"].pk
    before = _database(world)
    script = world["scripts"][1]
    with django_capture_on_commit_callbacks(execute=True):
        script_marking_update(
            user=world["coordinator"],
            public_id=script.public_id,
            marks={"Q1": 0.5, "Q2": 6, "P2": 2},
            special_mark=None,
            annotations=None,
        )
    table_reads.clear()
    patched = population_load(exam=exam, academy_id=academy_id)
    assert patched is not before
    assert table_reads == [[script.pk]]
    row = int(np.nonzero(patched.ids == script.pk)[0][0])
    assert patched.population.initial[row] == 850
    assert patched.leaves["Q1"][row] == 50
    assert before.leaves["Q1"][row] == 400  # the kept one is never mutated
    _assert_same(patched, _database(world))

    # Another process: nothing in its memory, the shared cache holds the version before.
    before = _database(world)
    with django_capture_on_commit_callbacks(execute=True):
        script_marking_update(
            user=world["coordinator"],
            public_id=script.public_id,
            marks=None,
            special_mark="CB",
            annotations=None,
        )
    population_cache_clear()
    table_reads.clear()
    other = population_load(exam=exam, academy_id=academy_id)
    assert table_reads == [[script.pk]]
    assert not other.population.numeric[row]
    _assert_same(other, _database(world))


def test_a_batch_lock_patches_the_kept_population(
    varied_world, django_capture_on_commit_callbacks, table_reads
):
    """R-MASS-6, R-MASS-9: unlocking then locking a batch changes its scripts' lock flags
    in the next load (two versions: both changes read again), equal to the database."""
    from harmonie.marking.batches import batch_lock, batch_unlock
    from tests.factories import UserFactory

    world = varied_world
    officer = UserFactory(exam_officer=True, academy=world["academy"])
    exam, academy_id = world["exam"], world["academy"].pk
    _database(world)
    with django_capture_on_commit_callbacks(execute=True):
        batch_unlock(user=officer, code=world["locked_batch"].code)
    with django_capture_on_commit_callbacks(execute=True):
        batch_lock(user=officer, code=world["unlocked_batch"].code)
    with django_capture_on_commit_callbacks(execute=True):
        batch_unlock(user=officer, code=world["unlocked_batch"].code)
    with django_capture_on_commit_callbacks(execute=True):
        batch_lock(user=officer, code=world["unlocked_batch"].code)
    table_reads.clear()
    patched = population_load(exam=exam, academy_id=academy_id)
    batches = [world["locked_batch"], world["unlocked_batch"]]
    assert table_reads == [
        sorted(Script.objects.filter(batch__in=batches).values_list("pk", flat=True))
    ]
    fresh = _database(world)
    _assert_same(patched, fresh)
    unlocked = Script.objects.filter(batch=world["locked_batch"]).values_list("pk", flat=True)
    assert not patched.population.locked[np.isin(patched.ids, list(unlocked))].any()


def test_an_unknown_change_between_reads_everything_again(
    varied_world, django_capture_on_commit_callbacks, table_reads
):
    """R-MASS-9: a version whose change names no scripts (an import, a harmonisation, a
    writer that bumps by academy) breaks the chain: the next load reads every script."""
    from harmonie.marking.services import script_marking_update

    world = varied_world
    exam, academy_id = world["exam"], world["academy"].pk
    _database(world)
    Script.objects.filter(pk=world["scripts"][0].pk).update(
        initial_mark=Decimal("5.5"), marks={"Q1": 1, "Q2": 1.5, "P2": 3}
    )
    marks_version_bump(exam_id=exam.pk, academy_ids=[academy_id])
    with django_capture_on_commit_callbacks(execute=True):
        script_marking_update(
            user=world["coordinator"],
            public_id=world["scripts"][1].public_id,
            marks={"Q1": 0.5, "Q2": 6, "P2": 2},
            special_mark=None,
            annotations=None,
        )
    table_reads.clear()
    loaded = population_load(exam=exam, academy_id=academy_id)
    assert table_reads == [None]
    row = int(np.nonzero(loaded.ids == world["scripts"][0].pk)[0][0])
    assert loaded.population.initial[row] == 550
    _assert_same(loaded, _database(world))


def test_changes_recorded_are_the_committed_ones():
    """R-MASS-9: the chain of changed scripts: versions kept, unknown ones, the ones too old."""
    from harmonie.referential.versions import CHANGES_KEPT, scripts_changed_since

    changes = {"5": [3, 1], "6": [2], "7": None, "8": [9]}
    assert scripts_changed_since(changes=changes, version=6, since=4) == [1, 2, 3]
    assert scripts_changed_since(changes=changes, version=8, since=7) == [9]
    assert scripts_changed_since(changes=changes, version=8, since=6) is None
    assert scripts_changed_since(changes=changes, version=6, since=3) is None
    assert scripts_changed_since(changes=changes, version=6, since=6) == []
    assert CHANGES_KEPT >= 2


def test_shared_arrays_travel_as_4_byte_integers_only_where_they_fit():
    """R-MASS-8: the shared cache narrows integers that fit in 4 bytes and widens them
    back; a value outside that range keeps its 8 bytes (never wrapped)."""
    small = np.array([-1, 0, 2_000_000], dtype=np.int64)
    large = np.array([1, 2**31 + 5], dtype=np.int64)
    assert sources._narrow(small).dtype == np.int32
    assert sources._narrow(large) is large
    assert sources._widen(sources._narrow(small)).dtype == np.int64
    assert np.array_equal(sources._widen(sources._narrow(small)), small)
