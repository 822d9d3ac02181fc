"""Pure rules of validation: classes of candidates, mode, marks sent, chunks, back-off."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonie.validation import rules


@pytest.mark.parametrize(
    ("attendance", "has_script", "locked", "final", "special", "expected"),
    [
        ("present", True, True, Decimal("12.5"), None, rules.MARKED),
        (None, True, True, None, "CB", rules.MARKED),  # a script in a locked batch is enough
        ("present", True, False, Decimal(12), None, rules.UNLOCKED_BATCH),
        ("absent", False, False, None, None, rules.ABSENT),
        (None, False, False, None, None, rules.NO_ATTENDANCE),
        ("present", False, False, None, None, rules.NO_SCRIPT),
        ("present", True, True, None, None, rules.UNMARKED),
    ],
)
def test_candidate_classes(attendance, has_script, locked, final, special, expected):
    """R-VAL-2 / R-VAL-3: each registered candidate falls in one class."""
    assert (
        rules.candidate_classify(
            attendance=attendance,
            has_script=has_script,
            script_locked=locked,
            final_mark=final,
            special_mark=special,
        )
        == expected
    )


def test_full_only_when_no_blocking_class():
    """R-VAL-2: absents and marked scripts only: full; R-VAL-3: anything else: partial."""
    assert rules.transmission_mode({rules.MARKED: 10, rules.ABSENT: 2}) == "full"
    for reason in rules.PARTIAL_REASONS:
        assert rules.transmission_mode({rules.MARKED: 10, reason: 1}) == "partial"


def test_reasons_in_order_with_messages():
    reasons = rules.partial_reasons({rules.NO_SCRIPT: 2, rules.UNLOCKED_BATCH: 3, rules.MARKED: 9})
    assert [(r["code"], r["count"]) for r in reasons] == [("unlocked_batch", 3), ("no_script", 2)]
    assert all(r["message"] for r in reasons)


def test_ab_is_sent_in_full_mode_only():
    """R-VAL-2: AB included in full transmission; R-VAL-3: not in partial."""
    kwargs = {"klass": rules.ABSENT, "final_mark": None, "special_mark": None}
    assert rules.mark_sent(mode="full", **kwargs) == "AB"
    assert rules.mark_sent(mode="partial", **kwargs) is None


def test_marked_sends_final_or_special_mark():
    assert (
        rules.mark_sent(
            klass=rules.MARKED, mode="partial", final_mark=Decimal("12.50"), special_mark=None
        )
        == 12.5
    )
    assert (
        rules.mark_sent(
            klass=rules.MARKED, mode="full", final_mark=Decimal("14.00"), special_mark=None
        )
        == 14
    )
    assert (
        rules.mark_sent(klass=rules.MARKED, mode="full", final_mark=None, special_mark="CB") == "CB"
    )
    for klass in (rules.UNLOCKED_BATCH, rules.NO_ATTENDANCE, rules.NO_SCRIPT, rules.UNMARKED):
        assert (
            rules.mark_sent(klass=klass, mode="full", final_mark=Decimal(3), special_mark=None)
            is None
        )


def test_marks_count():
    counts = {rules.MARKED: 10, rules.ABSENT: 3}
    assert rules.marks_count_sent(counts, "full") == 13
    assert rules.marks_count_sent(counts, "partial") == 10


@given(st.lists(st.integers(), max_size=200), st.integers(min_value=1, max_value=50))
def test_chunks_keep_every_item_in_order(items, size):
    parts = list(rules.chunks(items, size))
    assert [item for part in parts for item in part] == items
    assert all(1 <= len(part) <= size for part in parts)
    assert all(len(part) == size for part in parts[:-1])


def test_chunks_refuse_zero():
    with pytest.raises(ValueError, match="size"):
        list(rules.chunks([1], 0))


@given(st.integers(min_value=1, max_value=40))
def test_retry_delay_doubles_and_is_capped(attempt):
    delay = rules.retry_delay(attempt=attempt, base=10, maximum=600)
    assert 10 <= delay <= 600
    if attempt < 6:
        assert delay == 10 * 2 ** (attempt - 1)


def test_outcomes_summary_keeps_only_exceptions():
    by_outcome, by_reason, exceptions = rules.outcomes_summarise(
        [
            ("1", "written", None),
            ("2", "kept", "hand_entered_di"),
            ("3", "refused", "invalid_mark"),
            ("4", "written", "hand_entered_kept_apart"),
        ]
    )
    assert by_outcome == {"written": 2, "kept": 1, "refused": 1}
    assert by_reason == {
        "kept:hand_entered_di": 1,
        "refused:invalid_mark": 1,
        "written:hand_entered_kept_apart": 1,
    }
    assert exceptions == [["2", "kept", "hand_entered_di"], ["3", "refused", "invalid_mark"]]
