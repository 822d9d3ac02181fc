"""Concurrent executions on PostgreSQL (R-MASS-10): never twice, never half."""

import threading
from collections import Counter

import pytest
from django.db import connection

from harmonie.errors import Conflict
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from tests.factories import ScriptFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_overlapping_harmonisations_executed_at_the_same_moment(academy_world):
    """R-MASS-10, R-MASS-9, R-MASS-3: four coordinators execute overlapping simulations of
    the same marks version at once; exactly one runs, whole; the others get 409."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrous de lignes)")
    academy = academy_world["academy"]
    for index in range(40):
        ScriptFactory(
            batch=academy_world["locked_batch"],
            marks={"Q1": index % 5, "Q2": 3, "P2": index % 11},
        )
    users = [academy_world["coordinator"]] + [
        UserFactory(exam_officer=True, academy=academy) for _ in range(3)
    ]
    scenario_sets = [
        [{"filter": {}, "action": {"type": "raise", "points": 1}}],
        [{"filter": {"mark_min": 8}, "action": {"type": "lower", "points": 0.5}}],
        [{"filter": {"mark_max": 12}, "action": {"type": "raise", "points": 2}}],
        [
            {
                "filter": {"mark_part": "P2", "mark_min": 5},
                "action": {"type": "raise", "points": 1},
            },
            {"filter": {}, "action": {"type": "lower", "points": 1}},
        ],
    ]
    simulations = [
        simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
        for user, scenarios in zip(users, scenario_sets, strict=True)
    ]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def run(user, simulation):
        try:
            barrier.wait()
            harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
            outcomes.append("executed")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(user, simulation))
        for user, simulation in zip(users, simulations, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 3 + ["executed"]
    harmonisation = Harmonisation.objects.get()
    effects = HarmonisationEffect.objects.filter(harmonisation=harmonisation)
    per_script = Counter(effects.values_list("script_id", flat=True))
    assert per_script
    assert max(per_script.values()) == 1
    changed = set(
        Script.objects.filter(academy=academy, is_harmonised=True).values_list("pk", flat=True)
    )
    # Whole: every effect is in the scripts, and every harmonised script has its effect.
    assert changed == set(per_script)
    assert sum(s.applied for s in harmonisation.scenarios.all()) == len(per_script)
