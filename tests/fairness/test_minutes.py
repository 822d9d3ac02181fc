"""The commission's procès-verbal (R-FAIR-6): a real PDF in French whose text, read back
with pypdfium2, holds what the rule lists — and no candidate identity (R-UNIT-2)."""

import re

import pypdfium2
import pytest
from django.utils import timezone

from harmonie.fairness.minutes import range_marks
from harmonie.fairness.selectors import grader_proposal_build, grader_severity
from harmonie.harmonisation.services import (
    harmonisation_execute,
    simulation_create,
    undo_simulation_create,
)
from harmonie.referential.models import Candidate, Exam
from harmonie.validation.services import validation_execute
from tests.conftest import login_client

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> tuple[str, int]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
        return "\n".join(pages), len(document)
    finally:
        document.close()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_minutes_hold_the_session_of_the_commission(generated, client, api_token):
    """R-FAIR-6: exam, academy, dates, each harmonisation (author, time, name, reason,
    scenarios with filters and counts, undo links), means before and after, flagged
    graders, validations, signatures, page numbers; no candidate number."""
    user = generated["coordinator"]
    exam = Exam.objects.get(code="FRA-ECRIT")
    proposal = grader_proposal_build(user=user, exam=exam)
    simulation = simulation_create(user=user, exam_code=exam.code, scenarios=proposal["scenarios"])
    first = harmonisation_execute(
        user=user,
        exam_code=exam.code,
        simulation_id=simulation.pk,
        name="Correcteurs signalés",
        reason=proposal["reason"],
    )
    simulation = simulation_create(
        user=user,
        exam_code=exam.code,
        scenarios=[{"filter": {"mark_max": 6}, "action": {"type": "raise", "points": 1}}],
    )
    second = harmonisation_execute(
        user=user,
        exam_code=exam.code,
        simulation_id=simulation.pk,
        name="Notes basses",
        reason={"code": "subject_difficulty", "text": "Sujet B plus difficile"},
    )
    undo = undo_simulation_create(user=user, harmonisation_id=second.pk)
    cancel = harmonisation_execute(user=user, exam_code=exam.code, simulation_id=undo.pk)
    validation_execute(user=user, exam_code=exam.code)

    today = timezone.localdate().isoformat()
    token = api_token(user)
    response = client.get(
        f"/api/v1/exams/FRA-ECRIT/minutes.pdf?from={today}&to={today}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text, pages = _text(response.content)
    flat = _flat(text)
    day = timezone.localdate().strftime("%d/%m/%Y")
    for expected in (
        "Procès-verbal de la commission d'harmonisation",
        "Écrit de français, toutes séries (FRA-ECRIT)",
        "Nancy-Metz",
        f"du {day} au {day} inclus",
        f"Harmonisation n°{first.pk} « Correcteurs signalés »",
        f"par {user.first_name} {user.last_name}",  # names one way (issue 13 item 11)
        "Motif : Sévérité d'un correcteur"
        if proposal["reason"]["code"] == "grader_severity"
        else "Motif : Indulgence d'un correcteur",
        "Motif : Difficulté du sujet — Sujet B plus difficile",
        "Note max. : 6",
        "Majoration de 1 point(s)",
        f"Annule l'harmonisation n°{second.pk} « Notes basses »",
        f"Annulée par l'harmonisation n°{cancel.pk}",
        "Répartition avant",
        "Répartition après",
        "Correcteurs signalés",
        "Validations de l'harmonisation sur la période",
        "Cyclades (notes)",
        "Signatures",
        f"Page 1 / {pages}",
    ):
        assert expected in flat, expected
    for item in proposal["graders"]:
        assert item["grader"] in flat
        assert f"Correcteurs : {item['name']}" in flat  # names one way (issue 13 item 11)
    severity = grader_severity(user=user, exam=exam)
    assert all(row.grader in flat for row in severity.flagged)
    # R-UNIT-2: no candidate number (10 digits) and no script id anywhere.
    numbers = set(Candidate.objects.values_list("number", flat=True))
    assert not numbers & set(re.findall(r"\d{10}", text))
    assert "S-0" not in text


def test_minutes_page_download_and_bad_dates(generated):
    """R-FAIR-6: the same PDF from the browser session; a bad date is a 400 in French."""
    client = login_client(generated["member"])
    response = client.get("/equite/FRA-ECRIT/proces-verbal.pdf")
    assert response.status_code == 200
    assert "Aucune harmonisation n'a été exécutée sur la période." in _flat(
        _text(response.content)[0]
    )
    assert response["Content-Disposition"].startswith(
        'attachment; filename="proces-verbal-FRA-ECRIT-'
    )
    refused = client.get("/equite/FRA-ECRIT/proces-verbal.pdf?from=2026-13-01")
    assert refused.status_code == 400
    assert "pas une date (AAAA-MM-JJ)" in refused.content.decode()
    backwards = client.get("/equite/FRA-ECRIT/proces-verbal.pdf?from=2026-06-10&to=2026-06-01")
    assert backwards.status_code == 400


def test_range_marks_rebuild_before_and_after():
    """R-FAIR-6: before = first effect's mark before in the range; after = last effect's
    in the range, later harmonisations taken out; untouched scripts keep their mark."""
    import numpy as np

    ids = np.array([1, 2, 3, 4])
    current = np.array([1200, 900, -1, 1500])
    during = [(1, 1000, 1100), (1, 1100, 1150), (2, 800, 900)]
    after = [(1, 1150, 1200), (4, 1400, 1500)]
    opening, closing = range_marks(ids=ids, current=current, during=during, after=after)
    assert opening.tolist() == [1000, 800, -1, 1400]
    assert closing.tolist() == [1150, 900, -1, 1400]
