"""The script list's cached answers follow every change they depend on (docs/decisions.md,
"Scale"): a cached count or row never outlives the marks it was read from."""

import pytest

from harmonie.harmonisation.services import (
    conformity_apply,
    harmonisation_execute,
    simulation_create,
)
from harmonie.marking.selectors import ListParams, script_list
from harmonie.scriptfilter import ScriptFilter

pytestmark = pytest.mark.django_db

RAISE_2 = {"filter": {}, "action": {"type": "raise", "points": 2}}


def _count(world, **params) -> int:
    page = script_list(
        user=world["coordinator"],
        exam=world["exam"],
        script_filter=ScriptFilter(),
        params=ListParams(**params),
    )
    return page.count


def test_not_conforming_count_follows_make_conforming(academy_world):
    """R-MASS-12: « Rendre conforme » spreads the leaves without bumping the marks version
    (simulations stay valid); the count of « non conformes » must drop to 0 all the same."""
    world = academy_world
    user = world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    assert _count(world, conforming=False) == 2
    assert _count(world, conforming=True) == 1
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == 2
    assert _count(world, conforming=False) == 0
    assert _count(world, conforming=True) == 3
