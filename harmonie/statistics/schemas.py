"""Typed query of the statistics API (API.md §2, R-MASS-13): the script filter's keys and
the « lots verrouillés seulement » toggle. Types only; the natural keys and the mark
bounds are checked by the filter parser."""

from typing import Any

from pydantic import Field

from harmonie.schemas import ScriptFilterQuery, Toggle
from harmonie.scriptfilter import LOCKED_ONLY_KEY


class StatisticsQuery(ScriptFilterQuery):
    locked_only: Toggle = Field(None, description="true : lots verrouillés seulement")

    def data(self) -> dict[str, Any]:
        """The filter keys given and the toggle, as `statistics_filter_parse` reads them."""
        return {**super().data(), LOCKED_ONLY_KEY: bool(self.locked_only)}
