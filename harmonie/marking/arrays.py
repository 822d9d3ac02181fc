"""A population's arrays and the cents they count in: plain numpy, no ORM.

Marks are integer hundredths (`cents`) so that numpy stays exact: every mark of the
platform has at most two decimals. Loaded by `marking/population.py`, computed on by
`harmonisation/engine.py`.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np


def to_cents(value: Decimal | int | float) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


@dataclass
class Population:
    """Aligned arrays, one entry per script. Marks in cents; `final` is -1 when no number."""

    initial: np.ndarray
    delta: np.ndarray
    final: np.ndarray
    numeric: np.ndarray
    is_harmonised: np.ndarray
    locked: np.ndarray

    def __len__(self) -> int:
        return int(self.initial.shape[0])
