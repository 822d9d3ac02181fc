"""Who may do what in mass harmonisation (R-ACC-1): the exam in scope and the abilities."""

from harmonie.accounts.models import User
from harmonie.accounts.permissions import exam_abilities, exam_get_for_user, require
from harmonie.referential.models import Exam


def exam_for_mass_harmonisation(*, user: User, exam_code: str) -> Exam:
    """The exam in the user's scope, if their role may harmonise it (404 / 403)."""
    exam = exam_get_for_user(user=user, code=exam_code)
    require(
        allowed=exam_abilities(user=user, exam=exam).mass_harmonise and bool(user.academy_id),
        message="Votre rôle ne permet pas l'harmonisation en masse.",
    )
    return exam
