"""Mass harmonisation services and selectors against the database."""

from decimal import Decimal

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.errors import Conflict, Forbidden, InvalidInput, NotFound
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect, Simulation
from harmonie.harmonisation.selectors import (
    conformity_state,
    harmonisation_count,
    harmonisation_get,
    harmonisation_list,
    scenario_population,
)
from harmonie.harmonisation.services import (
    conformity_apply,
    harmonisation_execute,
    simulation_create,
)
from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.versions import marks_version_bump
from tests.factories import BatchFactory, ExamFactory, ScriptFactory, UserFactory

pytestmark = pytest.mark.django_db

RAISE_2 = {"filter": {}, "action": {"type": "raise", "points": 2}}


def _simulate_execute(user, scenarios, name=""):
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=scenarios)
    return harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, name=name
    )


def _marks(world):
    return [
        (s.final_mark, s.delta, s.is_harmonised)
        for s in Script.objects.filter(pk__in=[x.pk for x in world["scripts"]]).order_by("pk")
    ]


def test_population_counts_reasons(academy_world):
    """R-MASS-6, R-MASS-1b: total and non-harmonisable counts per reason, per scenario."""
    counts = scenario_population(
        user=academy_world["coordinator"],
        exam_code="FRA-ECRIT",
        scenarios=[RAISE_2, {"filter": {"mark_min": 15}, "action": {"type": "lower", "points": 1}}],
    )
    assert counts[0] == {
        "total": 4,
        "harmonisable": 2,
        "not_harmonisable": {
            "special_mark": 1,
            "batch_not_locked": 1,
            "already_harmonised": 0,
            "not_harmonised": 0,
        },
    }
    # R-MASS-6: scenario 2 is counted against the current data, not after scenario 1.
    assert counts[1]["total"] == 1
    assert counts[1]["harmonisable"] == 1


def test_simulation_then_execution(academy_world):
    """R-MASS-8, R-MASS-9, R-MARK-4: simulate, execute; effects, audit and version bump."""
    user = academy_world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    result = simulation.result
    assert sum(bar["count"] for bar in result["before"]) == 3  # CB has no mark
    assert result["scenarios"][0]["applied"] == 2
    after = {bar["mark"]: bar["count"] for bar in result["after"] if bar["count"]}
    assert after == {16.5: 1, 20.0: 1, 6.0: 1}
    version = Exam.objects.get(code="FRA-ECRIT").marks_version
    harmonisation = harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, name="Essai"
    )
    assert _marks(academy_world) == [
        (Decimal("16.5"), Decimal(2), True),
        (Decimal(20), Decimal(2), True),
        (None, Decimal(0), False),
        (Decimal(6), Decimal(0), False),
    ]
    effects = HarmonisationEffect.objects.filter(harmonisation=harmonisation).order_by("script_id")
    assert [(e.initial_mark, e.delta_before, e.delta, e.final_mark) for e in effects] == [
        (Decimal("14.5"), 0, 2, Decimal("16.5")),
        (Decimal(19), 0, 2, Decimal(20)),
    ]
    assert Exam.objects.get(code="FRA-ECRIT").marks_version == version + 1
    assert AuditEntry.objects.filter(action="harmonisation.executed").count() == 1
    assert not harmonisation.is_cancellation
    assert harmonisation_count(exam=academy_world["exam"], academy_id=user.academy_id) == 1
    # The other academy's script is untouched (R-ACC-1).
    academy_world["foreign_script"].refresh_from_db()
    assert academy_world["foreign_script"].delta == 0


def test_candidate_harmonised_once_across_harmonisations(academy_world):
    """R-MASS-3, R-MASS-10: a raised candidate is not raised again until reset."""
    user = academy_world["coordinator"]
    _simulate_execute(
        user, [{"filter": {"mark_max": 15}, "action": {"type": "raise", "points": 1}}]
    )
    second = _simulate_execute(user, [RAISE_2])
    scenario = second.scenarios.get()
    assert scenario.applied == 1
    assert scenario.skipped["already_harmonised"] == 1
    assert _marks(academy_world)[0] == (Decimal("15.5"), Decimal(1), True)


def test_reset_everything_is_a_cancellation(academy_world):
    """R-MASS-2, R-MASS-11: replaying a harmonisation as resets cancels it."""
    user = academy_world["coordinator"]
    first = _simulate_execute(user, [RAISE_2])
    replay = harmonisation_get(user=user, harmonisation_id=first.pk)["replay"]
    for scenario in replay:
        scenario["action"] = {"type": "reset"}
    cancellation = _simulate_execute(user, replay)
    assert cancellation.is_cancellation
    assert _marks(academy_world)[:2] == [
        (Decimal("14.5"), 0, False),
        (Decimal(19), 0, False),
    ]
    assert AuditEntry.objects.filter(action="harmonisation.cancelled").count() == 1


def test_history_newest_first_with_readable_filters(academy_world):
    """R-MASS-11: newest first, author's names, filters in French, action, counts."""
    user = academy_world["coordinator"]
    first = _simulate_execute(user, [RAISE_2], name="Première")
    second = _simulate_execute(
        user,
        [{"filter": {"mark_min": 10, "qualifications": ["STMG"]}, "action": {"type": "reset"}}],
    )
    history = harmonisation_list(user=user, exam_code="FRA-ECRIT")
    assert [h["id"] for h in history] == [second.pk, first.pk]
    assert history[1]["name"] == "Première"
    assert history[1]["author"]["last_name"] == user.last_name
    assert history[0]["scenarios"][0]["description"] == [
        ["Qualifications", "STMG"],
        ["Note min.", "10"],
    ]
    assert history[0]["scenarios"][0]["action_label"] == "Réinitialisation"
    assert history[1]["scenarios"][0]["action_label"] == "+ 2"
    assert history[1]["replay"] == [RAISE_2]


def test_stale_simulation_is_refused(academy_world):
    """R-MASS-9: marks changed since the simulation -> 409, nothing written."""
    user = academy_world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    _simulate_execute(
        user, [{"filter": {"mark_max": 15}, "action": {"type": "raise", "points": 1}}]
    )
    before = _marks(academy_world)
    with pytest.raises(Conflict) as error:
        harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    assert "relancez la simulation" in error.value.message
    assert _marks(academy_world) == before
    assert Harmonisation.objects.count() == 1


def test_edited_scenarios_need_a_new_simulation(academy_world):
    """R-MASS-9: scenarios edited after the simulation -> 409."""
    user = academy_world["coordinator"]
    simulation = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    edited = [{"filter": {}, "action": {"type": "raise", "points": 3}}]
    with pytest.raises(Conflict):
        harmonisation_execute(
            user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, scenarios=edited
        )
    harmonisation_execute(
        user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk, scenarios=[RAISE_2]
    )
    with pytest.raises(Conflict):
        harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=simulation.pk)


def test_foreign_simulation_is_not_found(academy_world):
    """R-MASS-9, R-ACC-1: another user's simulation cannot be executed."""
    simulation = simulation_create(
        user=academy_world["coordinator"], exam_code="FRA-ECRIT", scenarios=[RAISE_2]
    )
    other = UserFactory(exam_officer=True, academy=academy_world["academy"])
    with pytest.raises(NotFound):
        harmonisation_execute(user=other, exam_code="FRA-ECRIT", simulation_id=simulation.pk)
    with pytest.raises(NotFound):
        harmonisation_execute(user=other, exam_code="FRA-ECRIT", simulation_id=999999)


@pytest.mark.parametrize(
    ("scenarios", "message"),
    [
        ([], "au moins un scénario"),
        ([{"filter": {}, "action": {"type": "raise", "points": 0.3}}], "pas de l'épreuve"),
        ([{"filter": {}, "action": {"type": "raise", "points": -1}}], "positif"),
        ([{"filter": {}, "action": {"type": "lower", "points": 21}}], "note maximale"),
        ([{"filter": {}, "action": {"type": "lower"}}], "nombre de points"),
        ([{"filter": {}, "action": {"type": "double"}}], "inconnue"),
        ([{"filter": {"qualifications": ["ZZZ"]}, "action": {"type": "reset"}}], "ZZZ"),
        ([{"filter": {"departments": ["057"]}, "action": {"type": "reset"}}], "ponctuelle"),
        ([{"filter": {"mark_min": 30}, "action": {"type": "reset"}}], "Note min."),
    ],
)
def test_bad_scenarios_are_refused(academy_world, scenarios, message):
    """R-MASS-1, R-MASS-4: French message, nothing written."""
    with pytest.raises(InvalidInput) as error:
        simulation_create(
            user=academy_world["coordinator"], exam_code="FRA-ECRIT", scenarios=scenarios
        )
    assert message in error.value.message
    assert Simulation.objects.count() == 0


def test_harmonisation_only_filters(db):
    """R-MASS-4: a harmonisation-only exam filters on departments and schools."""
    exam = ExamFactory(code="PHILO-HO", harmonisation_only=True)
    script = ScriptFactory(batch=None, exam=exam, marks={"global": 12})
    user = UserFactory(coordinator=True, academy=script.academy)
    counts = scenario_population(
        user=user,
        exam_code="PHILO-HO",
        scenarios=[
            {
                "filter": {"departments": [script.department.code], "schools": [script.school.uai]},
                "action": {"type": "raise", "points": 1},
            }
        ],
    )
    assert counts[0]["harmonisable"] == 1
    with pytest.raises(InvalidInput, match="uniquement harmonisée"):
        scenario_population(
            user=user,
            exam_code="PHILO-HO",
            scenarios=[{"filter": {"graders": ["x"]}, "action": {"type": "reset"}}],
        )
    assert conformity_state(user=user, exam_code="PHILO-HO") == {
        "state": "conforming",
        "not_conforming_count": 0,
        "has_parts": False,
    }


def test_part_filtered_scenario_is_in_the_after_chart(academy_world):
    """R-MASS-8: a scenario filtering on a part's mark is included in the AFTER chart."""
    simulation = simulation_create(
        user=academy_world["coordinator"],
        exam_code="FRA-ECRIT",
        scenarios=[
            {"filter": {"mark_part": "P2", "mark_min": 8}, "action": {"type": "lower", "points": 1}}
        ],
    )
    after = {bar["mark"]: bar["count"] for bar in simulation.result["after"] if bar["count"]}
    assert after == {14.5: 1, 18.0: 1, 6.0: 1}
    assert simulation.result["scenarios"][0]["applied"] == 1


def test_display_filter_narrows_the_charts(academy_world):
    """R-MASS-8: academy-wide by default, narrowed by the display filter."""
    batch = academy_world["locked_batch"]
    simulation = simulation_create(
        user=academy_world["coordinator"],
        exam_code="FRA-ECRIT",
        scenarios=[RAISE_2],
        display={"batches": [batch.code]},
    )
    assert simulation.result["count"] == 2


@pytest.mark.parametrize("trait", ["grader", "school_head"])
def test_roles_without_mass_harmonisation(academy_world, trait):
    """R-ACC-1: graders and school heads cannot harmonise."""
    user = UserFactory(**{trait: True}, academy=academy_world["academy"])
    if trait == "grader":
        BatchFactory(exam=academy_world["exam"], academy=academy_world["academy"], grader=user)
    with pytest.raises((Forbidden, NotFound)):
        simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])


def test_member_needs_a_mission(academy_world):
    """R-ACC-1: a harmonisation member without a mission for the exam gets 404."""
    member = UserFactory(member=True, academy=academy_world["academy"])
    with pytest.raises(NotFound):
        scenario_population(user=member, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    member.missions.set([academy_world["exam"]])
    assert scenario_population(user=member, exam_code="FRA-ECRIT", scenarios=[RAISE_2])


def test_conformity(academy_world):
    """R-MASS-12: after a raise the parts no longer add up; make conforming spreads it."""
    user = academy_world["coordinator"]
    assert conformity_state(user=user, exam_code="FRA-ECRIT")["state"] == "conforming"
    _simulate_execute(user, [RAISE_2])
    assert conformity_state(user=user, exam_code="FRA-ECRIT") == {
        "state": "not_conforming",
        "not_conforming_count": 2,
        "has_parts": True,
    }
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == 2
    assert conformity_state(user=user, exam_code="FRA-ECRIT")["state"] == "conforming"
    script = Script.objects.get(pk=academy_world["scripts"][0].pk)
    # 14.5 -> 16.5: 4 half points over rooms of 2, 3 and 6 half points: quotas 0.73,
    # 1.09, 2.18; floors 0, 1, 2; the last half point to the largest remainder (Q1).
    assert script.final_marks == {"Q1": 3.5, "Q2": 5.0, "P2": 8.0}
    assert sum(Decimal(str(v)) for v in script.final_marks.values()) == script.final_mark
    assert conformity_apply(user=user, exam_code="FRA-ECRIT") == 0
    assert AuditEntry.objects.filter(action="harmonisation.conformity").count() == 1


def test_population_cache_follows_the_marks_version(academy_world):
    """R-MASS-9: a simulation after any mark change reads the new data, not the cache."""
    user = academy_world["coordinator"]
    first = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    Script.objects.filter(pk=academy_world["scripts"][0].pk).update(
        final_mark=Decimal(5), initial_mark=Decimal(5)
    )
    marks_version_bump(exam_id=first.exam_id, academy_ids=[first.academy_id])
    second = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    before = {bar["mark"]: bar["count"] for bar in second.result["before"] if bar["count"]}
    assert before == {5.0: 1, 19.0: 1, 6.0: 1}


def test_another_academys_harmonisation_leaves_my_simulation_valid(academy_world):
    """R-MASS-9, R-MASS-10: on a national paper, a change in another academy does not make
    this academy's simulation stale; a change in this academy does."""
    user = academy_world["coordinator"]
    mine = simulation_create(user=user, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    other = UserFactory(coordinator=True, academy=academy_world["other_academy"])
    theirs = simulation_create(user=other, exam_code="FRA-ECRIT", scenarios=[RAISE_2])
    harmonisation_execute(user=other, exam_code="FRA-ECRIT", simulation_id=theirs.pk)
    executed = harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=mine.pk)
    assert executed.pk
    again = simulation_create(
        user=user, exam_code="FRA-ECRIT", scenarios=[{"filter": {}, "action": {"type": "reset"}}]
    )
    marks_version_bump(exam_id=again.exam_id, academy_ids=[user.academy_id])
    with pytest.raises(Conflict):
        harmonisation_execute(user=user, exam_code="FRA-ECRIT", simulation_id=again.pk)
