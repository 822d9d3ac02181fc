"""Exact cancellation: scenario mark filters read the initial mark (R-MASS-4b), the seed's
history example replayed and cancelled, the exact undo (R-MASS-14), reasons (R-FAIR-5),
threshold crossings (R-FAIR-3), A/B comparison (R-FAIR-4), the optimistic version of a
script moving with harmonisation, class divisions in harmonisation-only scenarios."""

import random
from decimal import Decimal

import pytest

from harmonie.audit.models import AuditEntry
from harmonie.errors import Conflict, InvalidInput, NotFound
from harmonie.harmonisation.models import Harmonisation, HarmonisationEffect, Simulation
from harmonie.harmonisation.selectors import harmonisation_get, scenario_population
from harmonie.harmonisation.services import (
    comparison_create,
    harmonisation_execute,
    simulation_create,
    undo_simulation_create,
)
from harmonie.marking.models import Script
from harmonie.marking.services import script_marking_update
from tests.factories import (
    AcademyFactory,
    CandidateFactory,
    ClassGroupFactory,
    DepartmentFactory,
    ExamFactory,
    QualificationFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXAM = "FRA-HO"


@pytest.fixture
def seed_world(db):
    """The seed's June 2020 example: « Ecrit Français toutes séries », harmonisation only,
    departments 057 and 088, school 0880055G, qualifications STMG, TMD, STD2A (and GEN)."""
    exam = ExamFactory(code=EXAM, harmonisation_only=True, label="Ecrit Français toutes séries")
    academy = AcademyFactory(code="NANCY-METZ", label="Nancy-Metz")
    moselle = DepartmentFactory(code="057", label="Moselle", academy=academy)
    vosges = DepartmentFactory(code="088", label="Vosges", academy=academy)
    schools = [
        SchoolFactory(uai="0570001A", department=moselle),
        SchoolFactory(uai="0570002B", department=moselle),
        SchoolFactory(uai="0880055G", department=vosges),
        SchoolFactory(uai="0880056H", department=vosges),
    ]
    qualifications = [
        QualificationFactory(code=code, label=code) for code in ("STMG", "TMD", "STD2A", "GEN")
    ]
    generator = random.Random(2020)
    scripts = []
    for index in range(120):
        school = schools[index % 4]
        candidate = CandidateFactory(
            school=school,
            qualification=qualifications[generator.randrange(4)],
            class_group=ClassGroupFactory(school=school, code=f"T{index % 3}"),
        )
        mark = Decimal(generator.randrange(0, 41)) / 2
        scripts.append(
            ScriptFactory(batch=None, exam=exam, candidate=candidate, marks={"global": float(mark)})
        )
    ScriptFactory(batch=None, exam=exam, special_mark="CB", marks={})
    coordinator = UserFactory(
        username="coord.nm",
        first_name="Sabrina",
        last_name="Antonioli",
        coordinator=True,
        academy=academy,
    )
    return {"exam": exam, "coordinator": coordinator, "scripts": scripts}


def _run(user, scenarios, *, replays=None, name=""):
    simulation = simulation_create(user=user, exam_code=EXAM, scenarios=scenarios, replays=replays)
    harmonisation = harmonisation_execute(
        user=user, exam_code=EXAM, simulation_id=simulation.pk, name=name
    )
    return simulation, harmonisation


def _finals() -> dict[int, Decimal | None]:
    return dict(Script.objects.filter(exam__code=EXAM).values_list("pk", "final_mark"))


def _initials() -> dict[int, Decimal | None]:
    return dict(Script.objects.filter(exam__code=EXAM).values_list("pk", "initial_mark"))


def _expected_first(world) -> dict[int, Decimal]:
    """The seed's first harmonisation computed by hand, first match wins (R-MASS-3)."""
    expected = {}
    for script in world["scripts"]:
        department = script.department.code
        qualification = script.qualification.code
        initial = script.initial_mark
        delta = Decimal(0)
        if department == "057" and initial <= 10:
            delta = Decimal(2)
        elif (
            department == "088"
            and script.school.uai == "0880055G"
            and qualification in ("STMG", "TMD", "STD2A")
        ):
            delta = Decimal(3)
        elif department == "088" and qualification == "STMG":
            delta = Decimal(2)
        expected[script.pk] = min(initial + delta, Decimal(20))
    return expected


SEED_FIRST = [
    {"filter": {"departments": ["057"], "mark_max": 10}, "action": {"type": "raise", "points": 2}},
    {
        "filter": {
            "departments": ["088"],
            "schools": ["0880055G"],
            "qualifications": ["STMG", "TMD", "STD2A"],
        },
        "action": {"type": "raise", "points": 3},
    },
    {
        "filter": {"departments": ["088"], "qualifications": ["STMG"]},
        "action": {"type": "raise", "points": 2},
    },
]


def test_seed_history_replayed_cancellation_is_exact(seed_world):
    """R-MASS-4b, R-MASS-2, R-MASS-11: the seed's history example (057 ≤ 10 +2; 088 0880055G
    STMG/TMD/STD2A +3; 088 STMG +2; its cancellation by « Rejouer » and resets; then 057 +2)
    leaves every candidate exactly where the rules say, the cancellation at the initial mark."""
    user = seed_world["coordinator"]
    initials = _initials()
    _, first = _run(user, SEED_FIRST, name="Première")
    expected = _expected_first(seed_world)
    finals = _finals()
    assert {pk: finals[pk] for pk in expected} == expected
    # Raised from 9 to 11: the replay's « ≤ 10 » still matches them (initial mark).
    raised_over = [
        s for s in seed_world["scripts"] if s.department.code == "057" and 9 <= s.initial_mark <= 10
    ]
    assert raised_over, "the example needs candidates raised past the bound"

    replay = harmonisation_get(user=user, harmonisation_id=first.pk)["replay"]
    for scenario in replay:
        scenario["action"] = {"type": "reset"}
    simulation, cancellation = _run(user, replay, replays=first.pk)
    assert simulation.result["replay_leftover"] == {"harmonisation": first.pk, "count": 0}
    assert cancellation.is_cancellation
    assert _finals() == initials
    assert not Script.objects.filter(exam__code=EXAM, is_harmonised=True).exists()
    # Every candidate the first one changed was reset by the replay.
    changed = HarmonisationEffect.objects.filter(harmonisation=first).count()
    reset = HarmonisationEffect.objects.filter(harmonisation=cancellation).count()
    assert changed == reset > 0

    _run(user, [{"filter": {"departments": ["057"]}, "action": {"type": "raise", "points": 2}}])
    finals = _finals()
    for script in seed_world["scripts"]:
        bonus = Decimal(2) if script.department.code == "057" else Decimal(0)
        assert finals[script.pk] == min(script.initial_mark + bonus, Decimal(20))


def test_population_counts_read_the_initial_mark(seed_world):
    """R-MASS-4b, R-MASS-6: a candidate raised past the bound still matches it on his initial
    mark, and is counted `already_harmonised`."""
    user = seed_world["coordinator"]
    scenario = {
        "filter": {"departments": ["057"], "mark_max": 10},
        "action": {"type": "raise", "points": 2},
    }
    before = scenario_population(user=user, exam_code=EXAM, scenarios=[scenario])[0]
    _run(user, [scenario])
    after = scenario_population(user=user, exam_code=EXAM, scenarios=[scenario])[0]
    assert after["total"] == before["total"]
    assert after["harmonisable"] == 0
    assert after["not_harmonisable"]["already_harmonised"] == before["harmonisable"]


def test_display_filter_reads_the_final_mark(seed_world):
    """R-MASS-4b: the simulation's display filter reads the final mark."""
    user = seed_world["coordinator"]
    _run(user, [{"filter": {"departments": ["057"]}, "action": {"type": "raise", "points": 2}}])
    over_18 = Script.objects.filter(exam__code=EXAM, final_mark__gte=18).count()
    simulation = simulation_create(
        user=user,
        exam_code=EXAM,
        scenarios=[{"filter": {}, "action": {"type": "reset"}}],
        display={"mark_min": 18},
    )
    assert simulation.result["count"] == over_18


def test_class_divisions_filter_harmonisation_only_scenarios(seed_world):
    """R-MASS-4: harmonisation-only scenarios accept class divisions; history shows them."""
    user = seed_world["coordinator"]
    _, harmonisation = _run(
        user,
        [
            {
                "filter": {"schools": ["0570001A"], "class_groups": ["T1"]},
                "action": {"type": "raise", "points": 1},
            }
        ],
    )
    matched = [
        s
        for s in seed_world["scripts"]
        if s.school.uai == "0570001A" and s.class_group.code == "T1"
    ]
    assert harmonisation.scenarios.get().applied == len(matched) > 0
    described = harmonisation_get(user=user, harmonisation_id=harmonisation.pk)["scenarios"][0]
    assert ["Divisions de classe", "T1"] in described["description"]


def test_exact_undo_after_a_unit_edit(seed_world):
    """R-MASS-14: a unit edit moved a candidate out of the scenario's mark filter; the
    replayed cancellation leaves him harmonised and says so; the exact undo resets him,
    and the history links both ways."""
    user = seed_world["coordinator"]
    scenario = {
        "filter": {"departments": ["057"], "mark_max": 10},
        "action": {"type": "raise", "points": 2},
    }
    _, first = _run(user, [scenario], name="Moselle")
    moved = next(
        s for s in seed_world["scripts"] if s.department.code == "057" and s.initial_mark <= 9
    )
    # The exam office's colleague corrects his global mark to 12: out of « ≤ 10 ».
    script_marking_update(
        user=user,
        public_id=moved.public_id,
        marks={"global": 12},
        special_mark=None,
        annotations=None,
    )
    replay = [{"filter": scenario["filter"], "action": {"type": "reset"}}]
    leftover = simulation_create(user=user, exam_code=EXAM, scenarios=replay, replays=first.pk)
    assert leftover.result["replay_leftover"]["count"] == 1

    undo = undo_simulation_create(user=user, harmonisation_id=first.pk)
    applied = first.scenarios.get().applied
    assert undo.result["scenarios"][0]["applied"] == applied
    assert undo.result["undo"]["scenarios"] == [{"scenario": 1, "scripts": applied, "points": -2.0}]
    cancellation = harmonisation_execute(
        user=user,
        exam_code=EXAM,
        simulation_id=undo.pk,
        reason={"code": "other", "text": "Erreur de filtre"},
    )
    assert cancellation.is_cancellation
    assert cancellation.cancels_id == first.pk
    assert not Script.objects.filter(exam__code=EXAM, is_harmonised=True).exists()
    moved.refresh_from_db()
    assert moved.final_mark == Decimal(12)
    history = harmonisation_get(user=user, harmonisation_id=first.pk)
    assert history["cancelled_by"]["id"] == cancellation.pk
    assert harmonisation_get(user=user, harmonisation_id=cancellation.pk)["cancels"] == first.pk
    assert AuditEntry.objects.filter(action="harmonisation.cancelled").count() == 1

    # R-MASS-14: undoing it again is refused, nothing written.
    count = Harmonisation.objects.count()
    with pytest.raises(Conflict) as error:
        undo_simulation_create(user=user, harmonisation_id=first.pk)
    assert error.value.code == "already_undone"
    with pytest.raises(Conflict):
        harmonisation_execute(user=user, exam_code=EXAM, simulation_id=undo.pk)
    assert Harmonisation.objects.count() == count


def test_undo_leaves_alone_what_a_later_harmonisation_took(seed_world):
    """R-MASS-14: only the scripts that still carry this harmonisation's delta go back."""
    user = seed_world["coordinator"]
    _, first = _run(
        user, [{"filter": {"departments": ["057"]}, "action": {"type": "raise", "points": 1}}]
    )
    # A later harmonisation resets school 0570001A and raises it by 3.
    _run(user, [{"filter": {"schools": ["0570001A"]}, "action": {"type": "reset"}}])
    _run(user, [{"filter": {"schools": ["0570001A"]}, "action": {"type": "raise", "points": 3}}])
    undo = undo_simulation_create(user=user, harmonisation_id=first.pk)
    harmonisation_execute(user=user, exam_code=EXAM, simulation_id=undo.pk)
    for script in Script.objects.filter(exam__code=EXAM, department__code="057"):
        bonus = Decimal(3) if script.school.uai == "0570001A" else Decimal(0)
        assert script.final_mark == min(script.initial_mark + bonus, Decimal(20))


def test_undo_refusals(seed_world):
    """R-MASS-14, R-ACC-1: a cancellation is not undone, another academy's harmonisation is
    404, a stale undo simulation is 409; nothing written."""
    user = seed_world["coordinator"]
    _, first = _run(user, [{"filter": {}, "action": {"type": "raise", "points": 1}}])
    undo = undo_simulation_create(user=user, harmonisation_id=first.pk)
    _, cancellation = _run(
        user, [{"filter": {"departments": ["088"]}, "action": {"type": "reset"}}]
    )
    with pytest.raises(Conflict) as error:
        undo_simulation_create(user=user, harmonisation_id=cancellation.pk)
    assert error.value.code == "not_undoable"
    with pytest.raises(Conflict) as error:
        harmonisation_execute(user=user, exam_code=EXAM, simulation_id=undo.pk)
    assert error.value.code == "stale_simulation"
    stranger = UserFactory(coordinator=True, academy=AcademyFactory(code="STRASBOURG"))
    with pytest.raises(NotFound):
        undo_simulation_create(user=stranger, harmonisation_id=first.pk)
    with pytest.raises(NotFound):
        undo_simulation_create(user=user, harmonisation_id="abc")
    assert Harmonisation.objects.count() == 2


def test_reason_is_recorded_and_validated(seed_world):
    """R-FAIR-5: reason code from the fixed list, text optional; absent means `other`."""
    user = seed_world["coordinator"]
    simulation = simulation_create(
        user=user,
        exam_code=EXAM,
        scenarios=[{"filter": {}, "action": {"type": "raise", "points": 1}}],
    )
    with pytest.raises(InvalidInput, match="inconnu"):
        harmonisation_execute(
            user=user, exam_code=EXAM, simulation_id=simulation.pk, reason={"code": "whim"}
        )
    harmonisation = harmonisation_execute(
        user=user,
        exam_code=EXAM,
        simulation_id=simulation.pk,
        reason={"code": "subject_difficulty", "text": "Sujet B plus long"},
    )
    shown = harmonisation_get(user=user, harmonisation_id=harmonisation.pk)
    assert shown["reason"] == {
        "code": "subject_difficulty",
        "label": "Difficulté du sujet",
        "text": "Sujet B plus long",
    }
    _, plain = _run(user, [{"filter": {}, "action": {"type": "reset"}}])
    assert plain.reason_code == "other"


def test_crossings_list_who_crosses_each_threshold(seed_world):
    """R-FAIR-3: per threshold, how many cross up and down, and which (anonymous ids)."""
    user = seed_world["coordinator"]
    simulation = simulation_create(
        user=user,
        exam_code=EXAM,
        scenarios=[{"filter": {}, "action": {"type": "raise", "points": 1}}],
    )
    crossings = {c["threshold"]: c for c in simulation.result["crossings"]}
    assert list(crossings) == [8.0, 10.0, 12.0, 14.0, 16.0]
    expected = sorted(s.public_id for s in seed_world["scripts"] if 9 <= s.initial_mark < 10)
    assert crossings[10.0]["scripts_up"] == expected
    assert crossings[10.0]["up"] == len(expected)
    assert crossings[10.0]["down"] == 0


def test_comparison_of_two_drafts(seed_world):
    """R-FAIR-4: A and B on the same data; either can be executed; `differ` counts the
    candidates whose final mark differs."""
    user = seed_world["coordinator"]
    a = {
        "scenarios": [
            {"filter": {"departments": ["057"]}, "action": {"type": "raise", "points": 1}}
        ]
    }
    b = {"scenarios": [{"filter": {}, "action": {"type": "raise", "points": 1}}]}
    comparison = comparison_create(user=user, exam_code=EXAM, a=a, b=b)
    changed_in_088 = sum(
        1 for s in seed_world["scripts"] if s.department.code == "088" and s.initial_mark < 20
    )
    assert comparison.differ == changed_in_088
    assert comparison.a.result["count"] == comparison.b.result["count"]
    harmonisation_execute(user=user, exam_code=EXAM, simulation_id=comparison.b.pk)
    with pytest.raises(Conflict):
        harmonisation_execute(user=user, exam_code=EXAM, simulation_id=comparison.a.pk)
    with pytest.raises(InvalidInput, match="Version B"):
        comparison_create(user=user, exam_code=EXAM, a=a, b={"scenarios": []})
    assert Simulation.objects.count() == 2


def test_edit_with_a_version_read_before_a_harmonisation_is_stale(seed_world):
    """R-UNIT-4, R-MASS-9: the optimistic version of a script moves with harmonisation, so an
    edit prepared on the marks read before it is refused 409 `stale_version`."""
    user = seed_world["coordinator"]
    script = seed_world["scripts"][0]
    read_version = Script.objects.get(pk=script.pk).version
    _run(user, [{"filter": {}, "action": {"type": "raise", "points": 1}}])
    assert Script.objects.get(pk=script.pk).version == read_version + 1
    with pytest.raises(Conflict) as error:
        script_marking_update(
            user=user,
            public_id=script.public_id,
            marks={"global": 5},
            special_mark=None,
            annotations=None,
            version=read_version,
        )
    assert error.value.code == "stale_version"
    assert Script.objects.get(pk=script.pk).initial_mark == script.initial_mark
