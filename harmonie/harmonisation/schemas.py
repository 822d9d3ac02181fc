"""Typed request bodies of the mass-harmonisation API (API.md §2): the scenario, the
simulation, the comparison, the execution. Types only; the rules (R-MASS-*, R-FAIR-5)
are checked by the services, which receive the drafts built here."""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from harmonie.harmonisation.scenarios import ScenarioDraft, scenarios_count_check
from harmonie.harmonisation.services import ReasonDraft
from harmonie.schemas import Identifier, Number, ScriptFilterIn, StrictSchema

SCENARIOS_HELP = "Scénarios : [{filter, action: {type, points}}], 100 au plus (R-MASS-1)"


class ActionIn(StrictSchema):
    type: str | None = Field(None, description="raise, lower ou reset")
    points: Number = Field(
        None,
        description="Points ajoutés ou retirés (positifs, au pas de l'épreuve) ; absent pour reset",
    )


class ScenarioIn(StrictSchema):
    filter: ScriptFilterIn | None = Field(
        None, description="Copies visées ; les notes lues sont les notes initiales (R-MASS-4b)"
    )
    action: ActionIn | None = None

    def draft(self) -> ScenarioDraft:
        return ScenarioDraft(
            filter=self.filter.data() if self.filter is not None else {},
            action_type=self.action.type if self.action is not None else None,
            points=self.action.points if self.action is not None else None,
        )


def drafts(scenarios: list[ScenarioIn] | None) -> list[ScenarioDraft]:
    return [scenario.draft() for scenario in scenarios or []]


def _capped(value: Any) -> Any:
    """R-MASS-1: past the cap, refused before any scenario is read (the service's message)."""
    if isinstance(value, list | tuple):
        scenarios_count_check(count=len(value))
    return value


ScenarioList = Annotated[list[ScenarioIn], BeforeValidator(_capped)]


class ScenariosIn(StrictSchema):
    scenarios: ScenarioList = Field([], description=SCENARIOS_HELP)


class SimulationIn(StrictSchema):
    scenarios: ScenarioList = Field([], description=SCENARIOS_HELP)
    display: ScriptFilterIn | None = Field(
        None, description="Filtre d'affichage des graphiques (lit les notes finales)"
    )
    replays: Identifier | None = Field(
        None,
        description="Harmonisation dont ces scénarios sont rejoués (facultatif) : une annulation "
        "rejouée dit alors combien de ses candidats elle laisserait harmonisés (R-MASS-14)",
    )


class DraftIn(StrictSchema):
    scenarios: ScenarioList = Field([], description=SCENARIOS_HELP)


class ComparisonIn(StrictSchema):
    a: DraftIn
    b: DraftIn
    display: ScriptFilterIn | None = Field(
        None, description="Filtre d'affichage des graphiques (lit les notes finales)"
    )


class ReasonIn(StrictSchema):
    code: str | None = Field(
        "other",
        description="grader_severity, grader_leniency, subject_difficulty, scheme_error, "
        "scanning_incident ou other (R-FAIR-5)",
    )
    text: str | None = Field("", description="Précision (facultative, 1 000 caractères au plus)")

    def draft(self) -> ReasonDraft:
        return ReasonDraft(code=self.code or "other", text=self.text or "")


class ExecutionIn(StrictSchema):
    simulation: Identifier | None = Field(None, description="Identifiant de la simulation affichée")
    name: str | None = Field("", description="Nom pour l'historique (facultatif, 200 caractères)")
    scenarios: ScenarioList | None = Field(
        None, description="Scénarios tels qu'affichés (facultatif) : refusés s'ils diffèrent"
    )
    reason: ReasonIn | None = Field(None, description="Motif (R-FAIR-5) ; absent : `other`")
