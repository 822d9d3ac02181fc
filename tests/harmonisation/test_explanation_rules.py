"""The explanation of a final mark from plain data (no database): R-TRUST-1.

The script's life is played with the real engine (`scenarios_apply`, one script) and the
real unit-edit arithmetic (`final_mark_compute`); the explanation built from what was
recorded must add up to the final mark exactly.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonie.explanation.rules import (
    CLAMP,
    CONFORMITY,
    HARMONISATION,
    MARKING,
    UNIT_EDIT,
    CancelledRef,
    HarmonisationChange,
    Person,
    ScenarioRef,
    ScriptFacts,
    UnitEdit,
    explanation_build,
)
from harmonie.explanation.wording import MINUS, filter_terms
from harmonie.harmonisation.engine import (
    LOWER,
    RAISE,
    RESET,
    Action,
    from_cents,
    population_from_lists,
    scenarios_apply,
    to_cents,
)
from harmonie.marking.rules import final_mark_compute

MAX = Decimal(20)
DUPONT = Person(first_name="Marc", last_name="Dupont", username="m.dupont")
ANTONIOLI = Person(first_name="Sabrina", last_name="Antonioli", username="s.antonioli")
# Noon UTC: the same day in Paris, whatever the season.
JUNE_2 = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
JUNE_3 = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)


def _change(*, delta_before=Decimal(0), delta=Decimal(2), **overrides) -> HarmonisationChange:
    values = {
        "harmonisation_id": 7,
        "name": "Moselle",
        "executed_at": JUNE_3,
        "author": ANTONIOLI,
        "scenario": 1,
        "filter": {"departments": ["057"], "mark_max": 10},
        "action": RAISE,
        "points": Decimal(2),
    }
    values.update(overrides)
    return HarmonisationChange(ref=ScenarioRef(**values), delta_before=delta_before, delta=delta)


def test_the_rules_example():
    """R-TRUST-1: « 11 = 9 (copie corrigée par M. Dupont, modifiée par S. Antonioli le
    02/06) + 2 (harmonisation « Moselle » du 03/06, scénario 1 : département 057, note ≤ 10) »."""
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX,
            initial_mark=Decimal(9),
            delta=Decimal(2),
            final_mark=Decimal(11),
            grader=DUPONT,
            last_edit=UnitEdit(author=ANTONIOLI, at=JUNE_2, mark_before=Decimal(8)),
            changes=[_change()],
        )
    )
    assert explanation.text == (
        "11 = 9 (copie corrigée par M. Dupont, modifiée par S. Antonioli le 02/06) + 2 "
        "(harmonisation « Moselle » du 03/06 par S. Antonioli, scénario 1 : "
        "département 057, note ≤ 10)"
    )
    assert [step.kind for step in explanation.steps] == [MARKING, UNIT_EDIT, HARMONISATION]
    assert [step.points for step in explanation.steps] == [Decimal(9), Decimal(0), Decimal(2)]
    assert explanation.total() == Decimal(11)
    harmonisation = explanation.steps_as_dicts()[2]
    assert harmonisation["harmonisation"] == 7
    assert harmonisation["scenario"] == 1
    assert harmonisation["filter"] == {"departments": ["057"], "mark_max": 10}
    assert harmonisation["action"] == {"type": "raise", "points": 2.0}
    assert harmonisation["delta"] == 2.0
    assert harmonisation["author"] == {"first_name": "Sabrina", "last_name": "Antonioli"}
    assert harmonisation["reason"] == {"code": "other", "label": "autre motif", "text": ""}
    assert harmonisation["filter_description"] == [["Départements", "057"], ["Note max.", "10"]]


def test_reset_clamp_reason_and_cancellation_in_words():
    """R-TRUST-1: a reset is a negative step; the clamp, the reason and the harmonisation an
    undo cancels are said; decimals with a comma."""
    raised = _change(filter={"mark_min": 18.5}, points=Decimal("1.5"), delta=Decimal("1.5"))
    undone = _change(
        harmonisation_id=8,
        name="",
        action=RESET,
        points=None,
        delta_before=Decimal("1.5"),
        delta=Decimal(0),
        filter={},
        is_cancellation=True,
        cancels=CancelledRef(harmonisation_id=7, name="Moselle", executed_at=JUNE_3),
        reason_code="scheme_error",
        reason_text="barème corrigé",
    )
    again = _change(harmonisation_id=9, name="Fin", filter={}, delta=Decimal(2))
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX,
            initial_mark=Decimal("19.5"),
            delta=Decimal(2),
            final_mark=Decimal(20),
            grader=DUPONT,
            changes=[raised, undone, again],
        )
    )
    assert [(step.kind, step.points) for step in explanation.steps] == [
        (MARKING, Decimal("19.5")),
        (HARMONISATION, Decimal("1.5")),
        (HARMONISATION, Decimal("-1.5")),
        (HARMONISATION, Decimal(2)),
        (CLAMP, Decimal("-1.5")),
    ]
    assert explanation.total() == Decimal(20)
    text = explanation.text
    assert text.startswith("20 = 19,5 (copie corrigée par M. Dupont) + 1,5 (harmonisation")
    assert "scénario 1 : note ≥ 18,5" in text
    assert (
        f"{MINUS} 1,5 (annulation n°8 du 03/06 par S. Antonioli, qui annule l'harmonisation "
        "« Moselle » du 03/06, motif : erreur de barème (barème corrigé), scénario 1 "
        "(réinitialisation) : tous les candidats)"
    ) in text
    assert text.endswith(f"{MINUS} 1,5 (note ramenée au maximum de 20)")
    clamp = explanation.steps_as_dicts()[-1]
    assert clamp == {
        "kind": "clamp",
        "points": -1.5,
        "text": "note ramenée au maximum de 20",
        "delta": -1.5,
        "bound": "max",
        "limit": 20.0,
    }


def test_special_mark_is_explained_without_numbers():
    """R-TRUST-1, R-MARK-2: a blank script is explained, with no numeric step."""
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX,
            initial_mark=None,
            delta=Decimal(0),
            final_mark=None,
            special_mark="CB",
            grader=DUPONT,
            last_edit=UnitEdit(author=ANTONIOLI, at=JUNE_2, mark_before=Decimal(3)),
        )
    )
    assert explanation.text == (
        "CB (copie blanche) : note particulière (copie corrigée par M. Dupont, modifiée par "
        "S. Antonioli le 02/06), jamais harmonisée"
    )
    assert [step.points for step in explanation.steps] == [None, None]
    assert explanation.total() is None
    assert explanation.steps_as_dicts()[0]["special_mark"] == "CB"


def test_conformity_spread_and_pending_state():
    """R-TRUST-1, R-MASS-12: the spread over the leaves is said; before conformity, so is
    the pending state; neither changes the sum."""
    facts = {
        "maximum": MAX,
        "initial_mark": Decimal("14.5"),
        "delta": Decimal(2),
        "final_mark": Decimal("16.5"),
        "changes": [_change(filter={})],
        "leaves": ("Q1", "Q2", "P2"),
        "marks": {"Q1": 3, "Q2": 4.5, "P2": 7},
    }
    pending = explanation_build(facts=ScriptFacts(**facts))
    assert pending.steps[-1].kind == CONFORMITY
    assert pending.steps[-1].state == "not_conforming"
    assert pending.text.endswith("; parties pas encore mises en conformité avec la note finale")
    spread = explanation_build(
        facts=ScriptFacts(**facts, final_marks={"Q1": 3.5, "Q2": 5, "P2": 8})
    )
    step = spread.steps[-1]
    assert step.state == "conforming"
    assert step.spread == {"Q1": Decimal("0.5"), "Q2": Decimal("0.5"), "P2": Decimal(1)}
    assert spread.text.endswith("; répartie sur les parties : Q1 + 0,5, Q2 + 0,5, P2 + 1")
    assert spread.total() == pending.total() == Decimal("16.5")


def test_no_harmonisation_and_imported_mark():
    """R-TRUST-1: a mark nobody harmonised says so; no grader: the mark was imported."""
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX, initial_mark=Decimal(12), delta=Decimal(0), final_mark=Decimal(12)
        )
    )
    assert explanation.text == "12 (note importée), sans harmonisation"
    assert explanation.total() == Decimal(12)


def test_untraced_delta_still_adds_up():
    """R-TRUST-1: a delta that no effect row accounts for is shown as such, never hidden
    in the clamp."""
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX, initial_mark=Decimal(10), delta=Decimal(1), final_mark=Decimal(11)
        )
    )
    assert [(s.kind, s.points) for s in explanation.steps][1] == (HARMONISATION, Decimal(1))
    assert "harmonisation antérieure sans trace détaillée" in explanation.text
    assert explanation.total() == Decimal(11)


def test_filter_terms_in_words():
    """R-TRUST-1: filters read like the history (plural when several values)."""
    assert filter_terms(
        {
            "departments": ["088"],
            "schools": ["0880055G"],
            "qualifications": ["STMG", "TMD", "STD2A"],
            "mark_min": 8,
            "mark_max": 9.5,
            "mark_part": "P1",
        }
    ) == (
        "département 088",
        "établissement 0880055G",
        "qualifications STMG, TMD, STD2A",
        "8 ≤ note de la partie P1 ≤ 9,5",
    )
    assert filter_terms({}) == ()


# One operation of a script's life: a mass harmonisation scenario, or a unit edit.
_points = st.integers(min_value=1, max_value=12).map(lambda n: Decimal(n) / 2)
_operation = st.one_of(
    st.tuples(st.sampled_from([RAISE, LOWER]), _points),
    st.tuples(st.just(RESET), st.none()),
    st.tuples(
        st.just("edit"), st.integers(min_value=0, max_value=40).map(lambda n: Decimal(n) / 2)
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    initial=st.integers(min_value=0, max_value=40).map(lambda n: Decimal(n) / 2),
    operations=st.lists(_operation, max_size=12),
)
def test_steps_add_up_to_the_final_mark_exactly(initial, operations):
    """R-TRUST-1 (property): initial mark + every harmonisation step + the clamp = the
    final mark, exactly, after any sequence of raises, lowers and resets (clamped to
    [0, 20]) with unit edits in between; and it is the mark R-MARK-4 computes."""
    maximum = to_cents(MAX)
    mark, delta, harmonised = initial, Decimal(0), False
    changes: list[HarmonisationChange] = []
    last_edit = None
    at = JUNE_2
    for number, (kind, points) in enumerate(operations, start=1):
        at += timedelta(hours=1)
        if kind == "edit":
            last_edit = UnitEdit(author=ANTONIOLI, at=at, mark_before=mark)
            mark = points
            continue
        population = population_from_lists(
            initial=[to_cents(mark)],
            delta=[to_cents(delta)],
            is_harmonised=[harmonised],
            locked=[True],
            maximum=maximum,
        )
        outcome = scenarios_apply(
            population=population,
            matches=[np.ones(1, dtype=bool)],
            actions=[Action(type=kind, points=points)],
            maximum=maximum,
        )
        if outcome.owner[0] < 0:
            continue  # R-MASS-3: already harmonised (or nothing to reset): no effect row
        new_delta = from_cents(outcome.delta[0])
        changes.append(
            _change(
                harmonisation_id=number,
                executed_at=at,
                action=kind,
                points=points,
                delta_before=delta,
                delta=new_delta,
            )
        )
        delta, harmonised = new_delta, bool(outcome.is_harmonised[0])
    final = final_mark_compute(initial=mark, delta=delta, maximum=MAX)
    explanation = explanation_build(
        facts=ScriptFacts(
            maximum=MAX,
            initial_mark=mark,
            delta=delta,
            final_mark=final,
            grader=DUPONT,
            last_edit=last_edit,
            changes=changes,
        )
    )
    steps = explanation.steps
    assert steps[0].kind == MARKING
    assert steps[0].points == mark
    moves = [s.points for s in steps if s.kind == HARMONISATION]
    clamps = [s.points for s in steps if s.kind == CLAMP]
    assert len(clamps) <= 1
    assert mark + sum(moves, Decimal(0)) + sum(clamps, Decimal(0)) == final
    assert explanation.total() == final
    # Every harmonisation step comes from a recorded effect (none untraced).
    assert all(s.harmonisation is not None for s in steps if s.kind == HARMONISATION)
    assert sum(moves, Decimal(0)) == delta
    assert Decimal(0) <= final <= MAX
    assert explanation.text.split(" ")[0] == format(final.normalize(), "f").replace(".", ",")
