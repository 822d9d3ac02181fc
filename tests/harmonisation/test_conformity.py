"""« Rendre conforme » read and written in bulk (R-MASS-12, issue 16 item 1).

The not-conforming scripts and their leaf marks are read as cents (packed into one
binary string on PostgreSQL), spread by `engine.delta_spread_many` and stored as the JSON
the ORM wrote before: on both back-ends, the same result as reading the scripts one by
one and spreading each with `engine.delta_spread`.
"""

import json
import random
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from harmonie.audit.models import AuditEntry
from harmonie.harmonisation.conformity import (
    conformity_pending,
    conformity_spread,
    not_conforming_ids,
)
from harmonie.harmonisation.engine import delta_spread
from harmonie.harmonisation.selectors import conformity_state
from harmonie.harmonisation.services import conformity_apply
from harmonie.harmonisation.writers import final_marks_write
from harmonie.marking.models import Script
from tests.factories import ScriptFactory

pytestmark = pytest.mark.django_db

LEAVES = [("Q1", Decimal(4)), ("Q2", Decimal(6)), ("P2", Decimal(10))]
CODES = [code for code, _ in LEAVES]


def _leaf(rng: random.Random, maximum: Decimal) -> float | int:
    """A leaf mark as JSON holds it: on the half point, or off it (imported data)."""
    if rng.random() < 0.8:
        value = Decimal(rng.randint(0, int(maximum * 2))) / 2
    else:
        value = Decimal(rng.randint(0, int(maximum * 100))) / 100
    return int(value) if value == value.to_integral_value() else float(value)


def _scripts(world, count: int) -> list[int]:
    """Scripts of every kind conformity meets: no delta, a delta up or down (clamped),
    a stored spread that conforms or no longer does, a leaf missing, a special mark."""
    rng = random.Random(12)
    batch = world["locked_batch"]
    ids = []
    for index in range(count):
        marks = {code: _leaf(rng, maximum) for code, maximum in LEAVES}
        if index % 11 == 0:
            marks.pop(rng.choice(CODES))
        script = ScriptFactory(batch=batch, marks=marks)
        total = sum((Decimal(str(value)) for value in marks.values()), Decimal(0))
        delta = rng.choice([Decimal(0), Decimal("0.5"), Decimal(-1), Decimal("1.5"), Decimal(-3)])
        final_marks = rng.choice([None, None, dict(marks), {"Q1": 4, "Q2": 0.5, "P2": 9}])
        Script.objects.filter(pk=script.pk).update(
            delta=delta,
            is_harmonised=bool(delta),
            final_mark=min(max(total + delta, Decimal(0)), Decimal(20)),
            final_marks=final_marks,
        )
        ids.append(script.pk)
    special = ScriptFactory(batch=batch, blank=True)
    Script.objects.filter(pk=special.pk).update(delta=Decimal(1))
    return ids


def _one_by_one(world) -> dict[int, dict[str, float]]:
    """The reading of every script through the ORM and `delta_spread`, script by script."""
    pending = {}
    rows = Script.objects.filter(
        exam=world["exam"], academy=world["academy"], final_mark__isnull=False
    ).values_list("pk", "marks", "final_marks", "final_mark", "delta")
    for pk, marks, final_marks, final_mark, delta in rows:
        standing = final_marks if final_marks is not None else marks
        total = sum((Decimal(str(standing.get(code) or 0)) for code in CODES), Decimal(0))
        if (delta == 0 and final_marks is None) or total == final_mark:
            continue
        spread = delta_spread(
            leaf_marks=[Decimal(str(marks.get(code) or 0)) for code in CODES],
            leaf_maxima=[maximum for _, maximum in LEAVES],
            final_mark=final_mark,
            step=world["exam"].step,
        )
        pending[pk] = {code: float(value) for code, value in zip(CODES, spread, strict=True)}
    return pending


def test_pending_is_the_script_by_script_reading(academy_world):
    """R-MASS-12: the same scripts, in id order, with the same spread."""
    world = academy_world
    _scripts(world, 60)
    expected = _one_by_one(world)
    assert len(expected) > 20
    assert conformity_pending(exam=world["exam"], academy_id=world["academy"].pk) == expected
    assert not_conforming_ids(exam=world["exam"], academy_id=world["academy"].pk).tolist() == (
        sorted(expected)
    )
    found = conformity_spread(exam=world["exam"], academy_id=world["academy"].pk)
    assert found.codes == CODES
    assert found.ids.tolist() == sorted(expected)


def test_conformity_apply_stores_the_spread(academy_world):
    """R-MASS-12: each not-conforming script gets its spread and one version more, the
    others are left as they were; the state is then conforming."""
    world = academy_world
    user = world["coordinator"]
    ids = _scripts(world, 40)
    expected = _one_by_one(world)
    before = {
        row["pk"]: row
        for row in Script.objects.filter(pk__in=ids).values("pk", "final_marks", "version")
    }
    assert conformity_state(user=user, exam_code="FRA-ECRIT")["not_conforming_count"] == len(
        expected
    )
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == len(expected)
    for row in Script.objects.filter(pk__in=ids).values("pk", "final_marks", "version"):
        if row["pk"] in expected:
            assert row["final_marks"] == expected[row["pk"]]
            assert row["version"] == before[row["pk"]]["version"] + 1
        else:
            assert row == before[row["pk"]]
    assert conformity_state(user=user, exam_code="FRA-ECRIT")["state"] == "conforming"
    entry = AuditEntry.objects.get(action="harmonisation.conformity")
    assert entry.before == {"not_conforming": len(expected)}


CENTS = [0, 1, 5, 10, 25, 50, 99, 100, 305, 350, 1000, 1999, 2000]


def test_final_marks_are_stored_as_the_orm_wrote_them(academy_world):
    """R-MASS-12: a spread in cents is stored as the JSON floats `json.dumps` writes
    (3.0, 3.5, 0.25): read back as floats, and on PostgreSQL the same jsonb text."""
    world = academy_world
    scripts = world["scripts"][:2] + world["scripts"][3:]
    ids = np.array([script.pk for script in scripts], dtype=np.int64)
    # Rolled so that every value lands on every leaf of some script.
    for shift in range(len(CENTS)):
        spread = np.resize(np.roll(np.array(CENTS, dtype=np.int64), shift), (ids.size, 3))
        versions = dict(Script.objects.filter(pk__in=ids.tolist()).values_list("pk", "version"))
        final_marks_write(ids=ids, codes=CODES, spread=spread)
        for pk, row in zip(ids.tolist(), spread.tolist(), strict=True):
            script = Script.objects.get(pk=pk)
            expected = {code: cents / 100 for code, cents in zip(CODES, row, strict=True)}
            assert script.final_marks == expected
            assert all(type(value) is float for value in script.final_marks.values())
            assert script.version == versions[pk] + 1
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT final_marks::text = %s::jsonb::text FROM marking_script "
                        "WHERE id = %s",
                        [json.dumps(expected), pk],
                    )
                    assert cursor.fetchone() == (True,)


def test_leaves_that_cannot_hold_the_final_mark_refuse_it_all(academy_world):
    """R-MASS-12: a final mark above what the leaves can hold (data written around the
    rules) is an error, as `delta_spread` made it: nothing is written. The state still
    counts the script."""
    world = academy_world
    user = world["coordinator"]
    first, second = world["scripts"][:2]
    Script.objects.filter(pk=first.pk).update(delta=Decimal(1), final_mark=Decimal("15.5"))
    Script.objects.filter(pk=second.pk).update(delta=Decimal(2), final_mark=Decimal(21))
    with pytest.raises(ValueError, match="cannot hold"):
        conformity_apply(user=user, exam_code="FRA-ECRIT")
    assert not Script.objects.filter(final_marks__isnull=False).exists()
    assert conformity_state(user=user, exam_code="FRA-ECRIT")["not_conforming_count"] == 2
