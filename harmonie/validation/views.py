"""Pages: validation preview and confirmation, delivery report, batches of the exam office,
schools' downloads. Each view parses, calls one service or selector, maps domain errors to
a French message; htmx requests get the fragment, others the whole page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from harmonie.errors import Conflict, InvalidInput, NotFound
from harmonie.marking.batches import batch_lock, batch_unlock
from harmonie.pages import domain_refusals
from harmonie.referential.permissions import exams_for_user
from harmonie.validation.archives import school_archive_request, school_download
from harmonie.validation.conf import validation_config
from harmonie.validation.models import ArchiveState
from harmonie.validation.permissions import (
    exam_for_batches,
    exam_for_validation,
    school_for_downloads,
    validation_abilities,
    validation_get_for_user,
)
from harmonie.validation.report import validation_exceptions, validation_report
from harmonie.validation.responses import download_response
from harmonie.validation.selectors import (
    batches_for_office,
    school_exam,
    transmitted_batch_ids,
    validation_preview,
    validations_of_exam,
)
from harmonie.validation.services import validation_execute, validation_retry

# --- coordinator ------------------------------------------------------------------------


@login_required
@require_GET
@domain_refusals
def preview(request: HttpRequest, exam_code: str) -> HttpResponse:
    exam = exam_for_validation(user=request.user, code=exam_code)
    return render(
        request,
        "validation/preview.html",
        {
            "page_title": f"Validation — {exam.code}",
            "breadcrumb": {"current": f"Validation de l'harmonisation — {exam.code}"},
            "exam": exam,
            "preview": validation_preview(exam=exam, academy_id=request.user.academy_id),
            "history": validations_of_exam(exam=exam, academy_id=request.user.academy_id),
        },
    )


@login_required
@require_POST
@domain_refusals
def execute(request: HttpRequest, exam_code: str) -> HttpResponse:
    try:
        validation = validation_execute(user=request.user, exam_code=exam_code)
    except (InvalidInput, Conflict) as refused:  # shown on the preview it came from
        messages.error(request, refused.message)
        return redirect("validation:preview", exam_code)
    messages.success(
        request,
        f"Validation n° {validation.pk} enregistrée : la transmission se poursuit en arrière-plan.",
    )
    return redirect("validation:report", validation.pk)


@login_required
@require_GET
@domain_refusals
def report(request: HttpRequest, validation_id: int) -> HttpResponse:
    validation = validation_get_for_user(user=request.user, validation_id=validation_id)
    context = {
        "validation": validation,
        "report": validation_report(validation=validation),
        "exceptions": validation_exceptions(validation=validation),
        "abilities": validation_abilities(user=request.user, validation=validation),
    }
    if request.htmx:
        return render(request, "validation/_report.html", context)
    return render(
        request,
        "validation/report.html",
        {
            **context,
            "page_title": f"Transmission n° {validation.pk}",
            "breadcrumb": {
                "links": [
                    {
                        "url": reverse("validation:preview", args=[validation.exam.code]),
                        "title": f"Validation — {validation.exam.code}",
                    }
                ],
                "current": f"Transmission n° {validation.pk}",
            },
        },
    )


@login_required
@require_POST
@domain_refusals
def retry(request: HttpRequest, validation_id: int) -> HttpResponse:
    try:
        count = validation_retry(user=request.user, validation_id=validation_id)
    except (InvalidInput, Conflict) as refused:  # shown on the report it came from
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{count} message(s) relancé(s).")
    return redirect("validation:report", validation_id)


# --- exam office ------------------------------------------------------------------------


@login_required
@require_GET
@domain_refusals
def batches(request: HttpRequest, exam_code: str) -> HttpResponse:
    exam = exam_for_batches(user=request.user, code=exam_code)
    query = request.GET.get("q", "").strip()[:64]
    state = request.GET.get("etat", "")
    found = batches_for_office(
        exam=exam, academy_id=request.user.academy_id, query=query, state=state
    )
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "validation/batches.html",
        {
            "page_title": f"Lots — {exam.code}",
            "breadcrumb": {"current": f"Verrouillage des lots — {exam.code}"},
            "exam": exam,
            "page": page,
            "query": query,
            "state": state,
            "transmitted": transmitted_batch_ids(exam=exam, academy_id=request.user.academy_id),
        },
    )


@login_required
@require_POST
@domain_refusals(htmx_target="#batch-refusal")
def batch_toggle(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """Lock or unlock (R-VAL-9); htmx gets the updated row, a plain form the page again."""
    service = {"verrouiller": batch_lock, "deverrouiller": batch_unlock}.get(action)
    if service is None:
        raise NotFound("Action inconnue.")
    batch = service(user=request.user, code=code)
    if not request.htmx:
        messages.success(
            request, f"Lot {batch.code} {'verrouillé' if batch.locked else 'déverrouillé'}."
        )
        return redirect("validation:batches", batch.exam.code)
    row = (
        batches_for_office(exam=batch.exam, academy_id=batch.academy_id).filter(pk=batch.pk).first()
    )
    return render(
        request,
        "validation/_batch_row.html",
        {
            "batch": row,
            "transmitted": transmitted_batch_ids(exam=batch.exam, academy_id=batch.academy_id),
            "just_changed": True,
        },
    )


# --- schools ----------------------------------------------------------------------------


@login_required
@require_GET
@domain_refusals
def school_scripts(request: HttpRequest) -> HttpResponse:
    """The school's exams, with the download once the exam was validated (R-VAL-7)."""
    school = school_for_downloads(user=request.user)
    exams = [
        school_exam(exam=exam, school=school)
        for exam in exams_for_user(user=request.user).order_by("code")
    ]
    return render(
        request,
        "validation/school_scripts.html",
        {
            "page_title": "Copies de l'établissement",
            "breadcrumb": {"current": "Copies de l'établissement"},
            "school": school,
            "exams": exams,
            "zip_stream_max": validation_config().zip_stream_max_scripts,
        },
    )


def _school_exam_context(request: HttpRequest, exam_code: str) -> dict:
    school = school_for_downloads(user=request.user)
    exam = exams_for_user(user=request.user).filter(code=exam_code).first()
    if exam is None:
        raise NotFound(f"Épreuve « {exam_code} » introuvable ou hors de votre périmètre.")
    return {"school": school, "exam": exam, "entry": school_exam(exam=exam, school=school)}


@login_required
@require_GET
@domain_refusals
def school_exam_page(request: HttpRequest, exam_code: str) -> HttpResponse:
    return _school_exam_render(request, exam_code)


def _school_exam_render(request: HttpRequest, exam_code: str) -> HttpResponse:
    """The school's exam page, or under htmx its download block only."""
    context = _school_exam_context(request, exam_code)
    status = 200 if context["entry"].available else 404
    template = "validation/_school_archive.html" if request.htmx else "validation/school_exam.html"
    archive = context["entry"].archive
    return render(
        request,
        template,
        {
            **context,
            "streamable": context["entry"].scripts <= validation_config().zip_stream_max_scripts,
            # The progress state's poll found the zip ready: the page starts the download.
            "autostart": request.htmx
            and request.GET.get("poll") == "1"
            and archive is not None
            and archive.state == ArchiveState.READY,
            "page_title": f"Copies — {exam_code}",
            "breadcrumb": {
                "links": [
                    {
                        "url": reverse("validation:school_scripts"),
                        "title": "Copies de l'établissement",
                    }
                ],
                "current": exam_code,
            },
        },
        status=status,
    )


@login_required
@require_POST
@domain_refusals
def school_prepare(request: HttpRequest, exam_code: str) -> HttpResponse:
    school_archive_request(user=request.user, uai=None, exam_code=exam_code)
    if request.htmx:  # the progress state, in place of the button
        return _school_exam_render(request, exam_code)
    return redirect("validation:school_exam", exam_code)


@login_required
@require_GET
@domain_refusals
def school_zip(request: HttpRequest, exam_code: str) -> HttpResponse:
    download = school_download(user=request.user, uai=None, exam_code=exam_code)
    if download.stream is None and download.path is None:
        messages.info(request, "Le fichier zip est en préparation : il sera bientôt disponible.")
        return redirect("validation:school_exam", exam_code)
    return download_response(download)
