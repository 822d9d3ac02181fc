"""A harmonisation rewrites only what it changes (issue 16, item 1; R-MASS-9, R-MASS-12).

No index of the script table holds a column that an execution or "Rendre conforme"
writes, so PostgreSQL updates those rows in place on their page (HOT updates: no new
index entry), with the room fillfactor 70 leaves.
"""

import pytest
from django.db import connection

from harmonie.harmonisation.services import (
    conformity_apply,
    harmonisation_execute,
    simulation_create,
)
from harmonie.marking.models import Script

pytestmark = pytest.mark.django_db

WRITTEN = {"delta", "is_harmonised", "final_mark", "final_marks", "version", "updated_at"}


def test_no_index_holds_a_column_a_harmonisation_writes():
    """Checked on the database's own catalogue, whatever the backend."""
    table = Script._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    indexed = {
        column
        for constraint in constraints.values()
        if constraint["index"] or constraint["unique"]
        for column in constraint["columns"]
    }
    assert indexed, constraints
    assert not (indexed & WRITTEN), indexed & WRITTEN


def _hot_counts() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Script._meta.db_table],
        )
        return cursor.fetchone()


def test_execution_and_conformity_update_in_place_on_postgresql(academy_world):
    """PostgreSQL: every script row the execution and the conformity write is a HOT update
    (pg_stat_xact_user_tables counts this transaction's updates)."""
    if connection.vendor != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", [Script._meta.db_table]
        )
        assert cursor.fetchone()[0] == ["fillfactor=70"]
    user = academy_world["coordinator"]
    before = _hot_counts()
    simulation = simulation_create(
        user=user,
        exam_code="FRA-ECRIT",
        scenarios=[{"filter": {}, "action": {"type": "raise", "points": 1.5}}],
    )
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == 2
    after = _hot_counts()
    updates, hot = after[0] - before[0], after[1] - before[1]
    assert updates == 4  # two scripts raised, then the same two made conforming
    assert hot == updates
