"""Mass harmonisation arithmetic: pure functions over arrays of marks, no ORM.

Marks are handled as integer hundredths (`cents`) so that numpy stays exact: every mark
of the platform has at most two decimals. A population is a set of aligned arrays, one
entry per script; a scenario's population is a boolean mask over them.

Rules: first matching scenario takes the candidate (R-MASS-3), skip reasons (R-MASS-1b,
R-MASS-6), clamp to [0, max] (R-MARK-4), histograms (R-MASS-8), spread of the delta over
the leaves of the scheme (R-MASS-12).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np

# The arrays and the cents are the marking layer's, which loads them (marking/population.py).
from harmonie.marking.arrays import Population, from_cents, to_cents

RAISE = "raise"
LOWER = "lower"
RESET = "reset"
ACTIONS = (RAISE, LOWER, RESET)

# Reasons a matched script is not harmonisable, in precedence order: a script is
# reported under the first reason that applies (R-MASS-6).
SPECIAL_MARK = "special_mark"
BATCH_NOT_LOCKED = "batch_not_locked"
ALREADY_HARMONISED = "already_harmonised"
NOT_HARMONISED = "not_harmonised"
# A script a previous scenario of the same harmonisation already took (R-MASS-3).
MATCHED_EARLIER = "matched_earlier"


@dataclass(frozen=True)
class Action:
    type: str
    points: Decimal | None = None

    def delta_cents(self) -> int:
        """The nominal delta a raise or lower puts in force; a reset puts 0."""
        if self.type == RESET or self.points is None:
            return 0
        cents = to_cents(self.points)
        return cents if self.type == RAISE else -cents


def population_from_lists(
    *,
    initial: Sequence[int | None],
    delta: Sequence[int],
    is_harmonised: Sequence[bool],
    locked: Sequence[bool],
    maximum: int,
) -> Population:
    """A population from plain lists of cents (None = special mark); final is computed."""
    numeric = np.array([value is not None for value in initial], dtype=bool)
    initial_arr = np.array([value or 0 for value in initial], dtype=np.int64)
    delta_arr = np.array(delta, dtype=np.int64)
    final = np.where(numeric, np.clip(initial_arr + delta_arr, 0, maximum), -1)
    return Population(
        initial=initial_arr,
        delta=delta_arr,
        final=final.astype(np.int64),
        numeric=numeric,
        is_harmonised=np.array(is_harmonised, dtype=bool),
        locked=np.array(locked, dtype=bool),
    )


def reason_masks(
    *, population: Population, match: np.ndarray, action_type: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Within `match`: the harmonisable mask and one exclusive mask per reason not to be.

    Raise and lower need a script not already harmonised; a reset needs one that is
    (otherwise there is nothing to reset: reason `not_harmonised`).
    """
    remaining = match.copy()
    reasons: dict[str, np.ndarray] = {}
    special = remaining & ~population.numeric
    reasons[SPECIAL_MARK] = special
    remaining &= ~special
    unlocked = remaining & ~population.locked
    reasons[BATCH_NOT_LOCKED] = unlocked
    remaining &= ~unlocked
    if action_type == RESET:
        reasons[ALREADY_HARMONISED] = np.zeros_like(remaining)
        nothing = remaining & ~population.is_harmonised
        reasons[NOT_HARMONISED] = nothing
        remaining &= ~nothing
    else:
        already = remaining & population.is_harmonised
        reasons[ALREADY_HARMONISED] = already
        reasons[NOT_HARMONISED] = np.zeros_like(remaining)
        remaining &= ~already
    return remaining, reasons


@dataclass(frozen=True)
class PopulationCount:
    total: int
    harmonisable: int
    not_harmonisable: dict[str, int]

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "harmonisable": self.harmonisable,
            "not_harmonisable": dict(self.not_harmonisable),
        }


def scenario_population_count(
    *, population: Population, match: np.ndarray, action_type: str
) -> PopulationCount:
    """One scenario against the current data, ignoring the other scenarios (R-MASS-6)."""
    eligible, reasons = reason_masks(population=population, match=match, action_type=action_type)
    return PopulationCount(
        total=int(match.sum()),
        harmonisable=int(eligible.sum()),
        not_harmonisable={reason: int(mask.sum()) for reason, mask in reasons.items()},
    )


@dataclass
class ScenarioOutcome:
    matched: int
    applied: int
    skipped: dict[str, int]

    def as_dict(self) -> dict:
        return {"matched": self.matched, "applied": self.applied, "skipped": dict(self.skipped)}


@dataclass
class Outcome:
    """The population after the scenarios, and who took whom (-1: untouched)."""

    owner: np.ndarray
    delta: np.ndarray
    final: np.ndarray
    is_harmonised: np.ndarray
    scenarios: list[ScenarioOutcome] = field(default_factory=list)


def scenarios_apply(
    *,
    population: Population,
    matches: Sequence[np.ndarray],
    actions: Sequence[Action],
    maximum: int,
) -> Outcome:
    """Apply ordered scenarios, first match wins (R-MASS-3).

    A script matched by a scenario is taken by it even when that scenario cannot
    harmonise it (special mark, unlocked batch, already harmonised): later scenarios of
    the same harmonisation ignore it (`matched_earlier`).
    """
    if len(matches) != len(actions):
        raise ValueError("one match mask per action")
    size = len(population)
    taken = np.zeros(size, dtype=bool)
    owner = np.full(size, -1, dtype=np.int32)
    delta = population.delta.copy()
    final = population.final.copy()
    harmonised = population.is_harmonised.copy()
    outcomes: list[ScenarioOutcome] = []
    for position, (match, action) in enumerate(zip(matches, actions, strict=True)):
        earlier = match & taken
        mine = match & ~taken
        taken |= mine
        eligible, reasons = reason_masks(population=population, match=mine, action_type=action.type)
        owner[eligible] = position
        nominal = action.delta_cents()
        delta[eligible] = nominal
        harmonised[eligible] = action.type != RESET
        final[eligible] = np.clip(population.initial[eligible] + nominal, 0, maximum)
        skipped = {reason: int(mask.sum()) for reason, mask in reasons.items()}
        skipped[MATCHED_EARLIER] = int(earlier.sum())
        outcomes.append(
            ScenarioOutcome(matched=int(match.sum()), applied=int(eligible.sum()), skipped=skipped)
        )
    return Outcome(
        owner=owner, delta=delta, final=final, is_harmonised=harmonised, scenarios=outcomes
    )


def histogram(
    *, final: np.ndarray, include: np.ndarray, maximum: int, step: int
) -> list[dict[str, float | int]]:
    """Counts of numeric final marks per step from 0 to the maximum (R-MASS-8).

    A mark off the step (imported data) falls in the step below it.
    """
    bins = maximum // step + 1
    values = final[include & (final >= 0)]
    counts = np.bincount(np.minimum(values // step, bins - 1), minlength=bins)
    return [
        {"mark": float(from_cents(index * step)), "count": int(count)}
        for index, count in enumerate(counts)
    ]


def delta_spread(
    *,
    leaf_marks: Sequence[Decimal],
    leaf_maxima: Sequence[Decimal],
    final_mark: Decimal,
    step: Decimal,
) -> list[Decimal]:
    """Leaf marks adding up to `final_mark` (R-MASS-12), deterministic.

    The difference D between the final mark and the leaves' sum is spread in units of
    the exam's step over the leaves, in proportion to each leaf's room: what it can
    still gain (max - mark) when D > 0, what it can lose (mark) when D < 0. Each leaf
    gets the floor of its quota; the units left go one each to the largest remainders,
    ties to the leaf first in the scheme. A leaf never passes its room, so it stays in
    [0, its max]. If D or a room is not a multiple of the step (off-step data), the unit
    is 0.01 instead.
    """
    marks = [Decimal(str(mark)) for mark in leaf_marks]
    maxima = [Decimal(str(maximum)) for maximum in leaf_maxima]
    difference = Decimal(str(final_mark)) - sum(marks, Decimal(0))
    if difference == 0:
        return marks
    rooms = [maximum - mark for mark, maximum in zip(marks, maxima, strict=True)]
    if difference < 0:
        rooms = list(marks)
    amount = abs(difference)
    unit = Decimal(str(step))
    if amount % unit or any(room % unit for room in rooms):
        unit = Decimal("0.01")
    units = int(amount / unit)
    room_units = [int((room / unit).to_integral_value(rounding=ROUND_FLOOR)) for room in rooms]
    total_room = sum(room_units)
    if units > total_room:
        raise ValueError("the leaves cannot hold the final mark")
    # A leaf's quota is units × room / total room: its floor and its remainder are taken
    # in integers (a Decimal quotient rounded to 28 digits made equal remainders unequal,
    # by the digits of the floor, and broke ties away from the first leaf).
    quotas = [units * room for room in room_units]
    allocation = [quota // total_room for quota in quotas]
    left = units - sum(allocation)
    order = sorted(range(len(quotas)), key=lambda index: (-(quotas[index] % total_room), index))
    for index in order[:left]:
        allocation[index] += 1
    sign = 1 if difference > 0 else -1
    return [mark + sign * given * unit for mark, given in zip(marks, allocation, strict=True)]


def delta_spread_many(
    *, leaf_marks: np.ndarray, leaf_maxima: np.ndarray, final: np.ndarray, step: int
) -> np.ndarray:
    """`delta_spread` for many scripts of one scheme at once, in cents (R-MASS-12).

    `leaf_marks` is one row of leaf marks per script, `leaf_maxima` the leaves' maxima
    (one row for all, or one per script), `final` the final mark of each script, `step`
    the exam's step. Returns the spread leaf marks, row by row what `delta_spread` gives.
    Integers throughout: a quota units × room / total room is compared by its remainder
    (units × room mod total room), which a float division would round. Raises ValueError,
    as `delta_spread` does, when the leaves of any script cannot hold its final mark.
    """
    marks = np.asarray(leaf_marks, dtype=np.int64)
    maxima = np.broadcast_to(np.asarray(leaf_maxima, dtype=np.int64), marks.shape)
    difference = np.asarray(final, dtype=np.int64) - marks.sum(axis=1)
    active = difference != 0
    rooms = np.where((difference > 0)[:, None], maxima - marks, marks)
    amount = np.abs(difference)
    off_step = (amount % step != 0) | (rooms % step != 0).any(axis=1)
    unit = np.where(off_step, 1, step)
    units = amount // unit
    room_units = rooms // unit[:, None]
    total_room = room_units.sum(axis=1)
    short = active & (units > total_room)
    if short.any():
        raise ValueError(
            f"the leaves cannot hold the final mark ({int(short.sum())} scripts, "
            f"first at row {int(np.argmax(short))})"
        )
    # Rows with nothing to spread give 0 units over a total room of 1: no change.
    total_room = np.where(active, total_room, 1)[:, None]
    quotas = units[:, None] * room_units
    allocation = quotas // total_room
    left = units - allocation.sum(axis=1)
    # Largest remainder first, ties to the leaf first in the scheme (a stable sort).
    order = np.argsort(-(quotas % total_room), axis=1, kind="stable")
    extra = np.zeros_like(allocation)
    first = np.arange(marks.shape[1])[None, :] < left[:, None]
    np.put_along_axis(extra, order, first.astype(np.int64), axis=1)
    given = (allocation + extra) * unit[:, None]
    return marks + np.sign(difference)[:, None] * given


@dataclass(frozen=True)
class Crossing:
    """Scripts whose final mark crosses a threshold (R-FAIR-3), as masks over the population."""

    threshold: int
    up: np.ndarray
    down: np.ndarray


def threshold_crossings(
    *, before: np.ndarray, after: np.ndarray, include: np.ndarray, thresholds: Sequence[int]
) -> list[Crossing]:
    """Per threshold (cents): who goes from below it to at or above it, and back down.

    Only numeric marks count (special marks are -1 and never cross).
    """
    numeric = include & (before >= 0) & (after >= 0)
    return [
        Crossing(
            threshold=threshold,
            up=numeric & (before < threshold) & (after >= threshold),
            down=numeric & (before >= threshold) & (after < threshold),
        )
        for threshold in thresholds
    ]
