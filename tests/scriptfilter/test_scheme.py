"""One reading of a scheme and of a mark written as text (issue 11): `referential.scheme`
serves the marking rules (R-MARK-1), the filter's bounds and the scenarios' points."""

from decimal import Decimal

import pytest

from harmonie.referential.scheme import GLOBAL_MARK, exam_leaves, exam_part_leaves, mark_parse
from tests.factories import ExamFactory


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,5", Decimal("12.5")),
        (" 12.5 ", Decimal("12.5")),
        (12, Decimal(12)),
        (12.5, Decimal("12.5")),
        (Decimal("3"), Decimal(3)),
        ("douze", None),
        ("", None),
        (True, None),
        (None, None),
        ([1], None),
        ("NaN", None),
        ("Infinity", None),
    ],
)
def test_mark_parse(raw, expected):
    """R-MARK-1: a decimal comma or point, numbers; anything else is no mark."""
    assert mark_parse(raw) == expected


def test_leaves_of_the_scheme(db):
    """The leaves in scheme order with their maximum, and each part's leaves."""
    exam = ExamFactory(code="FRA-ECRIT")
    assert exam_leaves(exam_id=exam.pk) == {"Q1": 4, "Q2": 6, "P2": 10}
    leaves, under = exam_part_leaves(exam_id=exam.pk)
    assert leaves == ["Q1", "Q2", "P2"]
    assert under == {"P1": ["Q1", "Q2"], "Q1": ["Q1"], "Q2": ["Q2"], "P2": ["P2"]}
    assert exam_leaves(exam_id=ExamFactory(harmonisation_only=True).pk) == {}
    assert GLOBAL_MARK == "global"
