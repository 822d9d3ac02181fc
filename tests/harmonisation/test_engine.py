"""Pure engine of mass harmonisation (no database): R-MASS-3, R-MASS-6, R-MARK-4, R-MASS-12."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonie.harmonisation.engine import (
    LOWER,
    RAISE,
    RESET,
    Action,
    delta_spread,
    delta_spread_many,
    histogram,
    population_from_lists,
    scenario_population_count,
    scenarios_apply,
    to_cents,
)

MAX = 2000
STEP = 50


def _population():
    # 0: 10.00 free, 1: 19.00 free, 2: CB, 3: unlocked, 4: already raised by 1 (12 -> 13)
    return population_from_lists(
        initial=[1000, 1900, None, 800, 1200],
        delta=[0, 0, 0, 0, 100],
        is_harmonised=[False, False, False, False, True],
        locked=[True, True, True, False, True],
        maximum=MAX,
    )


def test_first_matching_scenario_takes_the_candidate():
    """R-MASS-3: a candidate in scenarios 1 and 2 is harmonised once, by scenario 1."""
    population = _population()
    everyone = np.ones(5, dtype=bool)
    outcome = scenarios_apply(
        population=population,
        matches=[np.array([1, 0, 0, 0, 0], bool), everyone],
        actions=[Action(RAISE, Decimal(2)), Action(LOWER, Decimal(1))],
        maximum=MAX,
    )
    assert outcome.owner.tolist() == [0, 1, -1, -1, -1]
    assert outcome.final.tolist() == [1200, 1800, -1, 800, 1300]
    assert outcome.scenarios[1].skipped["matched_earlier"] == 1
    assert outcome.scenarios[1].applied == 1


def test_skip_reasons_and_clamp():
    """R-MASS-1b, R-MASS-6, R-MARK-4: special mark, unlocked batch, already harmonised are
    skipped; a raise past the maximum is clamped but the nominal delta is kept."""
    population = _population()
    outcome = scenarios_apply(
        population=population,
        matches=[np.ones(5, dtype=bool)],
        actions=[Action(RAISE, Decimal(3))],
        maximum=MAX,
    )
    assert outcome.final.tolist() == [1300, 2000, -1, 800, 1300]
    assert outcome.delta.tolist() == [300, 300, 0, 0, 100]
    assert outcome.scenarios[0].skipped == {
        "special_mark": 1,
        "batch_not_locked": 1,
        "already_harmonised": 1,
        "not_harmonised": 0,
        "matched_earlier": 0,
    }


def test_reset_brings_back_the_initial_mark_and_skips_the_unharmonised():
    """R-MASS-3: a reset clears a previous raise; a script never harmonised is reported."""
    outcome = scenarios_apply(
        population=_population(),
        matches=[np.ones(5, dtype=bool)],
        actions=[Action(RESET)],
        maximum=MAX,
    )
    assert outcome.owner.tolist() == [-1, -1, -1, -1, 0]
    assert outcome.final[4] == 1200
    assert not outcome.is_harmonised[4]
    assert outcome.scenarios[0].skipped["not_harmonised"] == 2


def test_population_count_ignores_other_scenarios():
    """R-MASS-6: counts are per scenario against the current data."""
    count = scenario_population_count(
        population=_population(), match=np.ones(5, dtype=bool), action_type=LOWER
    )
    assert count.as_dict() == {
        "total": 5,
        "harmonisable": 2,
        "not_harmonisable": {
            "special_mark": 1,
            "batch_not_locked": 1,
            "already_harmonised": 1,
            "not_harmonised": 0,
        },
    }


def test_histogram_counts_each_step():
    """R-MASS-8: one bar per step from 0 to the maximum; special marks left out."""
    bars = histogram(
        final=np.array([0, 50, 50, 2000, -1]), include=np.ones(5, bool), maximum=MAX, step=STEP
    )
    assert len(bars) == 41
    assert bars[0] == {"mark": 0.0, "count": 1}
    assert bars[1] == {"mark": 0.5, "count": 2}
    assert bars[-1] == {"mark": 20.0, "count": 1}


marks_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 40)),
    min_size=1,
    max_size=40,
)
scenario_strategy = st.lists(
    st.tuples(
        st.sampled_from([RAISE, LOWER, RESET]),
        st.integers(1, 10),
        st.lists(st.booleans(), min_size=40, max_size=40),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(rows=marks_strategy, scenarios=scenario_strategy)
def test_invariants(rows, scenarios):
    """R-MASS-3, R-MARK-4: each script taken by at most the first matching scenario,
    finals stay in [0, max], untouched scripts keep their values."""
    size = len(rows)
    population = population_from_lists(
        initial=[None if kind == 0 else mark * STEP for kind, _, _, _, mark in rows],
        delta=[(100 if harm else 0) for _, harm, _, _, _ in rows],
        is_harmonised=[harm for _, harm, _, _, _ in rows],
        locked=[locked for _, _, locked, _, _ in rows],
        maximum=MAX,
    )
    matches = [np.array(mask[:size], dtype=bool) for _, _, mask in scenarios]
    actions = [Action(kind, Decimal(points) / 2) for kind, points, _ in scenarios]
    outcome = scenarios_apply(population=population, matches=matches, actions=actions, maximum=MAX)
    numeric = population.numeric
    assert ((outcome.final[numeric] >= 0) & (outcome.final[numeric] <= MAX)).all()
    for index in range(size):
        first = next((i for i, m in enumerate(matches) if m[index]), None)
        if outcome.owner[index] >= 0:
            assert outcome.owner[index] == first
        else:
            assert outcome.final[index] == population.final[index]
            assert outcome.delta[index] == population.delta[index]
    assert sum(s.applied for s in outcome.scenarios) == int((outcome.owner >= 0).sum())


def test_delta_spread_largest_remainders():
    """R-MASS-12: +2 (4 half points) over leaves with room 2, 4 and 6 half points: quotas
    0.67, 1.33 and 2; floors 0, 1, 2; the unit left goes to the largest remainder (0.67)."""
    spread = delta_spread(
        leaf_marks=[Decimal(3), Decimal(4), Decimal(7)],
        leaf_maxima=[Decimal(4), Decimal(6), Decimal(10)],
        final_mark=Decimal(16),
        step=Decimal("0.5"),
    )
    assert spread == [Decimal("3.5"), Decimal("4.5"), Decimal(8)]
    assert spread == delta_spread(
        leaf_marks=[Decimal(3), Decimal(4), Decimal(7)],
        leaf_maxima=[Decimal(4), Decimal(6), Decimal(10)],
        final_mark=Decimal(16),
        step=Decimal("0.5"),
    )


@settings(max_examples=300, deadline=None)
@given(
    leaves=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20)), min_size=1, max_size=6),
    target=st.integers(0, 200),
    step=st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1)]),
)
def test_delta_spread_invariants(leaves, target, step):
    """R-MASS-12: leaves add up to the final mark, stay in [0, max] and on the step."""
    maxima = [Decimal(maximum) * step for maximum, _ in leaves]
    marks = [min(Decimal(mark), Decimal(maximum)) * step for maximum, mark in leaves]
    total_max = sum(maxima)
    final = min(Decimal(target) * step, total_max)
    spread = delta_spread(leaf_marks=marks, leaf_maxima=maxima, final_mark=final, step=step)
    assert sum(spread) == final
    for value, maximum in zip(spread, maxima, strict=True):
        assert 0 <= value <= maximum
        assert value % step == 0


def test_delta_spread_ties_go_to_the_first_leaf():
    """R-MASS-12: +1.5 (3 half points) over rooms of 2, 2 and 5 half points: quotas 2/3,
    2/3 and 5/3, floors 0, 0, 1; the two units left tie on 2/3 and go to Q1 and Q2, the
    first leaves (a Decimal quotient rounded to 28 digits gave P2 the larger remainder)."""
    spread = delta_spread(
        leaf_marks=[Decimal(3), Decimal(5), Decimal("7.5")],
        leaf_maxima=[Decimal(4), Decimal(6), Decimal(10)],
        final_mark=Decimal(17),
        step=Decimal("0.5"),
    )
    assert spread == [Decimal("3.5"), Decimal("5.5"), Decimal(8)]


def test_delta_spread_refuses_impossible():
    """R-MASS-12: a final mark the leaves cannot hold is a programming error."""
    with pytest.raises(ValueError, match="cannot hold"):
        delta_spread(
            leaf_marks=[Decimal(1)],
            leaf_maxima=[Decimal(2)],
            final_mark=Decimal(3),
            step=Decimal(1),
        )


def _cents_mark(draw, *, maximum: int, step: int) -> int:
    """A mark in [0, maximum] cents: on the step, or now and then off it (imported data)."""
    if draw(st.integers(0, 4)):
        return draw(st.integers(0, maximum // step)) * step
    return draw(st.integers(0, maximum))


@st.composite
def _spread_cases(draw):
    """One scheme (leaf maxima in cents, a few off the step), a step, and scripts: leaf
    marks and a final mark below, at or above their sum, some beyond what the leaves
    can hold."""
    step = draw(st.sampled_from([25, 50, 100]))
    maxima = draw(
        st.lists(
            st.tuples(st.integers(1, 20), st.sampled_from([0, 0, 0, 1, 30])).map(
                lambda pair: pair[0] * step + pair[1]
            ),
            min_size=1,
            max_size=6,
        )
    )
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        marks = [_cents_mark(draw, maximum=maximum, step=step) for maximum in maxima]
        final = _cents_mark(draw, maximum=sum(maxima) + 2 * step, step=step)
        rows.append((marks, final))
    return step, maxima, rows


def _reference(*, marks, maxima, final, step) -> list[int] | None:
    try:
        spread = delta_spread(
            leaf_marks=[Decimal(mark) / 100 for mark in marks],
            leaf_maxima=[Decimal(maximum) / 100 for maximum in maxima],
            final_mark=Decimal(final) / 100,
            step=Decimal(step) / 100,
        )
    except ValueError:
        return None
    return [to_cents(value) for value in spread]


@settings(max_examples=500, deadline=None)
@given(case=_spread_cases())
def test_delta_spread_many_equals_delta_spread(case):
    """R-MASS-12: the vectorised spread over cents is `delta_spread` row by row (largest
    remainder, ties to the first leaf, the step or 0.01 as unit, negative and positive
    differences); a script whose leaves cannot hold its final mark refuses the whole
    matrix, as `delta_spread` refuses it."""
    step, maxima, rows = case
    expected = [
        _reference(marks=marks, maxima=maxima, final=final, step=step) for marks, final in rows
    ]
    marks = np.array([row for row, _ in rows], dtype=np.int64)
    finals = np.array([final for _, final in rows], dtype=np.int64)
    held = [index for index, spread in enumerate(expected) if spread is not None]
    spread = delta_spread_many(
        leaf_marks=marks[held], leaf_maxima=np.array(maxima), final=finals[held], step=step
    )
    assert spread.tolist() == [expected[index] for index in held]
    if len(held) < len(rows):
        with pytest.raises(ValueError, match="cannot hold"):
            delta_spread_many(
                leaf_marks=marks, leaf_maxima=np.array(maxima), final=finals, step=step
            )
