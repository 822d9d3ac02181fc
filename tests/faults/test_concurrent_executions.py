"""Twenty coordinators of one academy execute overlapping harmonisations at once, on
PostgreSQL (R-MASS-3, R-MASS-9, R-MASS-10): never a candidate harmonised twice, never
half a harmonisation, one audit row per harmonisation.

Each coordinator simulates, waits for the others, executes; refused as stale because
another went first (409 `stale_simulation`), he simulates again and executes again, as
the editor lets him do, until his harmonisation is in. Services are called directly,
each thread on its own database connection.
"""

import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from harmonie.audit.models import AuditEntry
from harmonie.errors import Conflict
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect, Scenario
from harmonie.harmonisation.services import harmonisation_execute, simulation_create
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from tests.factories import BatchFactory, ScriptFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COORDINATORS = 20
SCRIPTS = 160
DEADLINE_SECONDS = 50


def _raise(points: float, **filter_: object) -> dict:
    return {"filter": filter_, "action": {"type": "raise", "points": points}}


def _lower(points: float, **filter_: object) -> dict:
    return {"filter": filter_, "action": {"type": "lower", "points": points}}


def _reset(**filter_: object) -> dict:
    return {"filter": filter_, "action": {"type": "reset"}}


# Overlapping populations: every script falls in the filters of several coordinators;
# some reset what others raised, so a script may be taken again after a reset.
SCENARIO_SETS = [
    [_raise(1)],
    [_lower(0.5, mark_min=8)],
    [_raise(2, mark_max=12)],
    [_raise(1, mark_part="P2", mark_min=5), _lower(1)],
    [_reset(mark_min=10)],
    [_raise(0.5, mark_min=6, mark_max=14)],
    [_lower(1.5, mark_min=14)],
    [_reset()],
    [_raise(3, mark_max=9), _raise(1)],
    [_lower(0.5, mark_part="P1", mark_min=6)],
    [_reset(mark_max=12), _raise(1, mark_min=12)],
    [_raise(1.5, mark_min=9, mark_max=16)],
    [_lower(2, mark_min=15)],
    [_raise(0.5)],
    [_reset(mark_min=5, mark_max=15)],
    [_raise(2, mark_part="P2", mark_max=4)],
    [_lower(1, mark_min=11), _raise(1)],
    [_raise(1, mark_min=7, mark_max=11)],
    [_reset(mark_part="P2", mark_min=6)],
    [_raise(0.5, mark_max=20)],
]


def _clamp(value: Decimal, maximum: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), maximum)


@pytest.fixture
def crowd(academy_world):
    """160 more locked scripts with marks spread over 0..20, 20 coordinators."""
    academy = academy_world["academy"]
    second = BatchFactory(exam=academy_world["exam"], academy=academy)
    for index in range(SCRIPTS):
        ScriptFactory(
            batch=academy_world["locked_batch"] if index % 2 else second,
            marks={"Q1": index % 5, "Q2": (index * 7) % 13 / 2, "P2": (index * 3) % 11},
        )
    coordinators = [academy_world["coordinator"]] + [
        UserFactory(coordinator=True, academy=academy) for _ in range(COORDINATORS - 1)
    ]
    return {**academy_world, "coordinators": coordinators}


def test_twenty_overlapping_executions_never_harmonise_a_candidate_twice(crowd):
    """R-MASS-10, R-MASS-9, R-MASS-3: 20 executions at once on overlapping populations; one
    runs per marks version, the others are refused (409) and succeed after simulating
    again; every script is harmonised by at most one raise/lower in force, its delta is
    the one of the harmonisation that took it last, each harmonisation is whole, and the
    audit rows match."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrous de lignes)")
    exam = crowd["exam"]
    academy = crowd["academy"]
    version_before = Exam.objects.get(pk=exam.pk).marks_version
    barrier = threading.Barrier(COORDINATORS)
    deadline = time.monotonic() + DEADLINE_SECONDS
    lock = threading.Lock()
    outcomes: dict[int, str] = {}
    first_round: list[str] = []
    refusals: Counter[str] = Counter()

    def run(index: int, user) -> None:
        try:
            attempt = 0
            while time.monotonic() < deadline:
                simulation = simulation_create(
                    user=user, exam_code=exam.code, scenarios=SCENARIO_SETS[index]
                )
                if attempt == 0:
                    barrier.wait(timeout=DEADLINE_SECONDS)
                try:
                    harmonisation_execute(
                        user=user,
                        exam_code=exam.code,
                        simulation_id=simulation.pk,
                        name=f"Harmonisation {index}",
                        scenarios=SCENARIO_SETS[index],
                    )
                    result = "executed"
                except Conflict as refused:
                    result = refused.code
                with lock:
                    if attempt == 0:
                        first_round.append(result)
                    if result != "executed":
                        refusals[result] += 1
                attempt += 1
                if result != "stale_simulation":
                    outcomes[index] = result
                    return
            outcomes[index] = "deadline"
        except Exception as error:  # reported by the assertion below, not lost in a thread
            outcomes[index] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, user))
        for index, user in enumerate(crowd["coordinators"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS + 30)

    assert outcomes == dict.fromkeys(range(COORDINATORS), "executed")
    # All 20 simulated the same marks version: exactly one of the simultaneous executions
    # ran, the 19 others were told their simulation was stale.
    assert sorted(first_round) == ["executed"] + ["stale_simulation"] * (COORDINATORS - 1)
    assert set(refusals) == {"stale_simulation"}

    harmonisations = list(Harmonisation.objects.filter(exam=exam).order_by("pk"))
    assert len(harmonisations) == COORDINATORS
    assert {h.author_id for h in harmonisations} == {u.pk for u in crowd["coordinators"]}
    assert Exam.objects.get(pk=exam.pk).marks_version == version_before + COORDINATORS

    # Each harmonisation whole: its effects are exactly what its scenarios say they applied.
    actions = {
        (s.harmonisation_id, s.position): s.action
        for s in Scenario.objects.filter(harmonisation__in=harmonisations)
    }
    effects = list(
        HarmonisationEffect.objects.filter(harmonisation__in=harmonisations).order_by(
            "harmonisation_id", "pk"
        )
    )
    per_scenario = Counter((e.harmonisation_id, e.scenario_position) for e in effects)
    for harmonisation in harmonisations:
        for scenario in harmonisation.scenarios.all():
            assert per_scenario[(harmonisation.pk, scenario.position)] == scenario.applied
    assert sum(per_scenario.values()) > SCRIPTS  # the populations really overlapped

    # Replay every script's effects in execution order (the exam row lock serialises the
    # harmonisations, so their ids are in that order): a raise/lower only on a script with
    # nothing in force, a reset only on one with something in force.
    scripts = {s.pk: s for s in Script.objects.filter(exam=exam, academy=academy)}
    by_script: dict[int, list[HarmonisationEffect]] = defaultdict(list)
    for effect in effects:
        by_script[effect.script_id].append(effect)
    maximum = exam.max_mark
    in_force_counts = Counter()
    for script_id, chain in by_script.items():
        script = scripts[script_id]
        assert script.locked
        assert script.special_mark is None
        delta, harmonised, in_force = Decimal(0), False, 0
        for effect in chain:
            action = actions[(effect.harmonisation_id, effect.scenario_position)]
            assert effect.initial_mark == script.initial_mark
            assert effect.delta_before == delta
            assert effect.final_mark == _clamp(script.initial_mark + effect.delta, maximum)
            if action == "reset":
                assert harmonised, f"script {script_id}: reset with nothing in force"
                delta, harmonised, in_force = Decimal(0), False, 0
                assert effect.delta == 0
            else:
                assert not harmonised, f"script {script_id} harmonised twice"
                delta, harmonised = effect.delta, True
                in_force += 1
                assert effect.delta == (1 if action == "raise" else -1) * abs(effect.delta)
        in_force_counts[in_force] += 1
        assert (script.delta, script.is_harmonised) == (delta, harmonised)
        assert script.final_mark == _clamp(script.initial_mark + script.delta, maximum)
    assert max(in_force_counts) <= 1
    # A script no harmonisation took is untouched.
    for script_id, script in scripts.items():
        if script_id not in by_script:
            assert (script.delta, script.is_harmonised) == (0, False)
            if script.initial_mark is not None:
                assert script.final_mark == script.initial_mark

    # One audit row per harmonisation, in the same transaction: versions chain 1 by 1.
    audits = list(
        AuditEntry.objects.filter(
            exam=exam, action__in=["harmonisation.executed", "harmonisation.cancelled"]
        ).order_by("pk")
    )
    assert [a.target_id for a in audits] == [str(h.pk) for h in harmonisations]
    assert [a.before["marks_version"] for a in audits] == list(
        range(version_before, version_before + COORDINATORS)
    )
    effect_counts = Counter(e.harmonisation_id for e in effects)
    for audit, harmonisation in zip(audits, harmonisations, strict=True):
        assert audit.actor_id == harmonisation.author_id
        assert audit.academy_id == academy.pk
        assert audit.after["scripts"] == effect_counts[harmonisation.pk]
        assert audit.after["name"] == harmonisation.name
        expected = "harmonisation.cancelled" if harmonisation.is_cancellation else None
        assert audit.action == (expected or "harmonisation.executed")
