"""Reads of the referential: the marking scheme of an exam."""

from dataclasses import dataclass
from decimal import Decimal

from harmonie.referential.models import Exam, Part


@dataclass(frozen=True)
class SchemeNode:
    code: str
    label: str
    max_mark: Decimal
    children: tuple["SchemeNode", ...]

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "max": float(self.max_mark),
            "children": [child.as_dict() for child in self.children],
        }


def exam_scheme(*, exam: Exam) -> list[SchemeNode]:
    """The marking scheme as a tree, in the file's order."""
    parts = list(Part.objects.filter(exam=exam).order_by("position"))
    by_parent: dict[int | None, list[Part]] = {}
    for part in parts:
        by_parent.setdefault(part.parent_id, []).append(part)

    def build(parent_id: int | None) -> tuple[SchemeNode, ...]:
        return tuple(
            SchemeNode(
                code=part.code,
                label=part.label,
                max_mark=part.max_mark,
                children=build(part.pk),
            )
            for part in by_parent.get(parent_id, [])
        )

    return list(build(None))
