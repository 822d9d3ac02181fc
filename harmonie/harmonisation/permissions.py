"""Who may do what in mass harmonisation (R-ACC-1): the exam in scope, the abilities on the
exam (simulate, execute, make conforming) and on each executed harmonisation (read it in
the history, replay it, undo it). 404 outside the scope, 403 for a role without the ability.
"""

from harmonie.accounts.models import User
from harmonie.accounts.permissions import require
from harmonie.harmonisation.models import Harmonisation
from harmonie.referential.models import Exam
from harmonie.referential.permissions import exam_abilities, exam_get_for_user

MASS_REFUSED = "Votre rôle ne permet pas l'harmonisation en masse."
HISTORY_REFUSED = "Votre rôle ne permet pas de consulter l'historique des harmonisations."


def mass_harmonise_allowed(*, user: User, exam: Exam | None = None) -> bool:
    """Simulate, execute, undo, make conforming: within the user's academy."""
    return exam_abilities(user=user, exam=exam).mass_harmonise and bool(user.academy_id)


def history_allowed(*, user: User, exam: Exam | None = None) -> bool:
    return exam_abilities(user=user, exam=exam).view_history and bool(user.academy_id)


def exam_for_mass_harmonisation(*, user: User, exam_code: str) -> Exam:
    """The exam in the user's scope, if their role may harmonise it (404 / 403)."""
    exam = exam_get_for_user(user=user, code=exam_code)
    require(allowed=mass_harmonise_allowed(user=user, exam=exam), message=MASS_REFUSED)
    return exam


def exam_for_history(*, user: User, exam_code: str) -> Exam:
    """The exam in the user's scope, if their role reads its history (404 / 403)."""
    exam = exam_get_for_user(user=user, code=exam_code)
    require(allowed=history_allowed(user=user, exam=exam), message=HISTORY_REFUSED)
    return exam


def undo_check(*, user: User) -> None:
    """Before looking an harmonisation up to undo it: the role may harmonise (403)."""
    require(allowed=exam_abilities(user=user).mass_harmonise, message=MASS_REFUSED)


def history_check(*, user: User) -> None:
    """Before looking an harmonisation up to read it: the role reads the history (403)."""
    require(allowed=exam_abilities(user=user).view_history, message=HISTORY_REFUSED)


def harmonisation_abilities(*, user: User, harmonisation: Harmonisation) -> dict[str, bool]:
    """The abilities on an executed harmonisation of the user's academy (R-MASS-11,
    R-MASS-14): `view` it in the history, `replay` its scenarios in the editor, `undo` it
    (whether an exact undo has something left to do is its state `undoable`)."""
    abilities = exam_abilities(user=user, exam=harmonisation.exam)
    in_academy = bool(user.academy_id) and harmonisation.academy_id == user.academy_id
    return {
        "view": abilities.view_history and in_academy,
        "replay": abilities.mass_harmonise and in_academy,
        "undo": abilities.mass_harmonise and in_academy,
    }
