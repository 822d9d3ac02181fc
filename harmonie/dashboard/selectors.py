"""What the dashboard shows: the user's exams, their counts and the entries to each screen."""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from harmonie.accounts.models import User
from harmonie.harmonisation.selectors import harmonisation_count
from harmonie.marking.exams import ExamSummary, exam_summaries
from harmonie.validation.selectors import validation_first, validation_last

# (ability, URL name, whether the URL names the exam, French label, icon): the screens
# reachable from the dashboard (R-ACC-2).
ENTRIES = [
    ("view_statistics", "statistics:exam", True, "Statistiques", "fr-icon-bar-chart-box-line"),
    ("unit_harmonise", "marking:script_list", True, "Harmonisation unitaire", "fr-icon-edit-line"),
    (
        "mass_harmonise",
        "harmonisation:editor",
        True,
        "Harmonisation en masse",
        "fr-icon-equalizer-line",
    ),
    ("view_history", "harmonisation:history", True, "Historique", "fr-icon-time-line"),
    ("validate", "validation:preview", True, "Validation", "fr-icon-checkbox-circle-line"),
    ("lock_batches", "validation:batches", True, "Lots (verrouillage)", "fr-icon-lock-line"),
    ("grade", "marking:grader_batches", True, "Mes lots à corriger", "fr-icon-edit-box-line"),
    (
        "download_scripts",
        "validation:school_scripts",
        False,
        "Copies de l'établissement",
        "fr-icon-download-line",
    ),
]


@dataclass(frozen=True)
class Entry:
    label: str
    icon: str
    url: str


@dataclass(frozen=True)
class DashboardExam:
    summary: ExamSummary
    entries: list[Entry]
    extra: dict[str, Any]


def _extra_counts(*, user: User, summary: ExamSummary) -> dict[str, Any]:
    """Counts owned by other apps: harmonisations and the last validation."""
    academy_id = _academy_id(user)
    if summary.abilities.download_scripts:
        # A school has no batches nor harmonisations to follow: what it can do, and since
        # when (R-VAL-7: the download exists from the first validation on).
        first = validation_first(exam=summary.exam, academy_id=academy_id)
        return {"school": True, "first_validation": first}
    harmonisations = (
        harmonisation_count(exam=summary.exam, academy_id=academy_id) if academy_id else 0
    )
    return {
        "harmonisations": harmonisations,
        "last_validation": validation_last(exam=summary.exam, academy_id=academy_id),
    }


def _academy_id(user: User) -> int | None:
    """A school account has no academy of its own: its school's academy counts."""
    if user.academy_id:
        return user.academy_id
    if user.school is not None:
        return user.school.department.academy_id
    return None


def dashboard_exams(*, user: User) -> list[DashboardExam]:
    rows = []
    for summary in exam_summaries(user=user):
        abilities = summary.abilities.as_dict()
        entries = [
            Entry(
                label=label,
                icon=icon,
                url=reverse(name, args=[summary.exam.code] if per_exam else []),
            )
            for ability, name, per_exam, label, icon in ENTRIES
            if abilities[ability]
        ]
        rows.append(
            DashboardExam(
                summary=summary, entries=entries, extra=_extra_counts(user=user, summary=summary)
            )
        )
    return rows
