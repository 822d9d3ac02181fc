"""Pages of unit harmonisation (script list, viewer with the marking editor) and grading
(a grader's batches). Thin: parse, call a selector or service, render; domain errors
become a French message with their HTTP status."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from harmonie.errors import InvalidInput
from harmonie.marking.batches import batch_lock
from harmonie.marking.options import scope_filter_options
from harmonie.marking.pages import page_image, width_choose
from harmonie.marking.permissions import (
    MarkingMode,
    grader_pages_check,
    script_get_for_user,
    unit_scripts,
)
from harmonie.marking.selectors import (
    SORTS,
    ListParams,
    ScriptPage,
    batch_scripts,
    grader_batches,
    list_state_from_query,
    script_detail,
    script_list,
    script_neighbours,
)
from harmonie.marking.templatetags.marking_tags import mark
from harmonie.pages import domain_refusals
from harmonie.referential.permissions import exam_get_for_user
from harmonie.scriptfilter import (
    ScriptFilter,
    script_filter_describe,
)

LIST_KEYS = ("q", "sort", "cursor", "limit")
# The linked lists the page shows (marking/_script_results.html).
PAGE_FILTER_KEYS = ("departments", "schools", "graders", "subjects", "qualifications", "batches")
# Every column sorts (R-UNIT-3, issue 13 item 8): the key is its `sort`.
COLUMNS = [
    ("id", "Copie"),
    ("mark", "Note finale"),
    ("initial_mark", "Note initiale"),
    ("delta", "Harmonisation"),
    ("department", "Département"),
    ("school", "Établissement"),
    ("grader", "Correcteur"),
    ("subject", "Sujet"),
    ("batch", "Lot"),
]
# The « harmonisé » and « conforme » choices of the list (ListParams), as the page says them.
YES_NO_FILTERS = {
    "harmonised": ("Harmonisation", "Harmonisées", "Non harmonisées"),
    "conforming": ("Conformité", "Conformes", "Non conformes"),
}


TOOLS = [
    ("pan", "Déplacer"),
    ("tick", "✓ Juste"),
    ("cross", "✗ Faux"),
    ("comment", "Commentaire"),
    ("highlight", "Surligner"),
    ("underline", "Souligner"),
]


def _leaves(node: dict) -> list[str]:
    if not node["children"]:
        return [node["code"]]
    return [code for child in node["children"] for code in _leaves(child)]


def _scheme_rows(
    scheme: list[dict], marks: dict, final_marks: dict | None = None, depth: int = 0
) -> list[dict]:
    """The scheme flattened for the editor: leaves get an input, parts a live total;
    `final_value` is the leaf or part after conformity (R-MASS-12). Marks are written
    with a decimal comma (« 2,5 »), as the totals are."""
    rows = []
    final_marks = final_marks or {}
    for node in scheme:
        value = marks.get(node["code"])
        leaves = _leaves(node)
        spread = [final_marks.get(code) for code in leaves]
        rows.append(
            {
                "code": node["code"],
                "label": node["label"],
                "max": node["max"],
                "depth": depth,
                "is_leaf": not node["children"],
                "leaves": ",".join(leaves),
                "value": "" if value is None else mark(value),
                "final_value": ""
                if None in spread
                else mark(sum(Decimal(str(part)) for part in spread)),
            }
        )
        rows.extend(_scheme_rows(node["children"], marks, final_marks, depth + 1))
    return rows


def _statistics_url(exam_code: str) -> str | None:
    try:
        return reverse("statistics:exam", args=[exam_code])
    except NoReverseMatch:
        return None


def _state_query(script_filter: ScriptFilter, params: ListParams, **extra: str | None) -> str:
    """The list's whole state as a query string (filter, search, yes/no choices, sort)."""
    pairs = script_filter.as_query() + params.as_query()
    pairs.extend((key, value) for key, value in extra.items() if value)
    return urlencode(pairs)


def _yes_no_described(params: ListParams) -> list[tuple[str, str]]:
    described = []
    for key, (label, yes, no) in YES_NO_FILTERS.items():
        value = getattr(params, key)
        if value is not None:
            described.append((label, yes if value else no))
    return described


def _previous_url(script_filter: ScriptFilter, params: ListParams, page: ScriptPage) -> str | None:
    """Back one page: the first page has no cursor (its address is the plain filter)."""
    if not page.previous_cursor:
        return None
    if page.number == 2:
        return "?" + _state_query(script_filter, params)
    return "?" + _state_query(script_filter, params, cursor=page.previous_cursor)


@login_required
@require_GET
@domain_refusals
def script_list_page(request: HttpRequest, exam_code: str) -> HttpResponse:
    """R-UNIT-1..3, R-UNIT-5: the scripts of locked batches, filtered, sorted, paginated."""
    title = "Harmonisation unitaire"
    exam = exam_get_for_user(user=request.user, code=exam_code)
    has_locked = unit_scripts(user=request.user, exam=exam).exists()
    context: dict = {
        "exam": exam,
        "page_title": f"{title} — {exam.code}",
        "breadcrumb": {"current": f"{title} — {exam.label}"},
        "statistics_url": _statistics_url(exam.code),
        "has_locked": has_locked,
        "columns": COLUMNS,
    }
    status = 200
    if has_locked:
        try:
            script_filter, params = list_state_from_query(
                user=request.user, exam=exam, query=request.GET
            )
            page = script_list(
                user=request.user, exam=exam, script_filter=script_filter, params=params
            )
        except InvalidInput as error:  # shown above the list, which stays usable
            script_filter, params = ScriptFilter(), ListParams()
            context["error"] = error.message
            status = error.status
            page = script_list(
                user=request.user, exam=exam, script_filter=script_filter, params=params
            )
        # Sorting and paging swap only the table: the linked choices have not changed.
        table_only = request.htmx.target == "script-table-region"
        options = (
            {}
            if table_only
            else scope_filter_options(
                user=request.user,
                exam=exam,
                script_filter=script_filter,
                locked_only=True,
                keys=PAGE_FILTER_KEYS,
            )
        )
        state = _state_query(script_filter, params)
        headers = []
        for key, label in COLUMNS:
            header = {"key": key, "label": label}
            if key in SORTS:
                new_sort = f"-{key}" if params.sort == key else key
                header["url"] = "?" + _state_query(
                    script_filter, replace(params, sort=new_sort, cursor=None)
                )
                header["aria"] = (
                    "ascending"
                    if params.sort == key
                    else ("descending" if params.sort == f"-{key}" else "none")
                )
            headers.append(header)
        context.update(
            {
                "filter": script_filter,
                "params": params,
                "page": page,
                "options": options,
                "selected": {key: set(getattr(script_filter, key)) for key in options},
                "described": script_filter_describe(script_filter=script_filter, grader_names=True)
                + _yes_no_described(params),
                "yes_no": [
                    {
                        "key": key,
                        "label": label,
                        "choices": [("", "Toutes"), ("oui", yes), ("non", no)],
                        "value": ""
                        if getattr(params, key) is None
                        else ("oui" if getattr(params, key) else "non"),
                    }
                    for key, (label, yes, no) in YES_NO_FILTERS.items()
                    if key != "conforming" or exam.parts.filter(is_leaf=True).exists()
                ],
                "state": state,
                "filter_state": urlencode(script_filter.as_query()),
                "headers": headers,
                "next_url": "?" + _state_query(script_filter, params, cursor=page.next_cursor)
                if page.next_cursor
                else None,
                "previous_url": _previous_url(script_filter, params, page),
                "first_url": "?" + state if params.cursor else None,
                "parts": [
                    (part.code, part.label or part.code) for part in exam.parts.order_by("position")
                ],
            }
        )
    template = "marking/script_list.html"
    if request.htmx and has_locked:
        template = (
            "marking/_script_table.html"
            if request.htmx.target == "script-table-region"
            else "marking/_script_results.html"
        )
    return render(request, template, context, status=status)


@login_required
@require_GET
@domain_refusals
def script_viewer(request: HttpRequest, public_id: str) -> HttpResponse:
    """The viewer and the marking editor (R-UNIT-4), with next/previous in the list order."""
    script, access = script_get_for_user(user=request.user, public_id=public_id)
    exam = script.exam
    detail = script_detail(script=script, can_edit=access.can_edit, mode=access.mode.value)
    previous_url = next_url = None
    if access.mode == MarkingMode.UNIT:
        try:
            script_filter, params = list_state_from_query(
                user=request.user, exam=exam, query=request.GET, paged=False
            )
        except InvalidInput:  # a stale list address: neighbours in the default order
            script_filter, params = ScriptFilter(), ListParams()
        state = _state_query(script_filter, params)
        preceding, following = script_neighbours(
            user=request.user, script=script, script_filter=script_filter, params=params
        )
        back_url = reverse("marking:script_list", args=[exam.code]) + ("?" + state if state else "")
        back_label = "Retour à la liste des copies"
        links = [{"url": back_url, "title": f"Harmonisation unitaire — {exam.label}"}]
    else:
        state = ""
        _batch, rows = batch_scripts(user=request.user, code=script.batch.code)
        ids = [row["id"] for row in rows]
        index = ids.index(script.public_id)
        preceding = ids[index - 1] if index > 0 else None
        following = ids[index + 1] if index + 1 < len(ids) else None
        back_url = reverse("marking:grader_batch", args=[script.batch.code])
        back_label = "Retour au lot"
        links = [
            {"url": reverse("marking:grader_batches"), "title": "Mes lots à corriger"},
            {"url": back_url, "title": f"Lot {script.batch.code}"},
        ]
    suffix = "?" + state if state else ""
    if preceding:
        previous_url = reverse("marking:script_viewer", args=[preceding]) + suffix
    if following:
        next_url = reverse("marking:script_viewer", args=[following]) + suffix
    for version in detail["history"]:
        at = timezone.localtime(datetime.fromisoformat(version["at"]))
        version["at_display"] = at.strftime("%d/%m/%Y %H:%M")
    return render(
        request,
        "marking/script_viewer.html",
        {
            "page_title": f"Copie {script.public_id}",
            "breadcrumb": {"links": links, "current": f"Copie {script.public_id}"},
            "script": detail,
            "exam": exam,
            "access": access,
            "previous_url": previous_url,
            "next_url": next_url,
            "back_url": back_url,
            "back_label": back_label,
            "api_url": f"/api/v1/scripts/{script.public_id}/marking",
            "scheme_rows": _scheme_rows(detail["scheme"], detail["marks"], detail["final_marks"]),
            # « Rendre conforme » spread the leaves: show both (issue 13 item 6).
            "conformed": script.final_marks is not None and script.final_marks != script.marks,
            "tools": TOOLS,
        },
    )


@login_required
@require_GET
@domain_refusals
def page_png(request: HttpRequest, public_id: str, number: int) -> HttpResponse:
    """One page of a script as PNG, access checked like the script."""
    script, _access = script_get_for_user(user=request.user, public_id=public_id)
    width = width_choose(request.GET.get("width"))
    path = page_image(script=script, number=number, width=width)
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
@domain_refusals
def grader_batches_page(request: HttpRequest, exam_code: str | None = None) -> HttpResponse:
    """Issue 3 part 5: a grader's batches with progress; open one, mark, lock."""
    title = "Mes lots à corriger"
    exam = exam_get_for_user(user=request.user, code=exam_code) if exam_code else None
    grader_pages_check(user=request.user)
    batches = grader_batches(user=request.user, exam=exam)
    return render(
        request,
        "marking/grader_batches.html",
        {"page_title": title, "breadcrumb": {"current": title}, "batches": batches, "exam": exam},
    )


@login_required
@require_GET
@domain_refusals
def grader_batch_page(request: HttpRequest, code: str) -> HttpResponse:
    title = f"Lot {code}"
    grader_pages_check(user=request.user)
    batch, rows = batch_scripts(user=request.user, code=code)
    return render(
        request,
        "marking/grader_batch.html",
        {
            "page_title": title,
            "breadcrumb": {
                "links": [
                    {"url": reverse("marking:grader_batches"), "title": "Mes lots à corriger"}
                ],
                "current": title,
            },
            "batch": batch,
            "rows": rows,
        },
    )


@login_required
@require_POST
@domain_refusals
def grader_batch_lock(request: HttpRequest, code: str) -> HttpResponse:
    """The grader locks his batch when marking is finished (R-UNIT-1 prerequisite)."""
    grader_pages_check(user=request.user)
    batch_lock(user=request.user, code=code)
    messages.success(request, f"Lot {code} verrouillé : la correction est terminée.")
    return redirect("marking:grader_batch", code=code)
