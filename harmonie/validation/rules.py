"""What a validation sends, and how a delivery retries: pure functions, no database.

R-VAL-2 / R-VAL-3: each registered candidate of the exam in the academy falls in exactly
one class. Full transmission when no candidate is in a class that blocks it; then every
mark is sent, `AB` included. Otherwise partial: only marks of scripts in locked batches.
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Literal, TypeVar

MARKED = "marked"  # a script in a locked batch, with a mark: its mark is sent
ABSENT = "absent"  # recorded absent, no script: AB, in full transmission only
UNLOCKED_BATCH = "unlocked_batch"
NO_ATTENDANCE = "no_attendance"
NO_SCRIPT = "no_script"
UNMARKED = "unmarked"

# Classes that make the transmission partial, in the order the preview lists them.
PARTIAL_REASONS = (UNLOCKED_BATCH, NO_ATTENDANCE, NO_SCRIPT, UNMARKED)
REASON_MESSAGES = {
    UNLOCKED_BATCH: "candidats dont la copie est dans un lot non verrouillé",
    NO_ATTENDANCE: "candidats sans émargement et sans copie",
    NO_SCRIPT: "candidats émargés présents sans copie numérisée",
    UNMARKED: "copies d'un lot verrouillé sans note",
}
ABSENT_MARK = "AB"

Mode = Literal["full", "partial"]
Mark = float | str


def candidate_classify(
    *,
    attendance: str | None,
    has_script: bool,
    script_locked: bool,
    final_mark: Decimal | None,
    special_mark: str | None,
) -> str:
    """The class of one registered candidate (R-VAL-2, R-VAL-3)."""
    if has_script:
        if not script_locked:
            return UNLOCKED_BATCH
        if final_mark is None and not special_mark:
            return UNMARKED
        return MARKED
    if attendance == "absent":
        return ABSENT
    if attendance is None:
        return NO_ATTENDANCE
    return NO_SCRIPT


def transmission_mode(counts: Mapping[str, int]) -> Mode:
    return "partial" if any(counts.get(reason, 0) for reason in PARTIAL_REASONS) else "full"


def partial_reasons(counts: Mapping[str, int]) -> list[dict]:
    return [
        {"code": code, "count": counts[code], "message": REASON_MESSAGES[code]}
        for code in PARTIAL_REASONS
        if counts.get(code, 0)
    ]


def mark_sent(
    *, klass: str, mode: Mode, final_mark: Decimal | None, special_mark: str | None
) -> Mark | None:
    """The mark sent for a candidate of this class, None when nothing is sent."""
    if klass == MARKED:
        if special_mark:
            return special_mark
        assert final_mark is not None
        return mark_number(final_mark)
    if klass == ABSENT and mode == "full":
        return ABSENT_MARK
    return None


def mark_number(value: Decimal) -> float | int:
    """A mark as a JSON number: 12 rather than 12.0, 12.5 exactly (marks are on a step)."""
    return int(value) if value == value.to_integral_value() else float(value)


def marks_count_sent(counts: Mapping[str, int], mode: Mode) -> int:
    return counts.get(MARKED, 0) + (counts.get(ABSENT, 0) if mode == "full" else 0)


T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items; the last may be shorter."""
    if size < 1:
        raise ValueError("size must be positive")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def retry_delay(*, attempt: int, base: float, maximum: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base × 2^(n-1), capped."""
    return min(maximum, base * 2 ** max(0, attempt - 1))


def outcomes_summarise(
    results: Iterable[tuple[str, str, str | None]],
) -> tuple[Counter[str], Counter[str], list[list]]:
    """Counts by outcome, counts by "outcome:reason", and the records not plainly written."""
    by_outcome: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    exceptions: list[list] = []
    for ref, outcome, reason in results:
        by_outcome[outcome] += 1
        if reason:
            by_reason[f"{outcome}:{reason}"] += 1
        if outcome != "written":
            exceptions.append([ref, outcome, reason])
    return by_outcome, by_reason, exceptions
