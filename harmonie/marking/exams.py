"""The user's exams with the counts of his scope: scripts, batches, locked batches (R-ACC-1).

Marking data counted over the referential's exams: it lives in marking, which sits above
referential (the dashboard and `GET /exams` read it).
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q

from harmonie.accounts.models import User
from harmonie.marking.permissions import batches_in_scope, scripts_in_scope
from harmonie.referential.models import Exam
from harmonie.referential.permissions import ExamAbilities, exam_abilities, exams_for_user
from harmonie.scriptfilter import cache_key, marks_cache_head


@dataclass(frozen=True)
class ExamSummary:
    exam: Exam
    scripts: int
    locked_batches: int
    batches: int
    abilities: ExamAbilities


def exam_summaries(*, user: User) -> list[ExamSummary]:
    """The user's exams with script and batch counts inside the user's scope, cached
    under the marks version of that scope: an import (scripts, batches) and every lock
    or unlock of a batch bump it."""
    summaries = []
    for exam in exams_for_user(user=user).select_related("session").order_by("code"):
        key = cache_key("exam-summary", *marks_cache_head(user=user, exam=exam))
        counts = cache.get(key)
        if counts is None:
            counts = batches_in_scope(user=user, exam=exam).aggregate(
                total=Count("id"), locked=Count("id", filter=Q(locked=True))
            )
            counts["scripts"] = scripts_in_scope(user=user, exam=exam).count()
            cache.set(key, counts, timeout=3600)
        summaries.append(
            ExamSummary(
                exam=exam,
                scripts=counts["scripts"],
                locked_batches=counts["locked"],
                batches=counts["total"],
                abilities=exam_abilities(user=user, exam=exam),
            )
        )
    return summaries
