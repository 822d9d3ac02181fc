"""Pages: scenario editor (with htmx fragments), history, conformity. Thin: parse, call one
service or selector, render; `domain_refusals` turns domain errors into a French message
with their status (an alert fragment under htmx)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from harmonie.harmonisation.forms import (
    display_from_post,
    display_options,
    draft_decode,
    exam_parts,
    reason_choices,
    reason_from_post,
    scenario_context,
    scenario_from_post,
    scenarios_from_post,
    statistics_url,
)
from harmonie.harmonisation.permissions import exam_for_mass_harmonisation
from harmonie.harmonisation.scenarios import action_label
from harmonie.harmonisation.selectors import (
    conformity_page_get,
    harmonisation_get,
    harmonisation_list,
    harmonisation_replay,
    scenario_population,
)
from harmonie.harmonisation.services import (
    comparison_create,
    conformity_apply,
    harmonisation_execute,
    simulation_create,
    undo_simulation_create,
)
from harmonie.pages import domain_refusals
from harmonie.referential.permissions import exam_abilities, exam_get_for_user

DEFAULT_SCENARIO = {"filter": {}, "action": {"type": "raise"}}
REASON_LABELS = {
    "special_mark": "note particulière (CB, AB…)",
    "batch_not_locked": "lot non verrouillé",
    "already_harmonised": "déjà harmonisé",
    "not_harmonised": "aucune harmonisation à réinitialiser",
    "matched_earlier": "pris par un scénario précédent",
}


def _breadcrumb(exam, current: str) -> dict:
    return {"links": [], "current": f"{current} — {exam.code}"}


def _links(exam) -> dict:
    return {
        "editor_url": reverse("harmonisation:editor", args=[exam.code]),
        "history_url": reverse("harmonisation:history", args=[exam.code]),
        "conformity_url": reverse("harmonisation:conformity", args=[exam.code]),
        "statistics_url": statistics_url(exam=exam),
    }


@login_required
@require_GET
@domain_refusals
def editor(request: HttpRequest, exam: str) -> HttpResponse:
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    scenarios = [DEFAULT_SCENARIO]
    reason: dict = {}
    replay_id = request.GET.get("replay")
    if replay_id:
        if not replay_id.isdigit():
            raise Http404("Harmonisation introuvable.")
        scenarios = harmonisation_replay(
            user=request.user, exam=exam_obj, harmonisation_id=int(replay_id)
        )
    elif request.GET.get("draft"):
        # A proposed harmonisation (R-FAIR-2) arrives as a draft: nothing runs until the
        # coordinator simulates and executes it.
        draft = draft_decode(raw=request.GET["draft"])
        scenarios, reason = draft["scenarios"] or [DEFAULT_SCENARIO], draft["reason"]
    context = {
        "page_title": f"Harmonisation en masse — {exam_obj.label}",
        "breadcrumb": _breadcrumb(exam_obj, "Harmonisation en masse"),
        "exam": exam_obj,
        "replay_id": replay_id,
        "drafted": bool(request.GET.get("draft")),
        "reason": reason,
        "scenarios": [
            scenario_context(user=request.user, exam=exam_obj, scenario=scenario, index=index)
            for index, scenario in enumerate(scenarios)
        ],
        "blank": scenario_context(
            user=request.user, exam=exam_obj, scenario=DEFAULT_SCENARIO, index=0
        ),
        "parts": exam_parts(exam=exam_obj),
        "can_view_history": exam_abilities(user=request.user, exam=exam_obj).view_history,
        **_links(exam_obj),
    }
    return render(request, "harmonisation/editor.html", context)


def _scenario_index(request: HttpRequest) -> int:
    raw = request.POST.get("scenario", "0")
    return int(raw) if raw.isdigit() else 0


@login_required
@require_POST
@domain_refusals
def scenario_filters(request: HttpRequest, exam: str) -> HttpResponse:
    """Linked choices of one scenario after a change (R-MASS-5)."""
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    index = _scenario_index(request)
    scenario = scenario_from_post(data=request.POST, index=index)
    context = {
        "scenario": scenario_context(
            user=request.user, exam=exam_obj, scenario=scenario, index=index
        ),
        "parts": exam_parts(exam=exam_obj),
        "exam": exam_obj,
        **_links(exam_obj),
    }
    return render(request, "harmonisation/_filters.html", context)


@login_required
@require_POST
@domain_refusals
def population(request: HttpRequest, exam: str) -> HttpResponse:
    """« Informations sur les candidats de ce scénario » (R-MASS-6)."""
    scenario = scenario_from_post(data=request.POST, index=_scenario_index(request))
    if scenario["action"]["type"] is None:
        scenario["action"] = {"type": "reset"}
    if scenario["action"].get("points") == "":
        # Counting does not depend on the points; an empty field must not block it.
        scenario["action"]["points"] = 1
    counts = scenario_population(user=request.user, exam_code=exam, scenarios=[scenario])[0]
    reasons = [
        {"label": REASON_LABELS[key], "count": count}
        for key, count in counts["not_harmonisable"].items()
        if count
    ]
    return render(request, "harmonisation/_population.html", {"counts": counts, "reasons": reasons})


def _outcomes(result: dict) -> list[dict]:
    return [
        {
            "number": position + 1,
            "applied": outcome["applied"],
            "matched": outcome["matched"],
            "skipped": [
                {"label": REASON_LABELS[key], "count": count}
                for key, count in outcome["skipped"].items()
                if count
            ],
        }
        for position, outcome in enumerate(result["scenarios"])
    ]


# Crossing lists shown in the page (the API gives them whole).
CROSSINGS_SHOWN = 1000


def _crossings(result: dict) -> list[dict]:
    return [
        {
            **crossing,
            "shown_up": crossing["scripts_up"][:CROSSINGS_SHOWN],
            "shown_down": crossing["scripts_down"][:CROSSINGS_SHOWN],
            "more": max(crossing["up"], crossing["down"]) > CROSSINGS_SHOWN,
        }
        for crossing in result.get("crossings", [])
    ]


def _simulation_context(*, request: HttpRequest, exam_obj, simulation, display: dict) -> dict:
    result = simulation.result
    display_fields = [
        {
            **field,
            "options": [
                {**option, "selected": option["value"] in display.get(field["key"], [])}
                for option in field["options"]
            ],
        }
        for field in display_options(user=request.user, exam=exam_obj)
    ]
    rows = [
        {"mark": before["mark"], "before": before["count"], "after": after["count"]}
        for before, after in zip(result["before"], result["after"], strict=True)
    ]
    leftover = result.get("replay_leftover") or {}
    return {
        "simulation": simulation,
        "result": result,
        "rows": rows,
        "scenarios": _outcomes(result),
        "crossings": _crossings(result),
        "leftover": leftover if leftover.get("count") else None,
        "display_fields": display_fields,
        "reasons": reason_choices(),
        # A proposed harmonisation (R-FAIR-2) comes with its reason filled in.
        "reason_code": request.POST.get("reason_code")
        or request.POST.get("proposed_reason_code")
        or "other",
        "reason_text": request.POST.get("reason_text")
        or request.POST.get("proposed_reason_text")
        or "",
        "exam": exam_obj,
    }


@login_required
@require_POST
@domain_refusals
def simulate(request: HttpRequest, exam: str) -> HttpResponse:
    """BEFORE / AFTER charts (R-MASS-8), crossings (R-FAIR-3) and the execution form
    (R-MASS-9)."""
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    display = display_from_post(data=request.POST)
    simulation = simulation_create(
        user=request.user,
        exam_code=exam,
        scenarios=scenarios_from_post(data=request.POST),
        display=display,
        replays=request.POST.get("replays") or None,
    )
    context = _simulation_context(
        request=request, exam_obj=exam_obj, simulation=simulation, display=display
    )
    return render(request, "harmonisation/_simulation.html", context)


@login_required
@require_POST
@domain_refusals
def compare(request: HttpRequest, exam: str) -> HttpResponse:
    """« Comparer avec une autre version » (R-FAIR-4): draft A kept in the page, B edited."""
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    draft_a = QueryDict(request.POST.get("draft_a", ""))
    display = display_from_post(data=request.POST)
    comparison = comparison_create(
        user=request.user,
        exam_code=exam,
        a={"scenarios": scenarios_from_post(data=draft_a)},
        b={"scenarios": scenarios_from_post(data=request.POST)},
        display=display,
    )
    a, b = comparison.a.result, comparison.b.result
    rows = [
        {"mark": before["mark"], "before": before["count"], "a": in_a["count"], "b": in_b["count"]}
        for before, in_a, in_b in zip(a["before"], a["after"], b["after"], strict=True)
    ]
    crossings = [
        {"threshold": ca["threshold"], "a": ca, "b": cb}
        for ca, cb in zip(a.get("crossings", []), b.get("crossings", []), strict=True)
    ]
    return render(
        request,
        "harmonisation/_comparison.html",
        {
            "comparison": comparison,
            "a": a,
            "b": b,
            "a_outcomes": _outcomes(a),
            "b_outcomes": _outcomes(b),
            "rows": rows,
            "crossings": crossings,
            "reasons": reason_choices(),
            "reason_code": request.POST.get("proposed_reason_code") or "other",
            "reason_text": request.POST.get("proposed_reason_text") or "",
            "exam": exam_obj,
        },
    )


@login_required
@require_POST
@domain_refusals
def execute(request: HttpRequest, exam: str) -> HttpResponse:
    harmonisation = harmonisation_execute(
        user=request.user,
        exam_code=exam,
        simulation_id=request.POST.get("simulation"),
        name=request.POST.get("name", ""),
        # The exact undo and the comparison's drafts send no scenario fields.
        scenarios=scenarios_from_post(data=request.POST) or None,
        reason=reason_from_post(data=request.POST),
    )
    return render(
        request,
        "harmonisation/_executed.html",
        {
            "harmonisation": harmonisation,
            "editor_url": reverse("harmonisation:editor", args=[exam]),
            "history_url": reverse("harmonisation:history", args=[exam]),
            "conformity_url": reverse("harmonisation:conformity", args=[exam]),
        },
    )


def _undo_lines(summary: dict) -> dict:
    """« − 2 » for what goes back on each scenario of the original (R-MASS-14)."""
    lines = [
        {
            **line,
            "label": action_label(
                action="raise" if line["points"] > 0 else "lower", points=abs(line["points"])
            ),
        }
        for line in summary["scenarios"]
    ]
    return {**summary, "scenarios": lines}


@login_required
@require_http_methods(["GET", "POST"])
@domain_refusals
def undo(request: HttpRequest, exam: str, harmonisation: int) -> HttpResponse:
    """« Annuler cette harmonisation » (R-MASS-14): the page, then its simulation (POST)."""
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    original = harmonisation_get(user=request.user, harmonisation_id=harmonisation)
    if original["exam"] != exam_obj.code:
        raise Http404("Harmonisation introuvable.")
    if request.method == "POST":
        simulation = undo_simulation_create(user=request.user, harmonisation_id=harmonisation)
        context = _simulation_context(
            request=request, exam_obj=exam_obj, simulation=simulation, display={}
        )
        return render(
            request,
            "harmonisation/_simulation.html",
            {**context, "undo": _undo_lines(simulation.result["undo"])},
        )
    return render(
        request,
        "harmonisation/undo.html",
        {
            "page_title": f"Annuler une harmonisation — {exam_obj.label}",
            "breadcrumb": _breadcrumb(exam_obj, "Annuler une harmonisation"),
            "exam": exam_obj,
            "original": original,
            **_links(exam_obj),
        },
    )


@login_required
@require_GET
@domain_refusals
def history(request: HttpRequest, exam: str) -> HttpResponse:
    """R-MASS-11: every harmonisation, newest first, with « Rejouer »."""
    harmonisations = harmonisation_list(user=request.user, exam_code=exam)
    exam_obj = exam_get_for_user(user=request.user, code=exam)
    return render(
        request,
        "harmonisation/history.html",
        {
            "page_title": f"Historique des harmonisations — {exam_obj.label}",
            "breadcrumb": _breadcrumb(exam_obj, "Historique des harmonisations"),
            "exam": exam_obj,
            "harmonisations": harmonisations,
            "can_harmonise": exam_abilities(user=request.user, exam=exam_obj).mass_harmonise,
            **_links(exam_obj),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@domain_refusals
def conformity(request: HttpRequest, exam: str) -> HttpResponse:
    """R-MASS-12: the scripts not conforming, « Rendre conforme » after a confirmation step
    (`?confirmer=1`, no script needed), then the result message."""
    exam_obj = exam_for_mass_harmonisation(user=request.user, exam_code=exam)
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            return redirect(reverse("harmonisation:conformity", args=[exam]) + "?confirmer=1")
        made = conformity_apply(user=request.user, exam_code=exam)
        messages.success(
            request,
            f"{made} copie(s) rendue(s) conforme(s) : leurs notes de parties font maintenant "
            "leur note finale."
            if made
            else "Toutes les copies étaient déjà conformes : rien n'a été modifié.",
        )
        return redirect("harmonisation:conformity", exam=exam)
    state = conformity_page_get(user=request.user, exam_code=exam)
    return render(
        request,
        "harmonisation/conformity.html",
        {
            "page_title": f"Mise en conformité — {exam_obj.label}",
            "breadcrumb": _breadcrumb(exam_obj, "Mise en conformité"),
            "exam": exam_obj,
            "state": state,
            "confirming": request.GET.get("confirmer") == "1"
            and state["state"] == "not_conforming",
            **_links(exam_obj),
        },
    )
