"""Explanations of real harmonisations (R-TRUST-1): built with the services a coordinator
uses (unit edit, simulation, execution, conformity), read back by the selector, the API
and the viewer's block."""

from decimal import Decimal

import pytest
from django.utils import timezone

from harmonie.explanation.selectors import script_explanation, scripts_explained
from harmonie.explanation.wording import MINUS
from harmonie.harmonisation.services import (
    conformity_apply,
    harmonisation_execute,
    simulation_create,
    undo_simulation_create,
)
from harmonie.marking.models import Script
from harmonie.marking.services import script_marking_update
from tests.conftest import login_client
from tests.factories import (
    BatchFactory,
    CandidateFactory,
    DepartmentFactory,
    ExamFactory,
    SchoolFactory,
    ScriptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

EXAM = "FRA-ECRIT"
PHILO = "PHILO"


@pytest.fixture
def moselle():
    """The rule's example on the two kinds of exam. A harmonisation-only exam (marks from
    school records, filtered by department: R-MASS-4): a mark of 8 edited to 9 by
    Antonioli, « Moselle » raises department 057 marked at most 10 by 2 points. A marked
    exam graded by Dupont, with parts (clamp, conformity, special mark)."""
    exam = ExamFactory(code=EXAM)
    batch = BatchFactory(
        exam=exam,
        academy__code="NANCY-METZ",
        grader=UserFactory(grader=True, first_name="Marc", last_name="Dupont", username="dupont"),
    )
    academy = batch.academy
    moselle = DepartmentFactory(code="057", label="Moselle", academy=academy)
    vosges = DepartmentFactory(code="088", label="Vosges", academy=academy)
    philo = ExamFactory(code=PHILO, harmonisation_only=True)

    def candidate(department):
        return CandidateFactory(school=SchoolFactory(department=department))

    def marked(marks, **extra):
        return ScriptFactory(batch=batch, candidate=candidate(moselle), marks=marks, **extra)

    def school_record(department, mark):
        return ScriptFactory(
            batch=None, exam=philo, candidate=candidate(department), marks={"global": mark}
        )

    coordinator = UserFactory(
        username="s.antonioli",
        first_name="Sabrina",
        last_name="Antonioli",
        coordinator=True,
        academy=academy,
    )
    return {
        "exam": exam,
        "coordinator": coordinator,
        "edited": school_record(moselle, 8),  # edited to 9, then raised to 11
        "moselle_high": school_record(moselle, 15),  # above 10: not matched
        "vosges": school_record(vosges, 6),  # another department: not matched
        "high": marked({"Q1": 4, "Q2": 6, "P2": 9.5}),  # 19.5
        "low": marked({"Q1": 2, "Q2": 2, "P2": 2}),  # 6
        "blank": marked({}, special_mark="CB"),
    }


def _execute(user, scenarios, name="", exam=EXAM, reason=None):
    simulation = simulation_create(user=user, exam_code=exam, scenarios=scenarios)
    return harmonisation_execute(
        user=user, exam_code=exam, simulation_id=simulation.pk, name=name, reason=reason
    )


def _day(at) -> str:
    return timezone.localtime(at).strftime("%d/%m")


MOSELLE = {
    "filter": {"departments": ["057"], "mark_max": 10},
    "action": {"type": "raise", "points": 2},
}


def test_the_rules_example_from_real_services(moselle):
    """R-TRUST-1: « 11 = 9 (…, modifiée par S. Antonioli le …) + 2 (harmonisation « Moselle »
    du …, scénario 1 : département 057, note ≤ 10) », with the reason (R-FAIR-5)."""
    user = moselle["coordinator"]
    script_marking_update(
        user=user,
        public_id=moselle["edited"].public_id,
        marks={"global": 9},
        special_mark=None,
        annotations=None,
    )
    harmonisation = _execute(
        user,
        [MOSELLE],
        name="Moselle",
        exam=PHILO,
        reason={"code": "grader_severity", "text": "notes du lycée basses"},
    )
    script = Script.objects.get(pk=moselle["edited"].pk)
    assert script.final_mark == Decimal(11)
    explanation = script_explanation(script=script)
    edit = script.versions.filter(author=user).order_by("-number").first()
    assert explanation.text == (
        f"11 = 9 (note importée, modifiée par S. Antonioli le {_day(edit.created_at)}) + 2 "
        f"(harmonisation « Moselle » du {_day(harmonisation.executed_at)} par S. Antonioli, "
        "motif : sévérité d'un correcteur (notes du lycée basses), scénario 1 : "
        "département 057, note ≤ 10)"
    )
    steps = explanation.steps_as_dicts()
    assert [step["kind"] for step in steps] == ["marking", "unit_edit", "harmonisation"]
    marking, unit_edit, raised = steps
    assert marking["mark"] == marking["points"] == 9.0
    assert unit_edit["author"] == {"first_name": "Sabrina", "last_name": "Antonioli"}
    assert unit_edit["mark_before"] == 8.0
    assert unit_edit["points"] == 0.0
    assert raised["harmonisation"] == harmonisation.pk
    assert raised["name"] == "Moselle"
    assert raised["scenario"] == 1
    assert raised["filter"] == {"departments": ["057"], "mark_max": 10.0}
    assert raised["action"] == {"type": "raise", "points": 2.0}
    assert raised["delta"] == 2.0
    assert raised["reason"]["code"] == "grader_severity"
    assert explanation.total() == script.final_mark
    # Scripts the scenario did not take say so.
    for key, mark in (("moselle_high", "15"), ("vosges", "6")):
        untouched = script_explanation(script=moselle[key])
        assert untouched.text == f"{mark} (note importée), sans harmonisation"


def test_clamp_conformity_reset_on_a_marked_exam(moselle):
    """R-TRUST-1: a raise clamped at the maximum, the spread over the parts once made
    conforming (R-MASS-12), then its cancellation (a negative step): the steps add up at
    each stage; the special mark has no numbers."""
    user = moselle["coordinator"]
    everyone = {"filter": {"mark_min": 5}, "action": {"type": "raise", "points": 2}}
    first = _execute(user, [everyone], name="Tous")
    high = Script.objects.get(pk=moselle["high"].pk)
    assert high.final_mark == Decimal(20)
    explained = script_explanation(script=high)
    assert [(s.kind, s.points) for s in explained.steps] == [
        ("marking", Decimal("19.5")),
        ("harmonisation", Decimal(2)),
        ("clamp", Decimal("-1.5")),
        ("conformity", Decimal(0)),
    ]
    assert explained.text == (
        f"20 = 19,5 (copie corrigée par M. Dupont) + 2 (harmonisation « Tous » du "
        f"{_day(first.executed_at)} par S. Antonioli, scénario 1 : note ≥ 5) "
        f"{MINUS} 1,5 (note ramenée au maximum de 20) ; parties pas encore mises en "
        "conformité avec la note finale"
    )

    conformity_apply(user=user, exam_code=EXAM)
    low = Script.objects.get(pk=moselle["low"].pk)
    spread = script_explanation(script=low)
    assert spread.steps[-1].state == "conforming"
    assert sum(spread.steps[-1].spread.values()) == Decimal(2)
    assert "; répartie sur les parties : " in spread.text
    assert spread.total() == low.final_mark == Decimal(8)

    # R-MASS-14: the exact undo from the history, through its simulation.
    undo = undo_simulation_create(user=user, harmonisation_id=first.pk)
    second = harmonisation_execute(user=user, exam_code=EXAM, simulation_id=undo.pk, name="Retour")
    assert second.cancels_id == first.pk
    high.refresh_from_db()
    assert high.final_mark == Decimal("19.5")
    after = script_explanation(script=high)
    assert [(s.kind, s.points, s.harmonisation) for s in after.steps] == [
        ("marking", Decimal("19.5"), None),
        ("harmonisation", Decimal(2), first.pk),
        ("harmonisation", Decimal(-2), second.pk),
    ]
    assert after.total() == Decimal("19.5")
    assert after.text.endswith(
        f"{MINUS} 2 (annulation « Retour » du {_day(second.executed_at)} par S. Antonioli, "
        f"qui annule l'harmonisation « Tous » du {_day(first.executed_at)}, scénario 1 "
        "(réinitialisation) : note ≥ 5)"
    )
    blank = script_explanation(script=moselle["blank"])
    assert blank.text == (
        "CB (copie blanche) : note particulière (copie corrigée par M. Dupont), jamais harmonisée"
    )
    assert all(step.points is None for step in blank.steps)


def test_bulk_explanations_take_a_fixed_number_of_queries(moselle, django_assert_max_num_queries):
    """R-TRUST-1: the list export's bulk read does not query once per script."""
    user = moselle["coordinator"]
    batch = moselle["high"].batch
    for index in range(30):
        ScriptFactory(batch=batch, marks={"Q1": 1, "Q2": index % 6, "P2": 2})
    _execute(user, [{"filter": {}, "action": {"type": "raise", "points": 1}}], name="Tous")
    _execute(user, [{"filter": {}, "action": {"type": "reset"}}], name="Annulation")
    _execute(user, [{"filter": {"mark_max": 8}, "action": {"type": "lower", "points": 1}}])
    scripts = Script.objects.filter(exam=moselle["exam"])
    with django_assert_max_num_queries(7):
        explained = scripts_explained(scripts=scripts)
    assert len(explained) == scripts.count() == 33
    for script in scripts:
        explanation = explained[script.public_id]
        if script.final_mark is not None:
            assert explanation.total() == script.final_mark


def test_api_script_has_explanation(moselle, client, api_token):
    """R-TRUST-1, API.md Additions: `explanation` and `explanation_text` on GET /scripts/{id},
    no candidate identity (R-UNIT-2)."""
    user = moselle["coordinator"]
    harmonisation = _execute(user, [MOSELLE], name="Moselle", exam=PHILO)
    script = moselle["edited"]
    token = api_token(user)
    response = client.get(
        f"/api/v1/scripts/{script.public_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["final_mark"] == 10.0
    assert body["explanation_text"] == (
        f"10 = 8 (note importée) + 2 (harmonisation « Moselle » du "
        f"{_day(harmonisation.executed_at)} par S. Antonioli, scénario 1 : département 057, "
        "note ≤ 10)"
    )
    assert [step["kind"] for step in body["explanation"]] == ["marking", "harmonisation"]
    raised = body["explanation"][1]
    assert raised["harmonisation"] == harmonisation.pk
    assert raised["scenario"] == 1
    assert raised["points"] == raised["delta"] == 2.0
    assert raised["author"] == {"first_name": "Sabrina", "last_name": "Antonioli"}
    assert raised["filter_description"] == [["Départements", "057"], ["Note max.", "10"]]
    assert sum(step["points"] for step in body["explanation"]) == body["final_mark"]
    assert script.candidate.number not in response.content.decode()
    # The contract keeps the fields marking served before.
    for key in ("marks", "final_marks", "initial_mark", "delta", "history", "pages", "version"):
        assert key in body
    marked = client.get(
        f"/api/v1/scripts/{moselle['blank'].public_id}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert marked["explanation"][0]["special_mark"] == "CB"
    assert marked["explanation"][0]["grader"] == {"first_name": "Marc", "last_name": "Dupont"}


def test_viewer_block_shows_the_steps(moselle):
    """R-TRUST-1: the viewer loads « D'où vient cette note ? » from the explanation block;
    out of scope is 404 (R-ACC-1)."""
    user = moselle["coordinator"]
    _execute(user, [MOSELLE], name="Moselle", exam=PHILO)
    client = login_client(user)
    script = moselle["edited"]
    viewer = client.get(f"/copies/{script.public_id}/").content.decode()
    assert "D'où vient cette note ?" in viewer
    assert f'hx-get="/copies/{script.public_id}/explication/"' in viewer
    block = client.get(f"/copies/{script.public_id}/explication/", headers={"HX-Request": "true"})
    assert block.status_code == 200
    html = block.content.decode()
    assert "<html" not in html  # the fragment the viewer swaps in
    assert "10 = 8 (note importée) + 2 (harmonisation « Moselle »" in html
    assert html.count('data-testid="explanation-step"') == 2
    assert "Départements : 057" in html
    assert "Augmenter de 2" in html
    assert script.candidate.number not in html
    # Opened directly (no JavaScript: the viewer's <noscript> link), a whole page.
    whole = client.get(f"/copies/{script.public_id}/explication/").content.decode()
    assert '<html lang="fr"' in whole
    assert "10 = 8 (note importée) + 2 (harmonisation « Moselle »" in whole
    other = UserFactory(coordinator=True)  # another academy: the script is not in scope
    refused = login_client(other).get(
        f"/copies/{script.public_id}/explication/", headers={"HX-Request": "true"}
    )
    assert refused.status_code == 404
    assert "introuvable" in refused.content.decode()
