"""The statistics page and its exports (R-MASS-13, R-UNIT-5, R-MASS-7)."""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from harmonie.errors import InvalidInput
from harmonie.marking.options import scope_filter_options
from harmonie.pages import domain_refusals
from harmonie.referential.models import Exam
from harmonie.referential.permissions import exam_abilities
from harmonie.referential.selectors import exam_scheme
from harmonie.scriptfilter import LISTS, ScriptFilter, script_filter_describe
from harmonie.statistics.exports import (
    FORMATS,
    TABLES,
    statistics_table,
    table_csv,
    table_xlsx,
)
from harmonie.statistics.permissions import statistics_exam_get
from harmonie.statistics.selectors import (
    LOCKED_ONLY_KEY,
    exam_statistics,
    statistics_filter_parse,
)

# The filter widgets of the page, in its order; labels from the filter table.
FILTER_LABELS: dict[str, str] = {
    key: LISTS[key].field_label
    for key in (
        "departments",
        "schools",
        "qualifications",
        "class_groups",
        "juries",
        "graders",
        "batches",
        "subjects",
    )
}


def _query(script_filter: ScriptFilter, locked_only: bool) -> str:
    pairs = script_filter.as_query()
    if locked_only:
        pairs.append((LOCKED_ONLY_KEY, "1"))
    return urlencode(pairs)


def _script_list_url(*, request: HttpRequest, exam: Exam, query: str) -> str | None:
    """The unit-harmonisation list with the same filter, when it exists and the user may use it."""
    if not exam_abilities(user=request.user, exam=exam).unit_harmonise:
        return None
    try:
        url = reverse("marking:script_list", args=[exam.code])
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _parts(exam: Exam) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    stack = list(reversed(exam_scheme(exam=exam)))
    while stack:
        node = stack.pop()
        flat.append((node.code, f"{node.code} — {node.label}" if node.label else node.code))
        stack.extend(reversed(node.children))
    return flat


def _chart_data(stats: Any) -> dict[str, Any]:
    def group(rows: list) -> dict[str, list]:
        return {
            "labels": [row.label for row in rows],
            "values": [row.as_dict()["mean"] for row in rows],
        }

    return {
        "histogram": {
            "labels": [f"{float(item.mark):g}".replace(".", ",") for item in stats.histogram],
            "values": [item.count for item in stats.histogram],
        },
        "schools": group(stats.by_school),
        "qualifications": group(stats.by_qualification),
        "graders": group(stats.by_grader),
        "max_mark": float(stats.exam.max_mark),
    }


def _filter_field(
    key: str, label: str, options: list[dict], selected: tuple[str, ...]
) -> dict[str, Any]:
    """A select's choices; a chosen value that the other filters exclude stays listed (0)
    so that applying the form again does not drop it silently."""
    present = {option["value"] for option in options}
    missing = [
        {"value": value, "label": value, "count": 0} for value in selected if value not in present
    ]
    return {"key": key, "label": label, "options": options + missing, "selected": set(selected)}


def _chart_heights(stats: Any) -> dict[str, int]:
    """Horizontal bar charts grow with their number of rows."""
    return {
        key: max(160, 60 + 26 * len(rows))
        for key, rows in (
            ("schools", stats.by_school),
            ("qualifications", stats.by_qualification),
            ("graders", stats.by_grader),
        )
    }


@login_required
@domain_refusals
def exam_statistics_page(request: HttpRequest, exam: str) -> HttpResponse:
    exam_obj = statistics_exam_get(user=request.user, code=exam)
    error = None
    status = 200
    try:
        script_filter, locked_only = statistics_filter_parse(
            data=request.GET, exam=exam_obj, user=request.user
        )
    except InvalidInput as refused:
        error, status = refused.message, 400
        script_filter, locked_only = ScriptFilter(), False
    stats = (
        None
        if error
        else exam_statistics(
            user=request.user, exam=exam_obj, script_filter=script_filter, locked_only=locked_only
        )
    )
    options = scope_filter_options(
        user=request.user,
        exam=exam_obj,
        script_filter=script_filter,
        locked_only=locked_only,
    )
    query = _query(script_filter, locked_only)
    context = {
        "page_title": f"Statistiques — {exam_obj.code}",
        "breadcrumb": {"links": [], "current": f"Statistiques de correction — {exam_obj.label}"},
        "exam": exam_obj,
        "stats": stats,
        "error": error,
        "script_filter": script_filter,
        "locked_only": locked_only,
        "filter_description": script_filter_describe(
            script_filter=script_filter, grader_names=True
        ),
        "filter_fields": [
            _filter_field(key, label, options.get(key, []), getattr(script_filter, key))
            for key, label in FILTER_LABELS.items()
        ],
        "parts": _parts(exam_obj),
        "query": query,
        "tables": TABLES,
        "chart_data": _chart_data(stats) if stats else None,
        "chart_heights": _chart_heights(stats) if stats else {},
        "is_htmx": bool(request.htmx),
        "script_list_url": _script_list_url(request=request, exam=exam_obj, query=query),
    }
    template = "statistics/_results.html" if request.htmx else "statistics/exam.html"
    return render(request, template, context, status=status)


@login_required
@domain_refusals
def exam_statistics_export(request: HttpRequest, exam: str, table: str, fmt: str) -> HttpResponse:
    exam_obj = statistics_exam_get(user=request.user, code=exam)
    if table not in TABLES or fmt not in FORMATS:
        raise Http404("Export inconnu.")
    script_filter, locked_only = statistics_filter_parse(
        data=request.GET, exam=exam_obj, user=request.user
    )
    stats = exam_statistics(
        user=request.user, exam=exam_obj, script_filter=script_filter, locked_only=locked_only
    )
    rows = statistics_table(stats=stats, slug=table)
    filename = f"statistiques-{exam_obj.code}-{table}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(table_csv(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            table_xlsx(rows, stats=stats),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
