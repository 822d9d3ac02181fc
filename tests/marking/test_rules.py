"""`marking/rules.py` tested directly, without the database (R-MARK-1, R-MARK-3, R-MARK-4,
R-UNIT-4)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonie.errors import InvalidInput
from harmonie.marking.rules import (
    ANNOTATIONS_MAX,
    annotations_validate,
    final_mark_compute,
    is_on_step,
    leaf_marks_validate,
    mark_clamp,
    marks_as_json,
    marks_total,
)

LEAVES = {"Q1": Decimal(4), "Q2": Decimal(6), "P2": Decimal(10)}
STEP = Decimal("0.5")

# Marks in cents on a step of 0.25, 0.5 or 1, up to 20.
steps = st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1)])
cents = st.integers(min_value=-2500, max_value=4500)


def _mark(value: int) -> Decimal:
    return Decimal(value) / 100


# R-MARK-4: final = initial + delta, clamped to [0, maximum].
@given(initial=cents, delta=cents, maximum=st.integers(min_value=1, max_value=40))
def test_final_mark_is_initial_plus_delta_clamped(initial: int, delta: int, maximum: int) -> None:
    final = final_mark_compute(initial=_mark(initial), delta=_mark(delta), maximum=Decimal(maximum))
    assert final is not None
    assert Decimal(0) <= final <= maximum
    exact = _mark(initial) + _mark(delta)
    if 0 <= exact <= maximum:
        assert final == exact
    else:
        assert final == (Decimal(0) if exact < 0 else Decimal(maximum))


# R-MARK-2 and R-MARK-4: a special mark (no numeric initial mark) has no final mark.
def test_special_mark_has_no_final_mark() -> None:
    assert final_mark_compute(initial=None, delta=Decimal(3), maximum=Decimal(20)) is None


# R-MARK-4: clamping is idempotent and monotone.
@given(a=cents, b=cents)
def test_clamp_is_monotone_and_idempotent(a: int, b: int) -> None:
    maximum = Decimal(20)
    low, high = sorted((_mark(a), _mark(b)))
    assert mark_clamp(low, maximum=maximum) <= mark_clamp(high, maximum=maximum)
    once = mark_clamp(low, maximum=maximum)
    assert mark_clamp(once, maximum=maximum) == once


# R-MARK-1: a mark is on the step exactly when it is a whole number of steps.
@given(steps_count=st.integers(min_value=0, max_value=80), step=steps)
def test_whole_steps_are_on_step(steps_count: int, step: Decimal) -> None:
    assert is_on_step(step * steps_count, step)


@pytest.mark.parametrize(
    ("value", "step"), [("0.25", "0.5"), ("0.1", "0.25"), ("10.5", "1"), ("19.75", "0.5")]
)
def test_off_step_marks_are_detected(value: str, step: str) -> None:
    assert not is_on_step(Decimal(value), Decimal(step))


# R-MARK-1, R-MARK-3: every leaf marked, in [0, leaf maximum], on the step.
def test_valid_marks_are_parsed_from_numbers_and_french_text() -> None:
    valid = leaf_marks_validate(marks={"Q1": 3.5, "Q2": "4,5", "P2": 10}, leaves=LEAVES, step=STEP)
    assert valid == {"Q1": Decimal("3.5"), "Q2": Decimal("4.5"), "P2": Decimal(10)}
    assert marks_total(valid) == Decimal(18)


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        ([], "Les notes doivent être un objet { partie : note }."),
        ({"Q1": 1, "Q2": 1, "P2": 1, "Q9": 1}, "Partie « Q9 » inconnue du barème."),
        ({"Q1": 1, "Q2": 1}, "Note manquante pour « P2 »."),
        ({"Q1": 1, "Q2": "", "P2": 1}, "Note manquante pour « Q2 »."),
        ({"Q1": True, "Q2": 1, "P2": 1}, "« Q1 » : « True » n'est pas une note."),
        ({"Q1": "abc", "Q2": 1, "P2": 1}, "« Q1 » : « abc » n'est pas une note."),
        ({"Q1": "NaN", "Q2": 1, "P2": 1}, "« Q1 » : « NaN » n'est pas une note."),
        ({"Q1": "Infinity", "Q2": 1, "P2": 1}, "« Q1 » : « Infinity » n'est pas une note."),
        ({"Q1": [1], "Q2": 1, "P2": 1}, "« Q1 » : « [1] » n'est pas une note."),
        ({"Q1": -0.5, "Q2": 1, "P2": 1}, "« Q1 » : une note ne peut pas être négative."),
        (
            {"Q1": 4.5, "Q2": 1, "P2": 1},
            "« Q1 » : 4.5 dépasse le maximum de la partie (4).",
        ),
        (
            {"Q1": 1.25, "Q2": 1, "P2": 1},
            "« Q1 » : 1.25 n'est pas un multiple du pas 0.5.",
        ),
    ],
)
def test_bad_marks_are_refused_in_french_naming_the_leaf(marks: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        leaf_marks_validate(marks=marks, leaves=LEAVES, step=STEP)
    assert refused.value.message == message


# R-MARK-1 and R-MARK-3 together: any marking on the step within the leaves' maxima is
# accepted as is, and its total never exceeds the sum of the maxima.
@given(
    st.fixed_dictionaries(
        {code: st.integers(min_value=0, max_value=int(top * 2)) for code, top in LEAVES.items()}
    )
)
def test_every_marking_on_the_step_is_accepted(halves: dict[str, int]) -> None:
    marks = {code: float(Decimal(count) / 2) for code, count in halves.items()}
    valid = leaf_marks_validate(marks=marks, leaves=LEAVES, step=STEP)
    assert marks_total(valid) == sum(Decimal(count) / 2 for count in halves.values())
    assert marks_total(valid) <= sum(LEAVES.values())
    # JSON keeps integers as integers and halves as floats, value for value.
    as_json = marks_as_json(valid)
    assert {code: Decimal(str(value)) for code, value in as_json.items()} == valid
    assert all(isinstance(value, int) for code, value in as_json.items() if valid[code] % 1 == 0)


# R-UNIT-4: annotations are checked and normalised; unchanged ones keep author and date.
def test_annotations_keep_author_of_unchanged_and_stamp_changed() -> None:
    previous = [
        {
            "id": "a1",
            "page": 0,
            "kind": "tick",
            "x": 0.1,
            "y": 0.1,
            "w": 0.1,
            "h": 0.1,
            "text": "",
            "author": "grader.1",
            "at": "2026-06-20T10:00:00",
        }
    ]
    given_annotations = [
        {"id": "a1", "page": 0, "kind": "tick", "x": 0.1, "y": 0.1, "w": 0.1, "h": 0.1},
        {"page": 1, "kind": "comment", "x": 0.5, "y": 0.5, "w": 0.2, "h": 0.1, "text": " Bien "},
    ]
    out = annotations_validate(
        annotations=given_annotations,
        pages=2,
        author="coord",
        at="2026-07-01T09:00:00",
        previous=previous,
    )
    assert out[0]["author"] == "grader.1"
    assert out[0]["at"] == "2026-06-20T10:00:00"
    assert out[1]["author"] == "coord"
    assert out[1]["text"] == "Bien"
    assert len(out[1]["id"]) == 12


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("x", "Annotation n° 1 : un objet est attendu."),
        ({"kind": "arrow"}, "Annotation n° 1 : type « arrow » inconnu"),
        ({"kind": "tick", "page": 2}, "Annotation n° 1 : page 2 inexistante (0 à 1)."),
        ({"kind": "tick", "page": "1"}, "Annotation n° 1 : le numéro de page doit être un entier."),
        ({"kind": "tick", "x": 1.5}, "Annotation n° 1 : « x » doit être compris entre 0 et 1."),
        (
            {"kind": "tick", "x": 0.9, "w": 0.2},
            "Annotation n° 1 : l'annotation déborde de la page.",
        ),
        ({"kind": "comment", "text": "  "}, "Annotation n° 1 : un commentaire ou une appréciation"),
        ({"kind": "tick", "id": ""}, "Annotation n° 1 : identifiant invalide."),
    ],
)
def test_bad_annotations_are_refused_in_french(annotation: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        annotations_validate(annotations=[annotation], pages=2, author="c", at="t", previous=[])
    assert refused.value.message.startswith(message)


def test_too_many_annotations_are_refused() -> None:
    many = [{"kind": "tick"} for _ in range(ANNOTATIONS_MAX + 1)]
    with pytest.raises(InvalidInput, match="Trop d'annotations"):
        annotations_validate(annotations=many, pages=1, author="c", at="t", previous=[])


def test_duplicate_annotation_ids_are_refused() -> None:
    with pytest.raises(InvalidInput, match="en double"):
        annotations_validate(
            annotations=[{"kind": "tick", "id": "same"}, {"kind": "cross", "id": "same"}],
            pages=1,
            author="c",
            at="t",
            previous=[],
        )
