"""API endpoints of unit harmonisation and grading (API.md §2); mounted under /api/v1.

`GET /scripts/{id}` is served by harmonie.explanation.api: its explanation reads the
harmonisations, which this app never imports.
"""

from django.http import HttpRequest
from ninja import Query, Router

from harmonie.marking.exams import exam_summaries
from harmonie.marking.options import scope_filter_options
from harmonie.marking.permissions import (
    MarkingMode,
    exam_for_script_filter,
    script_abilities,
    script_access,
    scripts_in_scope,
)
from harmonie.marking.schemas import FilterOptionsQuery, MarkingIn, ScriptListQuery
from harmonie.marking.selectors import list_params_parse, script_detail, script_list
from harmonie.marking.services import script_marking_update
from harmonie.referential.permissions import exam_get_for_user
from harmonie.referential.selectors import exam_scheme
from harmonie.schemas import AnswerSchema, query_unknown_refuse
from harmonie.scriptfilter import script_filter_parse

router = Router(tags=["harmonisation unitaire"])


class ExamOut(AnswerSchema):
    code: str
    label: str
    session: str
    kind: str
    max_mark: float
    step: float
    special_marks: list[str]
    scheme: list[dict]
    scripts: int
    batches: int
    locked_batches: int
    abilities: dict[str, bool]


class OptionOut(AnswerSchema):
    value: str
    label: str
    count: int


class ScriptRowOut(AnswerSchema):
    id: str
    final_mark: float | None
    initial_mark: float | None
    delta: float | None
    special_mark: str | None
    is_harmonised: bool
    version: int
    department: str
    school: str
    school_label: str
    grader: str | None
    grader_name: str
    subject: str | None
    batch: str | None
    abilities: dict[str, bool]


class ScriptPageOut(AnswerSchema):
    results: list[ScriptRowOut]
    next_cursor: str | None
    previous_cursor: str | None = None
    page: int | None = None
    pages: int = 1
    count: int
    filter: dict


@router.get(
    "/exams",
    response=list[ExamOut],
    summary="Épreuves visibles par l'utilisateur",
    tags=["épreuves"],
)
def exams_list(request: HttpRequest) -> list[dict]:
    return [
        {
            "code": summary.exam.code,
            "label": summary.exam.label,
            "session": summary.exam.session.code,
            "kind": summary.exam.kind,
            "max_mark": float(summary.exam.max_mark),
            "step": float(summary.exam.step),
            "special_marks": summary.exam.special_marks,
            "scheme": [node.as_dict() for node in exam_scheme(exam=summary.exam)],
            "scripts": summary.scripts,
            "batches": summary.batches,
            "locked_batches": summary.locked_batches,
            "abilities": summary.abilities.as_dict(),
        }
        for summary in exam_summaries(user=request.auth)
    ]


@router.get(
    "/exams/{exam}/filter-options",
    response=dict[str, list[OptionOut]],
    summary="Choix liés des filtres (R-MASS-5)",
)
def filter_options_get(request: HttpRequest, exam: str, filters: Query[FilterOptionsQuery]) -> dict:
    user = request.auth
    exam_obj = exam_for_script_filter(user=user, code=exam)
    query_unknown_refuse(keys=request.GET, schema=FilterOptionsQuery)
    scripts = scripts_in_scope(user=user, exam=exam_obj)
    script_filter = script_filter_parse(
        data=filters.data(), exam=exam_obj, user=user, scripts=scripts
    )
    return scope_filter_options(
        user=user,
        exam=exam_obj,
        script_filter=script_filter,
        locked_only=bool(filters.locked_only),
    )


@router.get(
    "/exams/{exam}/scripts",
    response=ScriptPageOut,
    summary="Liste des copies des lots verrouillés (harmonisation unitaire)",
)
def scripts_list(request: HttpRequest, exam: str, filters: Query[ScriptListQuery]) -> dict:
    user = request.auth
    exam_obj = exam_get_for_user(user=user, code=exam)
    query_unknown_refuse(keys=request.GET, schema=ScriptListQuery)
    script_filter = script_filter_parse(
        data=filters.data(),
        exam=exam_obj,
        user=user,
        scripts=scripts_in_scope(user=user, exam=exam_obj),
    )
    params = list_params_parse(
        sort=filters.sort,
        q=filters.q,
        cursor=filters.cursor,
        limit=filters.limit,
        harmonised=filters.harmonised,
        conforming=filters.conforming,
    )
    page = script_list(user=user, exam=exam_obj, script_filter=script_filter, params=params)
    # The list holds the scripts of locked batches, opened in unit harmonisation (R-UNIT-1).
    abilities = script_abilities(mode=MarkingMode.UNIT, locked=True)
    return {
        "results": [{**row, "abilities": abilities} for row in page.rows],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "page": page.number,
        "pages": page.pages,
        "count": page.count,
        "filter": script_filter.as_dict(),
    }


@router.put(
    "/scripts/{script_id}/marking",
    summary="Enregistrer la correction d'une copie (harmonisation unitaire ou correction)",
)
def script_marking_put(request: HttpRequest, script_id: str, payload: MarkingIn) -> dict:
    user = request.auth
    script = script_marking_update(
        user=user,
        public_id=script_id,
        marks=payload.marks,
        special_mark=payload.special_mark,
        annotations=[item.data() for item in payload.annotations]
        if payload.annotations is not None
        else None,
        version=payload.version,
    )
    access = script_access(user=user, script=script)
    return {
        **script_detail(script=script, can_edit=access.can_edit, mode=access.mode.value),
        "abilities": access.abilities(),
    }
