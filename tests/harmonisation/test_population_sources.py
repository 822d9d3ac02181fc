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

from harmonie.harmonisation import population as sources
from harmonie.harmonisation.population import population_cache_clear, population_load
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from harmonie.referential.scheme import exam_part_leaves
from harmonie.referential.versions import marks_version_bump
from tests.factories import BatchFactory, ScriptFactory

pytestmark = pytest.mark.django_db

SCENARIOS = [
    {"filter": {"mark_max": 14}, "action": {"type": "raise", "points": 1.5}},
    {"filter": {"mark_part": "P2", "mark_min": 8}, "action": {"type": "lower", "points": 0.5}},
]


def _arrays(loaded) -> dict[str, np.ndarray]:
    pop = loaded.population
    arrays = {
        "ids": loaded.ids,
        "initial": pop.initial,
        "delta": pop.delta,
        "final": pop.final,
        "numeric": pop.numeric,
        "is_harmonised": pop.is_harmonised,
        "locked": pop.locked,
    }
    arrays.update({f"column {name}": values for name, values in loaded.columns.items()})
    arrays.update({f"leaf {code}": values for code, values in loaded.leaves.items()})
    return arrays


def _assert_same(one, other) -> None:
    left, right = _arrays(one), _arrays(other)
    assert left.keys() == right.keys()
    for name in left:
        assert np.array_equal(left[name], right[name]), name
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
