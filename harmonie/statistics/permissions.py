"""Who may read an exam's statistics (R-ACC-1), for the page, the exports and the API."""

from harmonie.accounts.models import User
from harmonie.accounts.permissions import require
from harmonie.referential.models import Exam
from harmonie.referential.permissions import exam_abilities, exam_get_for_user


def statistics_exam_get(*, user: User, code: str) -> Exam:
    """The exam if the user may read its statistics: 404 outside the scope, 403 for a role
    without `view_statistics` (graders, school accounts)."""
    exam = exam_get_for_user(user=user, code=code)
    require(
        allowed=exam_abilities(user=user, exam=exam).view_statistics,
        message="Votre rôle ne donne pas accès aux statistiques de cette épreuve.",
    )
    return exam
