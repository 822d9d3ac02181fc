"""Pages: « Correcteurs » (R-FAIR-1, R-FAIR-2) and the procès-verbal download (R-FAIR-6).
Thin: parse, call one selector, render; a refused filter is a 400 with its message."""

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from harmonie.errors import InvalidInput
from harmonie.fairness.minutes import minutes_filename, minutes_pdf, minutes_range_parse
from harmonie.fairness.permissions import fairness_exam_get
from harmonie.fairness.selectors import (
    INITIAL,
    GraderSeverity,
    SeverityQuery,
    grader_proposal_build,
    grader_severity,
    severity_query_parse,
)
from harmonie.harmonisation.forms import draft_encode
from harmonie.marking.options import scope_filter_options
from harmonie.pages import domain_refusals
from harmonie.referential.selectors import exam_scheme
from harmonie.scriptfilter import LIST_KEYS, ScriptFilter
from harmonie.statistics.views import FILTER_LABELS


def _parts(exam: Any) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    stack = list(reversed(exam_scheme(exam=exam)))
    while stack:
        node = stack.pop()
        flat.append((node.code, f"{node.code} — {node.label}" if node.label else node.code))
        stack.extend(reversed(node.children))
    return flat


def _filter_fields(*, request: HttpRequest, exam: Any, query: SeverityQuery) -> list[dict]:
    options = scope_filter_options(
        user=request.user,
        exam=exam,
        script_filter=query.script_filter,
        locked_only=query.locked_only,
        keys=LIST_KEYS,
    )
    fields = []
    for key, label in FILTER_LABELS.items():
        selected = getattr(query.script_filter, key)
        listed = options.get(key, [])
        present = {option["value"] for option in listed}
        missing = [{"value": v, "label": v, "count": 0} for v in selected if v not in present]
        fields.append(
            {"key": key, "label": label, "options": listed + missing, "selected": set(selected)}
        )
    return fields


def _chart_data(severity: GraderSeverity) -> dict[str, Any]:
    rows = severity.graders
    return {
        "labels": [row.name for row in rows],
        "effects": [row.effect for row in rows],
        "low": [row.ci_low for row in rows],
        "high": [row.ci_high for row in rows],
        "flags": [row.flag for row in rows],
        "tolerance": severity.tolerance,
    }


@login_required
@require_GET
@domain_refusals
def graders_page(request: HttpRequest, exam: str) -> HttpResponse:
    exam_obj = fairness_exam_get(user=request.user, code=exam)
    error, status = None, 200
    try:
        query = severity_query_parse(data=request.GET, exam=exam_obj, user=request.user)
    except InvalidInput as refused:
        error, status = refused.message, 400
        query = SeverityQuery(
            script_filter=ScriptFilter(), locked_only=False, part=None, basis=INITIAL
        )
    severity = None if error else grader_severity(user=request.user, exam=exam_obj, query=query)
    proposal = (
        grader_proposal_build(user=request.user, exam=exam_obj, part=query.part)
        if severity is not None and exam_obj.is_marked
        else None
    )
    editor_url = reverse("harmonisation:editor", args=[exam_obj.code])
    # The proposal travels to the editor as a draft: nothing runs until the coordinator
    # simulates and executes it (R-FAIR-2).
    proposal_query = (
        {"draft": draft_encode(scenarios=proposal["scenarios"], reason=proposal["reason"])}
        if proposal and proposal["scenarios"]
        else {}
    )
    context = {
        "page_title": f"Correcteurs — {exam_obj.code}",
        "breadcrumb": {
            "links": [
                {
                    "url": reverse("statistics:exam", args=[exam_obj.code]),
                    "title": "Statistiques de correction",
                }
            ],
            "current": f"Effets correcteurs — {exam_obj.label}",
        },
        "exam": exam_obj,
        "error": error,
        "query": query,
        "script_filter": query.script_filter,
        "locked_only": query.locked_only,
        "filter_fields": _filter_fields(request=request, exam=exam_obj, query=query),
        "parts": _parts(exam_obj),
        "severity": severity,
        "chart_data": _chart_data(severity) if severity and severity.graders else None,
        "chart_height": max(320, min(640, 12 * len(severity.graders))) if severity else 320,
        "proposal": proposal,
        "proposal_url": f"{editor_url}?{urlencode(proposal_query)}"
        if proposal_query
        else editor_url,
        "editor_url": editor_url,
        "statistics_url": reverse("statistics:exam", args=[exam_obj.code]),
    }
    return render(request, "fairness/graders.html", context, status=status)


@login_required
@require_GET
@domain_refusals
def minutes_download(request: HttpRequest, exam: str) -> HttpResponse:
    """The procès-verbal (R-FAIR-6) for the browser session, as the API gives it."""
    exam_obj = fairness_exam_get(user=request.user, code=exam)
    dates = minutes_range_parse(data=request.GET, exam=exam_obj, user=request.user)
    response = HttpResponse(
        minutes_pdf(user=request.user, exam=exam_obj, dates=dates), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{minutes_filename(exam=exam_obj, dates=dates)}"'
    )
    return response
