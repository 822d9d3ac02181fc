"""GET /api/v1/exams/{exam}/statistics (API.md §2, R-MASS-13)."""

from django.http import HttpRequest
from ninja import Query, Router

from harmonie.schemas import AnswerSchema, query_unknown_refuse
from harmonie.statistics.permissions import statistics_exam_get
from harmonie.statistics.schemas import StatisticsQuery
from harmonie.statistics.selectors import exam_statistics, statistics_filter_parse

router = Router(tags=["statistiques"])


class HistogramBinOut(AnswerSchema):
    mark: float
    count: int


class SpecialMarkOut(AnswerSchema):
    code: str
    count: int


class GroupOut(AnswerSchema):
    code: str
    label: str
    count: int
    mean: float | None
    std: float | None


class StatisticsOut(AnswerSchema):
    exam: str
    filter: dict
    locked_only: bool
    count: int
    mean: float | None
    std: float | None
    median: float | None
    max_mark: float
    step: float
    histogram: list[HistogramBinOut]
    special_marks: list[SpecialMarkOut]
    unmarked: int
    by_school: list[GroupOut]
    by_qualification: list[GroupOut]
    by_grader: list[GroupOut]


@router.get(
    "/exams/{exam}/statistics",
    response=StatisticsOut,
    summary="Statistiques de correction d'une épreuve",
    description=(
        "Répartition des notes (histogramme au pas de l'épreuve), moyenne, écart type et "
        "médiane, moyennes par établissement, par qualification et par correcteur, sur les "
        "copies de l'utilisateur ayant une note numérique. Filtre dans la chaîne de requête, "
        "mêmes clés que l'objet filtre d'API.md (listes répétées ou séparées par des "
        "virgules), plus `locked_only=true` pour ne compter que les lots verrouillés. Les "
        "notes particulières (AB, CB...) sont comptées à part."
    ),
)
def exam_statistics_get(request: HttpRequest, exam: str, filters: Query[StatisticsQuery]) -> dict:
    exam_obj = statistics_exam_get(user=request.auth, code=exam)
    query_unknown_refuse(keys=request.GET, schema=StatisticsQuery)
    script_filter, locked_only = statistics_filter_parse(
        data=filters.data(), exam=exam_obj, user=request.auth
    )
    return exam_statistics(
        user=request.auth, exam=exam_obj, script_filter=script_filter, locked_only=locked_only
    ).as_dict()
