"""The one source of what a user may see and do (R-ACC-1), for pages and API alike.

Querysets are pre-filtered to the user's scope: an object outside it is absent
(404), never a 403. A role that may not do an action gets 403.
"""

from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, QuerySet

from harmonie.accounts.models import Role, User
from harmonie.errors import Forbidden, NotFound
from harmonie.marking.models import Batch, Script
from harmonie.referential.models import Exam, Registration

ACADEMY_ROLES = {Role.ACADEMIC_COORDINATOR, Role.HARMONISATION_MEMBER, Role.EXAM_OFFICER}


@dataclass(frozen=True)
class ExamAbilities:
    view_statistics: bool = False
    unit_harmonise: bool = False
    mass_harmonise: bool = False
    view_history: bool = False
    validate: bool = False
    lock_batches: bool = False
    view_audit: bool = False
    grade: bool = False
    download_scripts: bool = False

    def as_dict(self) -> dict[str, bool]:
        return asdict(self)


def exam_abilities(*, user: User, exam: Exam | None = None) -> ExamAbilities:
    """What `user` may do on an exam inside their scope."""
    role = user.role
    if role == Role.ACADEMIC_COORDINATOR:
        return ExamAbilities(
            view_statistics=True,
            unit_harmonise=True,
            mass_harmonise=True,
            view_history=True,
            validate=True,
        )
    if role == Role.HARMONISATION_MEMBER:
        return ExamAbilities(view_statistics=True, mass_harmonise=True, view_history=True)
    if role == Role.EXAM_OFFICER:
        return ExamAbilities(
            view_statistics=True,
            mass_harmonise=True,
            view_history=True,
            lock_batches=True,
            view_audit=True,
        )
    if role == Role.GRADER:
        return ExamAbilities(grade=True)
    if role == Role.SCHOOL:
        return ExamAbilities(download_scripts=True)
    return ExamAbilities()


def exams_for_user(*, user: User) -> QuerySet[Exam]:
    """Exams the user may see: those with candidates in their academy or school."""
    exams = Exam.objects.all()
    if not user.is_authenticated or not user.is_active:
        return exams.none()
    role = user.role
    if role in ACADEMY_ROLES and user.academy_id:
        exams = exams.filter(
            Exists(Registration.objects.filter(exam=OuterRef("pk"), academy_id=user.academy_id))
        )
        if role == Role.HARMONISATION_MEMBER:
            exams = exams.filter(missioned_users=user)
        return exams
    if role == Role.SCHOOL and user.school_id:
        return exams.filter(
            Exists(
                Registration.objects.filter(
                    exam=OuterRef("pk"), candidate__school_id=user.school_id
                )
            )
        )
    if role == Role.GRADER:
        return exams.filter(Exists(Batch.objects.filter(exam=OuterRef("pk"), grader=user)))
    return exams.none()


def exam_get_for_user(*, user: User, code: str) -> Exam:
    exam = exams_for_user(user=user).filter(code=code).first()
    if exam is None:
        raise NotFound(f"Épreuve « {code} » introuvable ou hors de votre périmètre.")
    return exam


def require(*, allowed: bool, message: str = "Votre rôle ne permet pas cette action.") -> None:
    if not allowed:
        raise Forbidden(message)


def scripts_in_scope(*, user: User, exam: Exam) -> QuerySet[Script]:
    """Scripts of `exam` the user may see: their academy, school or batches."""
    scripts = Script.objects.filter(exam=exam)
    if user.role in ACADEMY_ROLES:
        return scripts.filter(academy_id=user.academy_id)
    if user.role == Role.SCHOOL:
        return scripts.filter(school_id=user.school_id)
    if user.role == Role.GRADER:
        return scripts.filter(grader=user)
    return scripts.none()


def batches_in_scope(*, user: User, exam: Exam | None = None) -> QuerySet[Batch]:
    batches = Batch.objects.all() if exam is None else Batch.objects.filter(exam=exam)
    if user.role in ACADEMY_ROLES:
        return batches.filter(academy_id=user.academy_id)
    if user.role == Role.GRADER:
        return batches.filter(grader=user)
    return batches.none()
