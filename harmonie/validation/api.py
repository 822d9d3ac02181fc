"""Validation endpoints (API.md §2): preview, validate, delivery report, retry, batch lock
and unlock, schools' zips. Mounted under /api/v1 by config.api.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from harmonie.marking.batches import batch_lock, batch_unlock
from harmonie.marking.models import Batch
from harmonie.marking.permissions import batch_abilities
from harmonie.validation.archives import school_download
from harmonie.validation.permissions import (
    exam_for_validation,
    validation_abilities,
    validation_get_for_user,
)
from harmonie.validation.report import validation_exceptions, validation_report
from harmonie.validation.responses import download_response
from harmonie.validation.selectors import validation_preview, validations_of_exam
from harmonie.validation.services import validation_execute, validation_retry

router = Router(tags=["validation"])


class ReasonOut(Schema):
    code: str
    count: int
    message: str


class PreviewOut(Schema):
    exam: str
    mode: str
    reasons: list[ReasonOut]
    marks: int
    work_done: int
    frauds: int
    details: dict
    in_progress: int | None
    last_validation: int | None


class ValidationCreatedOut(Schema):
    id: int
    exam: str
    mode: str
    marks: int
    work_done: int
    status: str
    abilities: dict[str, bool]


class SystemOut(Schema):
    sent: int
    delivered: int
    kept: int
    refused: int
    retrying: int
    waiting: int
    failed: int
    messages: int
    messages_done: int
    reasons: dict
    errors: list[dict]


class ReportOut(Schema):
    id: int
    exam: str
    academy: str
    created_at: str
    author: dict
    mode: str
    reasons: list[ReasonOut]
    frauds: int
    status: str
    is_latest: bool
    systems: dict[str, SystemOut]
    exceptions: list[dict]
    abilities: dict[str, bool]


class ValidationSummaryOut(Schema):
    id: int
    created_at: str
    mode: str
    marks: int
    work_done: int
    abilities: dict[str, bool]


class RetryOut(Schema):
    retried: int


class BatchOut(Schema):
    code: str
    exam: str
    locked: bool
    abilities: dict[str, bool]


@router.get(
    "/exams/{exam}/validation-preview",
    response=PreviewOut,
    summary="Aperçu de la validation : mode, motifs, ce qui sera envoyé (R-VAL-2, R-VAL-3)",
)
def preview(request: HttpRequest, exam: str) -> dict:
    found = exam_for_validation(user=request.auth, code=exam)
    return validation_preview(exam=found, academy_id=request.auth.academy_id).as_dict()


@router.post(
    "/exams/{exam}/validations",
    response={201: ValidationCreatedOut},
    summary="Valider l'harmonisation : notes vers Cyclades, services faits vers Imag'In (R-VAL-1)",
)
def validate(request: HttpRequest, exam: str) -> Status:
    validation = validation_execute(user=request.auth, exam_code=exam)
    report = validation_report(validation=validation)
    return Status(
        201,
        {
            "id": validation.pk,
            "exam": validation.exam.code,
            "mode": validation.mode,
            "marks": validation.marks_count,
            "work_done": validation.work_done_count,
            "status": report.status,
            "abilities": validation_abilities(user=request.auth, validation=validation),
        },
    )


@router.get(
    "/exams/{exam}/validations",
    response=list[ValidationSummaryOut],
    summary="Validations de l'épreuve dans l'académie, la plus récente d'abord",
)
def validations_list(request: HttpRequest, exam: str) -> list[dict]:
    found = exam_for_validation(user=request.auth, code=exam)
    return [
        {
            "id": v.pk,
            "created_at": v.created_at.isoformat(),
            "mode": v.mode,
            "marks": v.marks_count,
            "work_done": v.work_done_count,
            "abilities": validation_abilities(user=request.auth, validation=v),
        }
        for v in validations_of_exam(exam=found, academy_id=request.auth.academy_id)
    ]


@router.get(
    "/validations/{validation_id}",
    response=ReportOut,
    summary="Rapport de transmission par système (R-VAL-6)",
)
def report(request: HttpRequest, validation_id: int) -> dict:
    validation = validation_get_for_user(user=request.auth, validation_id=validation_id)
    return {
        **validation_report(validation=validation).as_dict(),
        "exceptions": validation_exceptions(validation=validation),
        "abilities": validation_abilities(user=request.auth, validation=validation),
    }


@router.post(
    "/validations/{validation_id}/retry",
    response=RetryOut,
    summary="Relancer les envois en échec ou en attente de nouvel essai",
)
def retry(request: HttpRequest, validation_id: int) -> dict:
    return {"retried": validation_retry(user=request.auth, validation_id=validation_id)}


def _batch_answer(request: HttpRequest, batch: Batch) -> dict:
    return {
        "code": batch.code,
        "exam": batch.exam.code,
        "locked": batch.locked,
        "abilities": batch_abilities(user=request.auth),
    }


@router.post("/batches/{code}/lock", response=BatchOut, summary="Verrouiller un lot")
def lock(request: HttpRequest, code: str) -> dict:
    batch = batch_lock(user=request.auth, code=code)
    return _batch_answer(request, batch)


@router.post(
    "/batches/{code}/unlock",
    response=BatchOut,
    summary="Déverrouiller un lot, même après transmission (R-VAL-9)",
)
def unlock(request: HttpRequest, code: str) -> dict:
    batch = batch_unlock(user=request.auth, code=code)
    return _batch_answer(request, batch)


@router.get(
    "/schools/{uai}/exams/{exam}/scripts.zip",
    summary="Copies de l'établissement : un zip, un dossier par division (R-VAL-7, R-VAL-8)",
    description="Réponse 202 tant que le zip d'un gros établissement est en préparation.",
)
def school_zip(request: HttpRequest, uai: str, exam: str) -> HttpResponse:
    download = school_download(user=request.auth, uai=uai, exam_code=exam)
    return download_response(download)
