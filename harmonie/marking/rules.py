"""Mark arithmetic (R-MARK-1, R-MARK-4): pure functions, no database."""

from decimal import Decimal


def is_on_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def mark_clamp(value: Decimal, *, maximum: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), maximum)


def final_mark_compute(
    *, initial: Decimal | None, delta: Decimal, maximum: Decimal
) -> Decimal | None:
    """Final mark = initial + harmonisation delta, clamped to [0, maximum] (R-MARK-4).

    A special mark has no numeric initial mark and stays without a final one.
    """
    if initial is None:
        return None
    return mark_clamp(initial + delta, maximum=maximum)
