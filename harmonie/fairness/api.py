"""GET /exams/{exam}/grader-severity, its proposal and the minutes PDF (API.md
« Additions », R-FAIR-1, R-FAIR-2, R-FAIR-6); mounted under /api/v1 by config.api."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from harmonie.fairness.minutes import minutes_filename, minutes_pdf, minutes_range
from harmonie.fairness.permissions import fairness_exam_get
from harmonie.fairness.schemas import GraderSeverityQuery, MinutesQuery, ProposalQuery
from harmonie.fairness.selectors import (
    grader_proposal_build,
    grader_severity,
    severity_query_parse,
)
from harmonie.schemas import query_unknown_refuse

router = Router(tags=["équité"])


class GraderOut(Schema):
    grader: str
    name: str
    scripts: int
    mean: float
    naive_effect: float
    effect: float
    ci_low: float | None
    ci_high: float | None
    flag: str | None


class SeverityOut(Schema):
    exam: str
    filter: dict
    locked_only: bool
    part: str | None
    basis: str
    tolerance: float
    max_mark: float
    method: str
    count: int
    mean: float | None
    sigma: float | None
    df: int
    graders: list[GraderOut]


class FairnessReasonOut(Schema):
    code: str
    text: str


class ProposedGraderOut(Schema):
    grader: str
    name: str
    flag: str
    effect: float
    ci_low: float | None
    ci_high: float | None
    action: dict


class ProposalOut(Schema):
    scenarios: list[dict]
    reason: FairnessReasonOut
    graders: list[ProposedGraderOut]
    part: str | None
    tolerance: float


@router.get(
    "/exams/{exam}/grader-severity",
    response=SeverityOut,
    summary="Effets correcteurs avec leur intervalle à 95 % (R-FAIR-1)",
    description=(
        "Par correcteur de l'académie : copies, moyenne, écart brut à la moyenne, effet "
        "estimé en points (moindres carrés, corrigé de la qualification et du sujet), "
        "intervalle à 95 % et signalement (lenient, severe, to_review ou null) selon la "
        "tolérance de l'épreuve. Filtre des statistiques dans la chaîne de requête (mêmes "
        "clés, et locked_only), `part=<code>` pour une partie du barème (tolérance au "
        "prorata de son maximum), `basis=final` pour les notes après harmonisation."
    ),
)
def grader_severity_get(
    request: HttpRequest, exam: str, filters: Query[GraderSeverityQuery]
) -> dict:
    exam_obj = fairness_exam_get(user=request.auth, code=exam)
    query_unknown_refuse(keys=request.GET, schema=GraderSeverityQuery)
    query = severity_query_parse(data=filters.data(), exam=exam_obj, user=request.auth)
    return grader_severity(user=request.auth, exam=exam_obj, query=query).as_dict()


@router.get(
    "/exams/{exam}/grader-severity/proposal",
    response=ProposalOut,
    summary="Harmonisation proposée d'après les correcteurs signalés (R-FAIR-2)",
    description=(
        "Un scénario par correcteur signalé indulgent (minoration) ou sévère (majoration), "
        "de son effet arrondi vers zéro au pas de l'épreuve, et le motif à donner à "
        "l'exécution. Rien n'est exécuté : les scénarios sont prêts pour "
        "`POST /exams/{exam}/simulations`. `part=<code>` : d'après l'effet sur une partie."
    ),
)
def grader_proposal_get(request: HttpRequest, exam: str, params: Query[ProposalQuery]) -> dict:
    exam_obj = fairness_exam_get(user=request.auth, code=exam)
    query = severity_query_parse(
        data={"part": params.part} if params.part else {}, exam=exam_obj, user=request.auth
    )
    return grader_proposal_build(user=request.auth, exam=exam_obj, part=query.part)


@router.get(
    "/exams/{exam}/minutes.pdf",
    summary="Procès-verbal de la commission d'harmonisation, en PDF (R-FAIR-6)",
    description=(
        "`from` et `to` (AAAA-MM-JJ, inclus ; par défaut de la première harmonisation à "
        "aujourd'hui). Harmonisations exécutées, motifs, scénarios, annulations, moyenne "
        "et répartition avant et après, correcteurs signalés, validations, signatures."
    ),
    openapi_extra={
        "responses": {
            "200": {
                "description": "Le procès-verbal",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def minutes_get(request: HttpRequest, exam: str, params: Query[MinutesQuery]) -> HttpResponse:
    exam_obj = fairness_exam_get(user=request.auth, code=exam)
    dates = minutes_range(
        start=params.date_from, end=params.date_to, exam=exam_obj, user=request.auth
    )
    response = HttpResponse(
        minutes_pdf(user=request.auth, exam=exam_obj, dates=dates), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{minutes_filename(exam=exam_obj, dates=dates)}"'
    )
    return response
