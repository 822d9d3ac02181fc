"""GET /api/v1/exams."""

from django.http import HttpRequest
from ninja import Router, Schema

from harmonie.referential.selectors import exam_scheme, exam_summaries

router = Router(tags=["épreuves"])


class ExamOut(Schema):
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


@router.get("/exams", response=list[ExamOut], summary="Épreuves visibles par l'utilisateur")
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
        }
        for summary in exam_summaries(user=request.auth)
    ]
