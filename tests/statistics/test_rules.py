"""Statistics arithmetic without a database (R-MASS-13: mark distribution and means)."""

from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonie.statistics.rules import (
    histogram_bins,
    histogram_compute,
    moments_to_summary,
    summary_compute,
)

TWENTY = Decimal(20)
HALF = Decimal("0.5")

marks_on_twenty = st.lists(
    st.integers(min_value=0, max_value=2000).map(lambda h: Decimal(h) / 100), max_size=300
)


def test_bins_cover_zero_to_maximum_on_the_step():
    """R-MASS-13: one bin per step from 0 to the maximum, both included."""
    bins = histogram_bins(maximum=TWENTY, step=HALF)
    assert bins[0] == 0
    assert bins[-1] == 20
    assert len(bins) == 41
    assert all(b - a == HALF for a, b in pairwise(bins))


def test_bins_end_on_the_maximum_when_it_is_off_the_step():
    """R-MASS-13: an odd maximum still has its own bin."""
    assert histogram_bins(maximum=Decimal(10), step=Decimal(3)) == [0, 3, 6, 9, 10]
    histogram = histogram_compute(
        marks=[Decimal(9), Decimal("9.5"), Decimal(10)], maximum=Decimal(10), step=Decimal(3)
    )
    assert [(item.mark, item.count) for item in histogram] == [
        (0, 0),
        (3, 0),
        (6, 0),
        (9, 2),
        (10, 1),
    ]


def test_histogram_keeps_empty_bins_and_floors_marks_off_the_step():
    """R-MASS-13: zeros included; 12.25 on a 0.5 step counts in 12."""
    histogram = histogram_compute(
        marks=[Decimal("12.25"), Decimal(12), Decimal(20), Decimal(0)], maximum=TWENTY, step=HALF
    )
    counts = {item.mark: item.count for item in histogram}
    assert len(histogram) == 41
    assert counts[Decimal(12)] == 2
    assert counts[Decimal(20)] == 1
    assert counts[Decimal(0)] == 1
    assert counts[Decimal("12.5")] == 0


def test_histogram_of_nothing_is_all_zeros():
    """R-MASS-13: an empty selection still draws the axis."""
    histogram = histogram_compute(marks=[], maximum=TWENTY, step=HALF)
    assert len(histogram) == 41
    assert sum(item.count for item in histogram) == 0


def test_summary_of_known_marks():
    """R-MASS-13: mean, population standard deviation and median."""
    summary = summary_compute(marks=[Decimal(8), Decimal(10), Decimal(12), Decimal(14)])
    assert summary.count == 4
    assert summary.mean == pytest.approx(11)
    assert summary.std == pytest.approx(np.sqrt(5))
    assert summary.median == pytest.approx(11)


def test_summary_of_nothing_has_no_mean():
    summary = summary_compute(marks=[])
    assert (summary.count, summary.mean, summary.std, summary.median) == (0, None, None, None)


def test_counts_must_match_values():
    with pytest.raises(ValueError, match="same length"):
        summary_compute(marks=[1, 2], counts=[1])


@given(marks_on_twenty)
def test_histogram_counts_add_up_to_the_count(marks):
    """R-MASS-13: every mark lands in exactly one bin, in the bin of its floor on the step."""
    histogram = histogram_compute(marks=marks, maximum=TWENTY, step=HALF)
    assert sum(item.count for item in histogram) == len(marks)
    for mark in marks:
        bound = (mark // HALF) * HALF
        assert next(item for item in histogram if item.mark == bound).count >= 1


@given(marks_on_twenty)
def test_grouped_input_gives_the_same_results_as_one_mark_per_script(marks):
    """R-MASS-13: GROUP BY final_mark (values with counts) equals the raw marks."""
    values, counts = np.unique(np.array([float(m) for m in marks]), return_counts=True)
    raw = summary_compute(marks=marks)
    grouped = summary_compute(marks=values, counts=counts)
    assert grouped.count == raw.count
    if raw.count:
        assert grouped.mean == pytest.approx(raw.mean)
        assert grouped.std == pytest.approx(raw.std, abs=1e-9)
        assert grouped.median == pytest.approx(raw.median)
    assert histogram_compute(marks=values, counts=counts, maximum=TWENTY, step=HALF) == (
        histogram_compute(marks=marks, maximum=TWENTY, step=HALF)
    )


@given(marks_on_twenty)
def test_summary_matches_numpy_and_stays_in_range(marks):
    """R-MASS-13: mean and median within [min, max]; std as numpy's population std."""
    summary = summary_compute(marks=marks)
    if not marks:
        return
    floats = np.array([float(m) for m in marks])
    assert min(floats) - 1e-9 <= summary.mean <= max(floats) + 1e-9
    assert min(floats) <= summary.median <= max(floats)
    assert summary.median == pytest.approx(float(np.median(floats)))
    assert summary.std == pytest.approx(float(np.std(floats)), abs=1e-9)


@given(marks_on_twenty)
def test_moments_give_the_same_mean_and_std(marks):
    """R-MASS-13: per-group statistics from SQL sums equal the direct computation."""
    from_moments = moments_to_summary(
        count=len(marks),
        total=sum(marks, Decimal(0)),
        squares=sum((m * m for m in marks), Decimal(0)),
    )
    direct = summary_compute(marks=marks)
    assert from_moments.count == direct.count
    if marks:
        assert from_moments.mean == pytest.approx(direct.mean)
        assert from_moments.std == pytest.approx(direct.std, abs=1e-6)
