"""Typed API inputs shared by several apps (API.md §2), and their errors in French.

The request schemas type what a client sends (numbers, lists of natural keys, objects);
the business rules (R-...) stay in the services. A type error (wrong type, missing or
unknown field) is answered by `validation_message` with the field's path, in French:
« scenarios[0].action.points : nombre attendu (reçu « abc ») ».
"""

import datetime as dt
import math
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from pydantic_core import PydanticCustomError

from harmonie.errors import InvalidInput

_NOT_A_NUMBER = "nombre attendu"


def _number(value: Any) -> Any:
    """A mark or a number of points: a JSON number, or a text in French or English
    notation (« 12,5 », what a form field holds); an empty text is no value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("number_type", _NOT_A_NUMBER)
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise PydanticCustomError("number_parsing", _NOT_A_NUMBER) from None
    if not math.isfinite(value):
        raise PydanticCustomError("number_finite", "nombre fini attendu")
    return value


# A number (marks, points): `null`, a JSON number or a numeric text; never a boolean.
Number = Annotated[float | None, BeforeValidator(_number)]


def _strict_number(value: Any) -> Any:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("number_type", _NOT_A_NUMBER)


# A JSON number only (positions and sizes of an annotation).
StrictNumber = Annotated[float | None, BeforeValidator(_strict_number)]
# An identifier the API returned (a simulation, a harmonisation): a JSON integer.
Identifier = StrictInt

_YES = frozenset({"1", "true", "on", "oui"})
_NO = frozenset({"0", "false", "off", "non"})
_YES_NO = "oui ou non attendu (true, false)"


def _toggle(value: Any) -> Any:
    """A yes/no of a query string: true/false, 1/0, on/off, oui/non (any case); an empty
    text is no value."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text == "":
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise PydanticCustomError("toggle_parsing", _YES_NO)


# A yes/no query parameter (`locked_only=true`); None when absent or empty.
Toggle = Annotated[bool | None, BeforeValidator(_toggle)]


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# A whole number of a query string (`limit=50`); None when absent or empty.
QueryInteger = Annotated[int | None, BeforeValidator(_blank_none)]


def _iso_date(value: Any) -> Any:
    """A day written AAAA-MM-JJ (ISO 8601, as `date.fromisoformat` reads it); an empty
    text is no value."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise PydanticCustomError("date_parsing", "date attendue (AAAA-MM-JJ)")


# A day of a query string (`from=2026-06-01`); None when absent or empty.
IsoDate = Annotated[dt.date | None, BeforeValidator(_iso_date)]


class StrictSchema(BaseModel):
    """An input schema: an unknown field is refused (« champ inconnu »), not ignored.

    A plain pydantic model, not a Django Ninja `Schema`: inputs are never read from
    Django objects, and Ninja's per-object wrapper took a millisecond per scenario
    (20 s for a body of 20,000 scenarios, refused at once before, API.md §2)."""

    model_config = ConfigDict(extra="forbid")


class AnswerSchema(BaseModel):
    """An answer schema for dicts and lists a selector built (the script list, the
    statistics, the linked choices). A plain pydantic model too: Ninja's `Schema` wraps
    every nested row in its Django attribute reader, a fifth of the CPU of a page of 50
    scripts (bench/load/profile.py, issue 16). The OpenAPI document is the same."""


def _codes(description: str) -> Any:
    return Field(None, description=description)


class ScriptFilterIn(StrictSchema):
    """The script filter object of API.md §2 (every key optional; lists are OR inside a
    key and AND across keys). Natural keys and marks are checked by the filter parser."""

    departments: list[str] | None = _codes("Codes de département")
    schools: list[str] | None = _codes("UAI des établissements d'inscription")
    class_groups: list[str] | None = _codes("Codes de division de classe")
    qualifications: list[str] | None = _codes("Codes de qualification")
    juries: list[str] | None = _codes("Codes de jury")
    graders: list[str] | None = _codes("Identifiants des correcteurs")
    batches: list[str] | None = _codes("Codes de lot")
    subjects: list[str] | None = _codes("Codes de sujet")
    mark_min: Number = Field(None, description="Note minimale (incluse)")
    mark_max: Number = Field(None, description="Note maximale (incluse)")
    mark_part: str | None = Field(
        None, description="Code d'une partie du barème : les notes min. et max. s'y appliquent"
    )

    def data(self) -> dict[str, Any]:
        """The keys given, as the filter parser reads them (empty values dropped)."""
        return {
            key: value
            for key, value in self.model_dump().items()
            if value not in (None, "", [], ())
        }


class ScriptFilterQuery(StrictSchema):
    """The script filter in a query string: lists repeated (`?schools=A&schools=B`) or
    separated by commas (`?schools=A,B`); marks in either notation (« 12,5 »)."""

    departments: list[str] = Field([], description="Codes de département")
    schools: list[str] = Field([], description="UAI des établissements d'inscription")
    class_groups: list[str] = Field([], description="Codes de division de classe")
    qualifications: list[str] = Field([], description="Codes de qualification")
    juries: list[str] = Field([], description="Codes de jury")
    graders: list[str] = Field([], description="Identifiants des correcteurs")
    batches: list[str] = Field([], description="Codes de lot")
    subjects: list[str] = Field([], description="Codes de sujet")
    mark_min: Number = Field(None, description="Note minimale (incluse)")
    mark_max: Number = Field(None, description="Note maximale (incluse)")
    mark_part: str | None = Field(None, description="Code d'une partie du barème")

    def data(self) -> dict[str, Any]:
        """The keys given, as the filter parser reads them (empty values dropped)."""
        out: dict[str, Any] = {}
        for key, value in self.model_dump().items():
            if key not in ScriptFilterIn.model_fields:
                continue
            if isinstance(value, list):
                value = [item for item in value if item.strip()]
            if value not in (None, "", []):
                out[key] = value
        return out


def query_unknown_refuse(*, keys: Iterable[str], schema: type[BaseModel]) -> None:
    """Refuse a query parameter the schema does not declare (Django Ninja ignores it):
    « Paramètre « x » inconnu. », its name in `details.key`."""
    declared = {field.alias or name for name, field in schema.model_fields.items()}
    unknown = [key for key in keys if key not in declared]
    if unknown:
        raise InvalidInput(f"Paramètre « {unknown[0]} » inconnu.", details={"key": unknown[0]})


_MESSAGES = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": _NOT_A_NUMBER,
    "float_parsing": _NOT_A_NUMBER,
    "number_type": _NOT_A_NUMBER,
    "number_parsing": _NOT_A_NUMBER,
    "number_finite": "nombre fini attendu",
    "mark_type": "note attendue (nombre ou texte)",
    "finite_number": "nombre fini attendu",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "toggle_parsing": _YES_NO,
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "literal_error": "valeur non prévue",
    "enum": "valeur non prévue",
    "too_long": "trop d'éléments",
    "string_too_long": "texte trop long",
}
# The first parts of a Django Ninja error location: where the value came from and the
# view's parameter holding the schema; neither is a field the client wrote.
_SOURCES = ("body", "query", "path", "header", "cookie", "form", "file")
_PARAMETERS = ("payload", "filters", "params")


def field_path(loc: tuple | list) -> str:
    """`("body", "payload", "scenarios", 0, "action")` → `scenarios[0].action`."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _PARAMETERS:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _shown(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        text = str(value)
        return text if len(text) <= 40 else text[:39] + "…"
    return None


def validation_message(errors: list[dict]) -> str:
    """The first type error of a request, in French, with its field's path."""
    if not errors:
        return "Requête invalide."
    first = errors[0]
    kind = first.get("type", "")
    what = _MESSAGES.get(kind, "valeur incorrecte")
    where = field_path(first.get("loc", ()))
    if kind not in ("missing", "extra_forbidden"):
        shown = _shown(first.get("input"))
        if shown is not None:
            what += f" (reçu « {shown} »)"
    if not where:
        return f"Requête invalide : {what}."
    return f"Requête invalide : {where} : {what}."


def validation_details(errors: list[dict]) -> list[dict]:
    """Each error as `{"field", "code", "message"}` (the input itself is not echoed)."""
    return [
        {
            "field": field_path(error.get("loc", ())),
            "code": error.get("type", ""),
            "message": _MESSAGES.get(error.get("type", ""), "valeur incorrecte"),
        }
        for error in errors
    ]
