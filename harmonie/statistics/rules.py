"""Statistics arithmetic (R-MASS-13): pure functions, no database.

Marks arrive either one per script (an array) or as distinct values with their counts
(what `GROUP BY final_mark` returns); both give the same results. Marks are handled in
hundredths as integers so that binning on the exam's step is exact.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

HUNDREDTHS = 100


@dataclass(frozen=True)
class HistogramBin:
    mark: Decimal
    count: int


@dataclass(frozen=True)
class Summary:
    """Count, mean, population standard deviation and median of a set of marks."""

    count: int
    mean: float | None
    std: float | None
    median: float | None


def _hundredths(values: ArrayLike) -> NDArray[np.int64]:
    array = np.asarray(values, dtype=float)
    return np.rint(array * HUNDREDTHS).astype(np.int64)


def _weights(values: ArrayLike, counts: ArrayLike | None) -> NDArray[np.int64]:
    size = np.asarray(values).shape[0] if np.ndim(values) else 0
    if counts is None:
        return np.ones(size, dtype=np.int64)
    weights = np.asarray(counts, dtype=np.int64)
    if weights.shape != (size,):
        raise ValueError("values and counts must have the same length")
    if (weights < 0).any():
        raise ValueError("counts must not be negative")
    return weights


def histogram_bins(*, maximum: Decimal, step: Decimal) -> list[Decimal]:
    """Every bin's lower bound from 0 to the maximum on the step, the maximum included."""
    if step <= 0 or maximum <= 0:
        raise ValueError("maximum and step must be positive")
    size = int(maximum // step)
    bins = [step * k for k in range(size + 1)]
    if bins[-1] != maximum:
        bins.append(maximum)
    return bins


def histogram_compute(
    *,
    marks: ArrayLike,
    maximum: Decimal,
    step: Decimal,
    counts: ArrayLike | None = None,
) -> list[HistogramBin]:
    """Mark distribution on the exam's step: one bin per step from 0 to the maximum, zeros
    included. A mark counts in the bin of the greatest bound not above it (a mark off the
    step, e.g. 12.25 on a 0.5 step, counts in 12); marks outside [0, maximum] are clamped.

    `counts`, when given, is the number of scripts having each value of `marks`.
    """
    bins = histogram_bins(maximum=maximum, step=step)
    values = _hundredths(marks) if np.ndim(marks) else np.zeros(0, dtype=np.int64)
    weights = _weights(values, counts)
    step_h = int(step * HUNDREDTHS)
    max_h = int(maximum * HUNDREDTHS)
    values = np.clip(values, 0, max_h)
    index = np.minimum(values // step_h, len(bins) - 1)
    # With a maximum off the step the last bin is the maximum itself.
    if max_h % step_h:
        index = np.where(values == max_h, len(bins) - 1, np.minimum(index, len(bins) - 2))
    totals = np.bincount(index, weights=weights, minlength=len(bins)).astype(np.int64)
    return [HistogramBin(mark=bound, count=int(n)) for bound, n in zip(bins, totals, strict=True)]


def summary_compute(*, marks: ArrayLike, counts: ArrayLike | None = None) -> Summary:
    """Count, mean, population standard deviation and median of `marks`.

    `counts`, when given, is the number of scripts having each value of `marks`. The
    median of an even count is the mean of the two middle marks.
    """
    values = np.asarray(marks, dtype=float).reshape(-1)
    weights = _weights(values, counts)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    total = int(weights.sum())
    if total == 0:
        return Summary(count=0, mean=None, std=None, median=None)
    mean = float(np.average(values, weights=weights))
    variance = float(np.average((values - mean) ** 2, weights=weights))
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cumulative = np.cumsum(weights)
    low = values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    high = values[np.searchsorted(cumulative, total // 2, side="right")]
    return Summary(
        count=total,
        mean=mean,
        std=float(np.sqrt(max(variance, 0.0))),
        median=float((low + high) / 2),
    )


def moments_to_summary(*, count: int, total: Decimal | float, squares: Decimal | float) -> Summary:
    """Mean and population standard deviation from count, sum and sum of squares (what SQL
    aggregates give per group); no median."""
    if count <= 0:
        return Summary(count=0, mean=None, std=None, median=None)
    mean = Decimal(str(total)) / count
    variance = Decimal(str(squares)) / count - mean * mean
    return Summary(
        count=count,
        mean=float(mean),
        std=float(max(variance, Decimal(0)).sqrt()),
        median=None,
    )


def mark_round(value: float | None, *, places: int = 2) -> float | None:
    """Statistics are shown to the hundredth, like marks."""
    return None if value is None else round(value, places)
