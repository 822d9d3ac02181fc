"""Who may read grader effects, their proposal and the commission minutes (R-ACC-1)."""

from harmonie.accounts.models import User
from harmonie.accounts.permissions import require
from harmonie.referential.models import Exam
from harmonie.referential.permissions import exam_abilities, exam_get_for_user


def fairness_exam_get(*, user: User, code: str) -> Exam:
    """The exam if the user may harmonise it in his academy: the commission's people
    (coordinator, missioned members, exam office). 404 outside the scope, 403 for other
    roles (graders, school accounts)."""
    exam = exam_get_for_user(user=user, code=code)
    require(
        allowed=exam_abilities(user=user, exam=exam).mass_harmonise and bool(user.academy_id),
        message="Votre rôle ne donne pas accès aux effets correcteurs ni au procès-verbal.",
    )
    return exam
