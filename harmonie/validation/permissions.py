"""Who may validate, read a delivery report, retry it, lock batches, download a school's
scripts (R-ACC-1).

Built on the exam abilities of `harmonie.referential.permissions`: querysets are
pre-filtered to the user's scope, so what is outside answers 404; a validation's own
abilities (`validation_abilities`) are what the report page and the API return.
"""

from django.db.models import QuerySet

from harmonie.accounts.models import Role, User
from harmonie.accounts.permissions import require
from harmonie.errors import NotFound
from harmonie.referential.models import Exam, School
from harmonie.referential.permissions import exam_abilities, exam_get_for_user
from harmonie.validation.models import Validation

REPORT_ROLES = {Role.ACADEMIC_COORDINATOR, Role.EXAM_OFFICER}
REPORT_REFUSED = "Votre rôle ne donne pas accès aux rapports de transmission."
RETRY_REFUSED = "Seul le coordinateur académique relance une transmission."


def report_allowed(*, user: User) -> bool:
    """The delivery reports of the academy: its coordinators and its exam office."""
    return bool(user.is_authenticated and user.role in REPORT_ROLES)


def validation_abilities(*, user: User, validation: Validation | None = None) -> dict[str, bool]:
    """The abilities on a validation of the user's academy: `view` its delivery report
    (R-VAL-6), `retry` what failed or waits (the coordinator, who validates)."""
    return {
        "view": report_allowed(user=user),
        "retry": exam_abilities(user=user).validate,
    }


def retry_check(*, user: User) -> None:
    require(allowed=validation_abilities(user=user)["retry"], message=RETRY_REFUSED)


def exam_for_validation(*, user: User, code: str) -> Exam:
    """The exam, if in scope (else 404) and the user's role validates (else 403)."""
    exam = exam_get_for_user(user=user, code=code)
    require(
        allowed=exam_abilities(user=user, exam=exam).validate,
        message="Seul le coordinateur académique valide l'harmonisation.",
    )
    return exam


def exam_for_batches(*, user: User, code: str) -> Exam:
    exam = exam_get_for_user(user=user, code=code)
    require(
        allowed=exam_abilities(user=user, exam=exam).lock_batches,
        message="Seul le gestionnaire DEC verrouille et déverrouille les lots.",
    )
    return exam


def validations_in_scope(*, user: User) -> QuerySet[Validation]:
    """Validations of the user's academy, for its coordinators and its exam office."""
    if not report_allowed(user=user) or not user.academy_id:
        return Validation.objects.none()
    return Validation.objects.filter(academy_id=user.academy_id)


def validation_get_for_user(*, user: User, validation_id: int) -> Validation:
    """The validation of the user's academy (404 otherwise); 403 for a role that reads no
    delivery report (members, graders, schools), whatever the id."""
    require(allowed=report_allowed(user=user), message=REPORT_REFUSED)
    validation = (
        validations_in_scope(user=user)
        .select_related("exam", "academy", "author")
        .filter(pk=validation_id)
        .first()
    )
    if validation is None:
        raise NotFound(f"Validation n° {validation_id} introuvable ou hors de votre périmètre.")
    return validation


def school_for_downloads(*, user: User, uai: str | None = None) -> School:
    """The user's own school; another school's UAI answers 404 (R-ACC-1)."""
    require(
        allowed=exam_abilities(user=user).download_scripts,
        message="Seul un compte d'établissement télécharge les copies de ses candidats.",
    )
    school = user.school
    if school is None or (uai is not None and uai != school.uai):
        raise NotFound(f"Établissement « {uai} » introuvable ou hors de votre périmètre.")
    return school
