"""Typed queries of the fairness API (API.md « Additions », R-FAIR-1, R-FAIR-2, R-FAIR-6):
the statistics' filter and toggle with `part` and `basis`, the proposal's `part`, the
minutes' dates. Types only; the part's code, the basis and the range are checked by the
parsers (`severity_query_parse`, `minutes_range_parse`)."""

from typing import Any

from pydantic import Field

from harmonie.fairness.selectors import BASIS_KEY, PART_KEY
from harmonie.schemas import IsoDate, StrictSchema
from harmonie.statistics.schemas import StatisticsQuery

_PART = "Code d'une partie du barème : l'effet estimé sur la note de cette partie"


class GraderSeverityQuery(StatisticsQuery):
    part: str | None = Field(None, description=_PART)
    basis: str | None = Field(
        None, description="Notes lues : initial (la correction, par défaut) ou final"
    )

    def data(self) -> dict[str, Any]:
        """The filter, the toggle, `part` and `basis`, as `severity_query_parse` reads
        them (absent ones left out)."""
        extra = {PART_KEY: self.part, BASIS_KEY: self.basis}
        return {**super().data(), **{k: v for k, v in extra.items() if v is not None}}


class ProposalQuery(StrictSchema):
    part: str | None = Field(None, description=_PART)


class MinutesQuery(StrictSchema):
    date_from: IsoDate = Field(None, alias="from", description="Premier jour (AAAA-MM-JJ)")
    date_to: IsoDate = Field(None, alias="to", description="Dernier jour (AAAA-MM-JJ)")
