"""Pages of the explanation of final marks (R-TRUST-1): the viewer's « D'où vient cette
note ? » block (an htmx fragment the viewer loads by URL name) and the export of the
unit-harmonisation list with its explanation column. Thin: parse, call a selector, render.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from harmonie.explanation.exports import FORMATS, list_csv, list_xlsx
from harmonie.explanation.rules import (
    CLAMP,
    CONFORMITY,
    HARMONISATION,
    MARKING,
    UNIT_EDIT,
    Explanation,
    Step,
)
from harmonie.explanation.selectors import script_explanation, script_list_export_rows
from harmonie.explanation.wording import mark_text, moment_text, signed_text
from harmonie.marking.permissions import script_get_for_user
from harmonie.marking.selectors import list_state_from_query
from harmonie.pages import domain_refusals
from harmonie.referential.permissions import exam_get_for_user

_TITLES = {
    MARKING: "Note de départ",
    UNIT_EDIT: "Dernière modification de la correction",
    HARMONISATION: "Harmonisation",
    CLAMP: "Note ramenée dans les bornes",
    CONFORMITY: "Mise en conformité des parties",
}
_ACTIONS = {"raise": "Augmenter de", "lower": "Baisser de"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _step_details(step: Step) -> list[tuple[str, str]]:
    details: list[tuple[str, str]] = []
    if step.kind == UNIT_EDIT:
        if step.special_before:
            details.append(("Note avant la modification", step.special_before))
        elif step.mark_before is not None:
            details.append(("Note avant la modification", mark_text(step.mark_before)))
    elif step.kind == HARMONISATION and step.harmonisation is not None:
        if step.author:
            details.append(("Auteur", step.author.full()))
        if step.executed_at:
            details.append(("Exécutée le", moment_text(step.executed_at)))
        if step.reason:
            reason = step.reason["label"]
            if step.reason["text"]:
                reason += f" — {step.reason['text']}"
            details.append(("Motif", reason[:1].upper() + reason[1:]))
        details.append(("Scénario", f"n°{step.scenario}"))
        details.extend(step.filter_description or [("Filtres", "Tous les candidats")])
        if step.action in _ACTIONS and step.action_points is not None:
            details.append(("Action", f"{_ACTIONS[step.action]} {mark_text(step.action_points)}"))
        elif step.action:
            details.append(("Action", "Réinitialisation"))
    return details


def _step_view(step: Step) -> dict:
    if step.kind == MARKING:
        amount = step.special_mark if step.points is None else mark_text(step.points)
    elif step.kind in (HARMONISATION, CLAMP) and step.points is not None:
        amount = signed_text(step.points)
    else:
        amount = ""
    title = _TITLES[step.kind]
    if step.kind == HARMONISATION and step.points is not None and step.points < 0:
        title = "Harmonisation annulée ou réinitialisée"
    return {
        "kind": step.kind,
        "title": title,
        "amount": amount or "",
        "text": step.text[:1].upper() + step.text[1:],
        "details": _step_details(step),
    }


def _block_context(explanation: Explanation) -> dict:
    return {
        "text": explanation.text,
        "steps": [_step_view(step) for step in explanation.steps],
    }


@login_required
@require_GET
@domain_refusals
def script_explanation_block(request: HttpRequest, public_id: str) -> HttpResponse:
    """« D'où vient cette note ? »: the steps of the script's final mark and their
    sentence, for whoever may open the script (same access as the viewer). The viewer
    loads the fragment with htmx; opened directly (no script), it is a whole page."""
    script, _access = script_get_for_user(user=request.user, public_id=public_id)
    context = _block_context(script_explanation(script=script))
    if request.htmx:
        return render(request, "explanation/_script_explanation.html", context)
    viewer_url = reverse("marking:script_viewer", args=[script.public_id])
    context.update(
        {
            "page_title": f"D'où vient cette note ? — copie {public_id}",
            "breadcrumb": {
                "links": [{"url": viewer_url, "title": f"Copie {script.public_id}"}],
                "current": "D'où vient cette note ?",
            },
            "script_id": script.public_id,
            "viewer_url": viewer_url,
        }
    )
    return render(request, "explanation/script_explanation.html", context)


@login_required
@require_GET
@domain_refusals
def script_list_export(request: HttpRequest, exam_code: str, fmt: str) -> HttpResponse:
    """The unit-harmonisation list as filtered and sorted on the page, every row with the
    explanation of its final mark (R-UNIT-3, R-TRUST-1). Same access as the list."""
    if fmt not in FORMATS:
        raise Http404("Format d'export inconnu (csv ou xlsx).")
    exam = exam_get_for_user(user=request.user, code=exam_code)
    script_filter, params = list_state_from_query(
        user=request.user, exam=exam, query=request.GET, paged=False
    )
    export = script_list_export_rows(
        user=request.user, exam=exam, script_filter=script_filter, params=params
    )
    if fmt == "csv":
        response = HttpResponse(list_csv(export.rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(list_xlsx(export), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="copies-{exam.code}.{fmt}"'
    return response
