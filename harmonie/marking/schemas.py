"""Typed requests of the unit-harmonisation API (API.md §2): the marking body and the
script list's query. Types only; the rules (R-MARK-1..4, R-UNIT-4) are checked by the
marking rules, which receive the values typed here."""

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from harmonie.schemas import QueryInteger, ScriptFilterQuery, StrictNumber, StrictSchema, Toggle


def _leaf_mark(value: Any) -> Any:
    """A leaf's mark: a JSON number, or the text typed in the field (the rules say why a
    text is not a mark, naming the leaf); never a boolean, a list or an object."""
    if value is None or (isinstance(value, int | float | str) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("mark_type", "note attendue (nombre ou texte)")


LeafMark = Annotated[float | str | None, BeforeValidator(_leaf_mark)]


class AnnotationIn(StrictSchema):
    """An annotation as `GET /scripts/{id}` gives it; `author` and `at` are set by the
    server (kept for an unchanged annotation), any other key is ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, description="Identifiant (absent : une nouvelle annotation)")
    kind: str | None = Field(None, description="tick, cross, highlight, underline, comment…")
    page: StrictInt = Field(0, description="Numéro de page, à partir de 0")
    x: StrictNumber = Field(None, description="Position et taille en fractions de la page (0 à 1)")
    y: StrictNumber = None
    w: StrictNumber = None
    h: StrictNumber = None
    text: str | None = Field(None, description="Texte d'un commentaire ou d'une appréciation")
    author: str | None = None
    at: str | None = None

    def data(self) -> dict[str, Any]:
        """The object the annotation rules read (keys not sent stay absent)."""
        return self.model_dump(exclude={"author", "at"}, exclude_unset=True)


class MarkingIn(StrictSchema):
    marks: dict[str, LeafMark] = Field(
        {}, description="Note de chaque feuille du barème, par code (R-MARK-1)"
    )
    special_mark: str | None = Field(None, description="Note particulière (AB, CB…) ou null")
    annotations: list[AnnotationIn] | None = Field(
        None, description="Annotations (500 au plus) ; absentes : inchangées"
    )
    version: StrictInt | None = Field(
        None, description="Version lue de la copie : 409 si elle a changé depuis"
    )


class FilterOptionsQuery(ScriptFilterQuery):
    locked_only: Toggle = Field(None, description="true : lots verrouillés seulement")


class ScriptListQuery(ScriptFilterQuery):
    q: str | None = Field(None, description="Identifiant de copie recherché")
    sort: str | None = Field(
        None, description="mark, school, department, grader, subject ou id (- : décroissant)"
    )
    cursor: str | None = Field(None, description="Curseur de la page (next_cursor)")
    limit: QueryInteger = Field(None, description="Copies par page")
    harmonised: str | None = Field(None, description="true ou false")
    conforming: str | None = Field(None, description="true ou false")
