"""API endpoints of this app (API.md §2); mounted under /api/v1 by config.api.

Bodies are typed by harmonie.harmonisation.schemas (a type error is a 400 naming the
field, in French); the services check the rules and name the scenario and the key.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from harmonie.harmonisation.models import Simulation
from harmonie.harmonisation.schemas import (
    ComparisonIn,
    ExecutionIn,
    ScenariosIn,
    SimulationIn,
    drafts,
)
from harmonie.harmonisation.selectors import (
    conformity_state,
    harmonisation_get,
    harmonisation_list,
    scenario_population,
)
from harmonie.harmonisation.services import (
    Draft,
    comparison_create,
    conformity_apply,
    harmonisation_execute,
    simulation_create,
    undo_simulation_create,
)

router = Router(tags=["harmonisation en masse"])


class PopulationCountOut(Schema):
    total: int
    harmonisable: int
    not_harmonisable: dict[str, int]


class PopulationOut(Schema):
    scenarios: list[PopulationCountOut]


class Bar(Schema):
    mark: float
    count: int


class ScenarioOutcomeOut(Schema):
    matched: int
    applied: int
    skipped: dict[str, int]


class CrossingOut(Schema):
    threshold: float
    up: int
    down: int
    scripts_up: list[str]
    scripts_down: list[str]


class ReplayLeftoverOut(Schema):
    harmonisation: int
    count: int


class UndoScenarioOut(Schema):
    scenario: int
    scripts: int
    points: float


class UndoOut(Schema):
    harmonisation: int
    scenarios: list[UndoScenarioOut]


class SimulationOut(Schema):
    id: int
    marks_version: int
    before: list[Bar]
    after: list[Bar]
    count: int
    changed: int
    mean_before: float | None
    mean_after: float | None
    scenarios: list[ScenarioOutcomeOut]
    crossings: list[CrossingOut] = []
    replay_leftover: ReplayLeftoverOut | None = None
    undo: UndoOut | None = None


class ComparisonOut(Schema):
    a: SimulationOut
    b: SimulationOut
    differ: int


class Author(Schema):
    first_name: str
    last_name: str


class ScenarioOut(Schema):
    position: int
    filter: dict
    description: list[list[str]]
    action: dict
    action_label: str
    matched: int
    applied: int
    ignored: int
    skipped: dict[str, int]


class HarmonisationReasonOut(Schema):
    code: str
    label: str
    text: str


class LinkOut(Schema):
    id: int
    name: str
    executed_at: datetime


class HarmonisationOut(Schema):
    id: int
    exam: str
    name: str
    author: Author
    executed_at: datetime
    is_cancellation: bool
    reason: HarmonisationReasonOut
    cancels: int | None
    cancels_harmonisation: LinkOut | None
    cancelled_by: LinkOut | None
    undoable: bool = Field(
        False, description="Une annulation exacte a quelque chose à faire (R-MASS-14)"
    )
    scenarios: list[ScenarioOut]
    replay: list[dict]
    abilities: dict[str, bool] = Field(
        description="Ce que l'utilisateur peut faire : view, replay, undo (R-ACC-1)"
    )


class ConformityOut(Schema):
    state: str
    not_conforming_count: int
    has_parts: bool
    made_conforming: int | None = None


@router.post(
    "/exams/{exam}/scenario-population",
    response=PopulationOut,
    summary="Informations sur les candidats de chaque scénario (R-MASS-6)",
)
def scenario_population_post(request: HttpRequest, exam: str, payload: ScenariosIn) -> dict:
    counts = scenario_population(
        user=request.auth, exam_code=exam, scenarios=drafts(payload.scenarios)
    )
    return {"scenarios": counts}


@router.post(
    "/exams/{exam}/simulations",
    response={201: SimulationOut},
    summary="Simuler une harmonisation : graphiques AVANT et APRÈS (R-MASS-8)",
)
def simulation_post(request: HttpRequest, exam: str, payload: SimulationIn) -> Status:
    simulation = simulation_create(
        user=request.auth,
        exam_code=exam,
        scenarios=drafts(payload.scenarios),
        display=payload.display.data() if payload.display is not None else None,
        replays=payload.replays,
    )
    return Status(201, _simulation_answer(simulation))


def _simulation_answer(simulation: Simulation) -> dict:
    return {"id": simulation.pk, "marks_version": simulation.marks_version, **simulation.result}


@router.post(
    "/exams/{exam}/comparisons",
    response={201: ComparisonOut},
    summary="Comparer deux versions d'une harmonisation sur les mêmes données (R-FAIR-4)",
)
def comparison_post(request: HttpRequest, exam: str, payload: ComparisonIn) -> Status:
    comparison = comparison_create(
        user=request.auth,
        exam_code=exam,
        a=Draft(scenarios=drafts(payload.a.scenarios)),
        b=Draft(scenarios=drafts(payload.b.scenarios)),
        display=payload.display.data() if payload.display is not None else None,
    )
    return Status(
        201,
        {
            "a": _simulation_answer(comparison.a),
            "b": _simulation_answer(comparison.b),
            "differ": comparison.differ,
        },
    )


@router.post(
    "/harmonisations/{harmonisation_id}/undo-simulation",
    response={201: SimulationOut},
    summary="Simuler l'annulation exacte d'une harmonisation (R-MASS-14)",
)
def undo_simulation_post(request: HttpRequest, harmonisation_id: int) -> Status:
    simulation = undo_simulation_create(user=request.auth, harmonisation_id=harmonisation_id)
    return Status(201, _simulation_answer(simulation))


@router.post(
    "/exams/{exam}/harmonisations",
    response={201: HarmonisationOut},
    summary="Exécuter une harmonisation simulée (R-MASS-9, R-MASS-10)",
)
def harmonisation_post(request: HttpRequest, exam: str, payload: ExecutionIn) -> Status:
    harmonisation = harmonisation_execute(
        user=request.auth,
        exam_code=exam,
        simulation_id=payload.simulation,
        name=payload.name or "",
        scenarios=drafts(payload.scenarios) if payload.scenarios is not None else None,
        reason=payload.reason.draft() if payload.reason is not None else None,
    )
    return Status(201, harmonisation_get(user=request.auth, harmonisation_id=harmonisation.pk))


@router.get(
    "/exams/{exam}/harmonisations",
    response=list[HarmonisationOut],
    summary="Historique des harmonisations, la plus récente d'abord (R-MASS-11)",
)
def harmonisations_get(request: HttpRequest, exam: str) -> list[dict]:
    return harmonisation_list(user=request.auth, exam_code=exam)


@router.get(
    "/harmonisations/{harmonisation_id}",
    response=HarmonisationOut,
    summary="Une harmonisation, ses scénarios et de quoi la rejouer (R-MASS-11)",
)
def harmonisation_detail(request: HttpRequest, harmonisation_id: int) -> dict:
    return harmonisation_get(user=request.auth, harmonisation_id=harmonisation_id)


@router.get(
    "/exams/{exam}/conformity",
    response=ConformityOut,
    summary="État de mise en conformité (R-MASS-12)",
)
def conformity_get(request: HttpRequest, exam: str) -> dict:
    return conformity_state(user=request.auth, exam_code=exam)


@router.post(
    "/exams/{exam}/conformity",
    response=ConformityOut,
    summary="Rendre conforme : répartir l'harmonisation sur les parties (R-MASS-12)",
)
def conformity_post(request: HttpRequest, exam: str) -> dict:
    made = conformity_apply(user=request.auth, exam_code=exam)
    return {**conformity_state(user=request.auth, exam_code=exam), "made_conforming": made}
