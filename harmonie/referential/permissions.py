"""Exams: who sees which (the scope) and what he may do on each (the abilities, R-ACC-1).

The one source of exam abilities, for pages (buttons) and the API (enforced and returned
as `abilities`). An exam outside the scope is absent (404); an ability the role lacks is a
403 through `require`.
"""

from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, QuerySet

from harmonie.accounts.models import Role, User
from harmonie.accounts.permissions import ACADEMY_ROLES, is_active_user
from harmonie.audit.permissions import view_audit
from harmonie.errors import NotFound
from harmonie.referential.models import Exam, Registration


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
    audit = view_audit(user=user)
    if role == Role.ACADEMIC_COORDINATOR:
        return ExamAbilities(
            view_statistics=True,
            unit_harmonise=True,
            mass_harmonise=True,
            view_history=True,
            validate=True,
            view_audit=audit,
        )
    if role == Role.HARMONISATION_MEMBER:
        return ExamAbilities(view_statistics=True, mass_harmonise=True, view_history=True)
    if role == Role.EXAM_OFFICER:
        return ExamAbilities(
            view_statistics=True,
            mass_harmonise=True,
            view_history=True,
            lock_batches=True,
            view_audit=audit,
        )
    if role == Role.GRADER:
        return ExamAbilities(grade=True)
    if role == Role.SCHOOL:
        return ExamAbilities(download_scripts=True)
    return ExamAbilities()


def exams_for_user(*, user: User) -> QuerySet[Exam]:
    """Exams the user may see: those with candidates in their academy or school, or, for a
    grader, those where he marks a batch."""
    exams = Exam.objects.all()
    if not is_active_user(user):
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
        # Reverse lookup to the marking batches: referential never imports marking.
        return exams.filter(pk__in=Exam.objects.filter(batches__grader=user).values("pk"))
    return exams.none()


def exam_get_for_user(*, user: User, code: str) -> Exam:
    exam = exams_for_user(user=user).filter(code=code).first()
    if exam is None:
        raise NotFound(f"Épreuve « {code} » introuvable ou hors de votre périmètre.")
    return exam
