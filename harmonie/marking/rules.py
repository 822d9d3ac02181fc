"""Mark arithmetic (R-MARK-1, R-MARK-4): pure functions, no database."""

import uuid
from decimal import Decimal

from harmonie.errors import InvalidInput
from harmonie.referential.scheme import mark_parse


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


def _mark_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def leaf_marks_validate(
    *, marks: object, leaves: dict[str, Decimal], step: Decimal
) -> dict[str, Decimal]:
    """Every leaf of the scheme marked, each a number in [0, leaf max] on the step (R-MARK-1).

    Raises InvalidInput naming the first bad leaf, in French.
    """
    if not isinstance(marks, dict):
        raise InvalidInput("Les notes doivent être un objet { partie : note }.")
    unknown = [code for code in marks if code not in leaves]
    if unknown:
        raise InvalidInput(
            f"Partie « {unknown[0]} » inconnue du barème.", details={"leaf": unknown[0]}
        )
    valid: dict[str, Decimal] = {}
    for code, maximum in leaves.items():
        if code not in marks or marks[code] is None or marks[code] == "":
            raise InvalidInput(f"Note manquante pour « {code} ».", details={"leaf": code})
        raw = marks[code]
        mark = mark_parse(raw)
        if mark is None:
            raise InvalidInput(
                f"« {code} » : « {raw} » n'est pas une note.", details={"leaf": code}
            )
        if mark < 0:
            raise InvalidInput(
                f"« {code} » : une note ne peut pas être négative.", details={"leaf": code}
            )
        if mark > maximum:
            raise InvalidInput(
                f"« {code} » : {_mark_text(mark)} dépasse le maximum de la partie ({_mark_text(maximum)}).",
                details={"leaf": code},
            )
        if not is_on_step(mark, step):
            raise InvalidInput(
                f"« {code} » : {_mark_text(mark)} n'est pas un multiple du pas {_mark_text(step)}.",
                details={"leaf": code},
            )
        valid[code] = mark
    return valid


def marks_total(marks: dict[str, Decimal]) -> Decimal:
    """The mark of a script: the sum of its leaf marks (R-MARK-3)."""
    return sum(marks.values(), Decimal(0))


def marks_as_json(marks: dict[str, Decimal]) -> dict[str, int | float]:
    """Leaf marks as JSON numbers (integers stay integers)."""
    return {
        code: int(mark) if mark == mark.to_integral_value() else float(mark)
        for code, mark in marks.items()
    }


ANNOTATION_KINDS = ("comment", "tick", "cross", "highlight", "underline", "appreciation")
ANNOTATION_TEXT_MAX = 2000
ANNOTATIONS_MAX = 500


def annotations_validate(
    *, annotations: object, pages: int, author: str, at: str, previous: list[dict]
) -> list[dict]:
    """Annotations checked and normalised (R-UNIT-4).

    Kinds as the grader's tools; positions and sizes are fractions of the page; an
    `appreciation` is the general one (page 0 allowed when the script has no pages).
    An annotation that is unchanged keeps its author and date; new or changed ones get
    `author` and `at`.
    """
    if not isinstance(annotations, list):
        raise InvalidInput("Les annotations doivent être une liste.")
    if len(annotations) > ANNOTATIONS_MAX:
        raise InvalidInput(f"Trop d'annotations (au plus {ANNOTATIONS_MAX}).")
    known = {item.get("id"): item for item in previous if isinstance(item, dict)}
    seen: set[str] = set()
    out: list[dict] = []
    for index, item in enumerate(annotations):
        where = f"Annotation n° {index + 1}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} : un objet est attendu.")
        kind = item.get("kind")
        if kind not in ANNOTATION_KINDS:
            raise InvalidInput(
                f"{where} : type « {kind} » inconnu (attendus : {', '.join(ANNOTATION_KINDS)})."
            )
        page = item.get("page", 0)
        if isinstance(page, bool) or not isinstance(page, int):
            raise InvalidInput(f"{where} : le numéro de page doit être un entier.")
        last_page = max(pages - 1, 0)
        if not 0 <= page <= last_page:
            raise InvalidInput(f"{where} : page {page} inexistante (0 à {last_page}).")
        geometry: dict[str, float] = {}
        for key, default in (("x", 0.0), ("y", 0.0), ("w", 0.0), ("h", 0.0)):
            value = item.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"{where} : « {key} » doit être un nombre entre 0 et 1.")
            if not 0 <= value <= 1:
                raise InvalidInput(f"{where} : « {key} » doit être compris entre 0 et 1.")
            geometry[key] = round(float(value), 4)
        if geometry["x"] + geometry["w"] > 1.0001 or geometry["y"] + geometry["h"] > 1.0001:
            raise InvalidInput(f"{where} : l'annotation déborde de la page.")
        text = item.get("text") or ""
        if not isinstance(text, str):
            raise InvalidInput(f"{where} : le texte doit être une chaîne.")
        text = text.strip()
        if len(text) > ANNOTATION_TEXT_MAX:
            raise InvalidInput(
                f"{where} : texte trop long (au plus {ANNOTATION_TEXT_MAX} caractères)."
            )
        if kind in ("comment", "appreciation") and not text:
            raise InvalidInput(f"{where} : un commentaire ou une appréciation doit avoir un texte.")
        ident = item.get("id")
        if ident is not None and (not isinstance(ident, str) or not 0 < len(ident) <= 64):
            raise InvalidInput(f"{where} : identifiant invalide.")
        ident = ident or uuid.uuid4().hex[:12]
        if ident in seen:
            raise InvalidInput(f"{where} : identifiant « {ident} » en double.")
        seen.add(ident)
        annotation = {"id": ident, "page": page, "kind": kind, **geometry, "text": text}
        before = known.get(ident)
        annotation["author"], annotation["at"] = author, at
        if before is not None and all(
            before.get(key) == annotation[key]
            for key in ("page", "kind", "x", "y", "w", "h", "text")
        ):
            annotation["author"] = before.get("author", author)
            annotation["at"] = before.get("at", at)
        out.append(annotation)
    return out
