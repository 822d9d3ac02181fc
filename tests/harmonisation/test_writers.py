"""The execution's bulk writes (issue 16): what PostgreSQL receives in binary, and the text
array parameters, read back exactly (R-MASS-9: the effects are what a cancellation
replays, so a mark off by a cent would undo the wrong amount)."""

from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection

from harmonie.harmonisation.engine import Population
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.harmonisation.writers import array_literal, effects_write
from harmonie.marking.models import Script

pytestmark = pytest.mark.django_db

CENTS = [0, 1, 25, 50, 99, 100, 1975, 2000, 999999]


def test_array_literal_is_postgresql_text():
    assert array_literal(np.array([3, -2, 0])) == "{3,-2,0}"
    assert array_literal(np.array([True, False])) == "{t,f}"
    assert array_literal(np.array([], dtype=np.int64)) == "{}"


def test_effects_have_no_index_by_script_alone():
    """Issue 16 item 1 (R-MASS-9): an execution's effects go in at the end of the
    (harmonisation, script) index; an index by script alone took a random insertion among
    every earlier effect. The explanation (R-TRUST-1) and the exact undo (R-MASS-14) read
    through that index. Read on the database's own catalogue, whatever the backend."""
    table = HarmonisationEffect._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    indexes = sorted(
        tuple(constraint["columns"])
        for constraint in constraints.values()
        if (constraint["index"] or constraint["unique"]) and not constraint["primary_key"]
    )
    assert indexes == [("harmonisation_id", "script_id")], indexes


def test_effects_read_back_exactly(academy_world):
    """Every value of an effect row (negative deltas, quarter points, the largest mark a
    numeric(6, 2) holds) reads back equal, through the binary COPY on PostgreSQL and the
    bulk insert elsewhere."""
    world = academy_world
    simulation = simulation_create(
        user=world["coordinator"],
        exam_code="FRA-ECRIT",
        scenarios=[{"filter": {}, "action": {"type": "raise", "points": 1}}],
    )
    harmonisation = Harmonisation.objects.create(
        exam=world["exam"],
        academy=world["academy"],
        author=world["coordinator"],
        simulation=simulation,
    )
    scripts = [*world["scripts"], world["foreign_script"]]
    size = len(scripts)
    values = np.resize(np.array(CENTS, dtype=np.int64), size * 5).reshape(5, size)
    signs = np.array([1, -1, 1, -1, 1])[:, None]
    values = values * np.where(np.arange(size) % 2, 1, signs)
    initial, delta_before, delta, final_before, final = values
    loaded = SimpleNamespace(
        ids=np.array([script.pk for script in scripts], dtype=np.int64),
        population=Population(
            initial=initial,
            delta=delta_before,
            final=final_before,
            numeric=np.ones(size, dtype=bool),
            is_harmonised=np.zeros(size, dtype=bool),
            locked=np.ones(size, dtype=bool),
        ),
    )
    outcome = SimpleNamespace(
        owner=np.arange(size) % 3, delta=delta, final=final, is_harmonised=np.ones(size, bool)
    )
    assert effects_write(harmonisation=harmonisation, loaded=loaded, outcome=outcome) == size
    rows = {
        effect.script_id: effect
        for effect in HarmonisationEffect.objects.filter(harmonisation=harmonisation)
    }

    def mark(cents) -> Decimal:
        return Decimal(int(cents)) / 100

    for index, script in enumerate(scripts):
        effect = rows[script.pk]
        assert effect.scenario_position == index % 3
        assert (
            effect.initial_mark,
            effect.delta_before,
            effect.delta,
            effect.final_mark_before,
            effect.final_mark,
        ) == tuple(mark(column[index]) for column in values), (connection.vendor, index)


def test_every_effect_names_a_script_of_the_harmonisation_academy(academy_world):
    """The effects table has no database-level foreign keys (issue 16: PostgreSQL checked
    one per row at commit), so the writer keeps the invariant itself: every effect names an
    existing script of the harmonisation's exam and academy, once (R-MASS-9)."""
    world = academy_world
    user = world["coordinator"]
    for action in ("raise", "reset"):
        simulation = simulation_create(
            user=user,
            exam_code="FRA-ECRIT",
            scenarios=[{"filter": {}, "action": {"type": action, "points": 1}}],
        )
        harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    effects = HarmonisationEffect.objects.select_related("harmonisation")
    assert effects.count() == 4
    scripts = {script.pk: script for script in Script.objects.all()}
    for effect in effects:
        script = scripts[effect.script_id]
        assert (script.exam_id, script.academy_id) == (
            effect.harmonisation.exam_id,
            effect.harmonisation.academy_id,
        )
    assert len({(e.harmonisation_id, e.script_id) for e in effects}) == 4


@pytest.mark.parametrize("path", ["effects join", "arrays"])
def test_scripts_written_from_effects_keep_each_scenario_flag(academy_world, monkeypatch, path):
    """R-MASS-9, R-MASS-3: one execution that resets a script and lowers another writes
    each script the delta, final mark and « harmonisé » flag of the scenario that took it.
    On PostgreSQL the UPDATE reads them from the effects just written (issue 16), or, when
    the engine's flags are not those of the owner scenarios' actions, from the arrays; the
    same state either way, and equal to the effects."""
    from harmonie.harmonisation import writers

    if path == "arrays":
        monkeypatch.setattr(writers, "_flags_are_the_owners", lambda **_kwargs: False)
    world = academy_world
    user = world["coordinator"]

    def execute(scenarios):
        simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
        return harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)

    first, second = world["scripts"][:2]  # 14.5 and 19 out of 20
    execute([{"filter": {"mark_max": 15}, "action": {"type": "raise", "points": 1}}])
    harmonisation = execute(
        [
            {"filter": {"mark_max": 16}, "action": {"type": "reset"}},
            {"filter": {}, "action": {"type": "lower", "points": 0.5}},
        ]
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.delta, first.final_mark, first.is_harmonised) == (
        Decimal("0.00"),
        Decimal("14.50"),
        False,
    )
    assert (second.delta, second.final_mark, second.is_harmonised) == (
        Decimal("-0.50"),
        Decimal("18.50"),
        True,
    )
    effects = {
        e.script_id: e for e in HarmonisationEffect.objects.filter(harmonisation=harmonisation)
    }
    assert set(effects) == {first.pk, second.pk}
    for script in (first, second):
        assert (effects[script.pk].delta, effects[script.pk].final_mark) == (
            script.delta,
            script.final_mark,
        )
    assert (first.version, second.version) == (3, 2)
