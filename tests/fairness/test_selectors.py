"""Grader effects on an imported generated session (R-FAIR-1) and the proposal (R-FAIR-2)."""

from decimal import Decimal

import pytest
from django.http import QueryDict

from harmonie.errors import InvalidInput
from harmonie.fairness.selectors import (
    grader_proposal,
    grader_proposal_build,
    grader_severity,
    severity_query_parse,
)
from harmonie.harmonisation.selectors import scenario_population
from harmonie.referential.models import Exam

pytestmark = pytest.mark.django_db


def _exam() -> Exam:
    return Exam.objects.get(code="FRA-ECRIT")


def test_flags_are_exactly_the_generated_graders_beyond_tolerance(generated):
    """R-FAIR-1, done-when: on the generated session the flagged graders are exactly those
    the generator made severe or lenient (±3.5), each estimate near its offset."""
    user = generated["coordinator"]
    severity = grader_severity(user=user, exam=_exam())
    offsets = {g: generated["offsets"][g] for g in generated["academy_graders"]}
    assert {row.grader for row in severity.graders} == set(offsets)
    beyond = {g for g, offset in offsets.items() if abs(offset) > 2}
    assert len(beyond) >= 2
    assert {row.grader for row in severity.flagged} == beyond
    weights = {row.grader: row.scripts for row in severity.graders}
    centre = sum(offsets[g] * n for g, n in weights.items()) / sum(weights.values())
    for row in severity.graders:
        assert row.effect == pytest.approx(offsets[row.grader] - centre, abs=0.8)
        if row.grader in beyond:
            assert row.flag == ("lenient" if offsets[row.grader] > 0 else "severe")
    assert severity.tolerance == 2.0
    assert severity.as_dict()["graders"][0]["effect"] >= severity.as_dict()["graders"][-1]["effect"]


def test_per_part_tolerance_is_in_proportion_and_filters_apply(generated):
    """R-FAIR-1: per part, the tolerance follows the part's maximum; the statistics'
    filters narrow the scripts."""
    user = generated["coordinator"]
    exam = _exam()
    part = grader_severity(
        user=user, exam=exam, query=severity_query_parse(data={"part": "P1"}, exam=exam, user=user)
    )
    assert (part.tolerance, part.maximum) == (1.0, 10.0)
    assert part.count > 0
    locked = grader_severity(
        user=user,
        exam=exam,
        query=severity_query_parse(
            data=QueryDict("locked_only=1&subjects=SUJET-A"), exam=exam, user=user
        ),
    )
    whole = grader_severity(user=user, exam=exam)
    assert 0 < locked.count < whole.count / 2 + 100


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"part": "Z9"}, "partie « Z9 » inconnue"),
        ({"basis": "demain"}, "« demain » inconnu"),
        ({"part": "P1", "basis": "final"}, "note globale"),
        ({"colour": "bleu"}, "Filtre « colour » inconnu"),
    ],
)
def test_bad_parameters_are_refused_in_french(generated, data, message):
    with pytest.raises(InvalidInput, match=message):
        severity_query_parse(data=data, exam=_exam(), user=generated["coordinator"])


def test_proposal_lowers_lenient_and_raises_severe_graders_by_the_rounded_effect(generated):
    """R-FAIR-2: one scenario per flagged grader, filter on him alone, points = effect
    rounded towards zero to the 0.5 step; the scenarios are valid for the editor."""
    user = generated["coordinator"]
    exam = _exam()
    severity = {row.grader: row for row in grader_severity(user=user, exam=exam).graders}
    built = grader_proposal_build(user=user, exam=exam)
    scenarios = built["scenarios"]
    assert scenarios == grader_proposal(user=user, exam=exam)
    flagged = {g for g, row in severity.items() if row.flag in ("lenient", "severe")}
    assert {s["filter"]["graders"][0] for s in scenarios} == flagged
    for scenario in scenarios:
        row = severity[scenario["filter"]["graders"][0]]
        expected = (Decimal(str(abs(row.effect))) // Decimal("0.5")) * Decimal("0.5")
        assert scenario["action"] == {
            "type": "lower" if row.flag == "lenient" else "raise",
            "points": float(expected),
        }
    assert built["reason"]["code"] in ("grader_severity", "grader_leniency")
    assert all(s["filter"]["graders"][0] in built["reason"]["text"] for s in scenarios)
    counts = scenario_population(user=user, exam_code=exam.code, scenarios=scenarios)
    assert all(count["total"] > 0 for count in counts)


def test_after_harmonisation_basis_reads_final_marks(generated):
    """R-FAIR-1: `basis=final` estimates on the marks after harmonisation."""
    from harmonie.harmonisation.services import harmonisation_execute, simulation_create

    user = generated["coordinator"]
    exam = _exam()
    scenarios = grader_proposal(user=user, exam=exam)
    simulation = simulation_create(user=user, exam_code=exam.code, scenarios=scenarios)
    harmonisation_execute(user=user, exam_code=exam.code, simulation_id=simulation.pk)
    exam.refresh_from_db()
    initial = grader_severity(user=user, exam=exam)
    final = grader_severity(
        user=user,
        exam=exam,
        query=severity_query_parse(data={"basis": "final"}, exam=exam, user=user),
    )
    flagged = {row.grader for row in initial.flagged if row.flag != "to_review"}
    after = {row.grader: row for row in final.graders}
    assert flagged
    for grader in flagged:
        assert abs(after[grader].effect) < 1.5
