"""An exam's marking scheme, read one way for every app: its leaves, the parts' leaves,
the `global` mark of exams without a scheme, and a mark written as text (« 12,5 »).

Pure reads of the referential and a pure parse: the marking rules, the session file,
the script filter, the scenarios and the harmonisation engine's loader all sit above it.
"""

from decimal import Decimal
from typing import Any

from harmonie.referential.models import Part

# The one leaf of a harmonisation-only exam, and a code no part may take (session file).
GLOBAL_MARK = "global"


def mark_french(value: Decimal | float | int) -> str:
    """A mark as a French reader writes it: « 16,5 », « 16 », « 16,25 »."""
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",")


def mark_parse(raw: Any) -> Decimal | None:
    """A number from JSON or a form (« 12,5 », "12.5", 12.5, 12), or None when `raw` is
    not one (a boolean, text that is no number, NaN or an infinity)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def exam_leaves(*, exam_id: int) -> dict[str, Decimal]:
    """The scheme's leaves with their maximum, in scheme order (none without a scheme)."""
    return dict(
        Part.objects.filter(exam_id=exam_id, is_leaf=True)
        .order_by("position")
        .values_list("code", "max_mark")
    )


def exam_part_leaves(*, exam_id: int) -> tuple[list[str], dict[str, list[str]]]:
    """The scheme's leaf codes in scheme order, and for every part code the leaves under
    it (a leaf's are itself)."""
    parts = list(
        Part.objects.filter(exam_id=exam_id).order_by("position").values("pk", "parent_id", "code")
    )
    children: dict[int | None, list[dict]] = {}
    for part in parts:
        children.setdefault(part["parent_id"], []).append(part)

    def leaves_of(part: dict) -> list[str]:
        below = children.get(part["pk"], [])
        return [part["code"]] if not below else [c for child in below for c in leaves_of(child)]

    under = {part["code"]: leaves_of(part) for part in parts}
    leaves = [part["code"] for part in parts if part["pk"] not in children]
    return leaves, under
