"""Roles and identity (R-ACC-1): the role predicates every app's `permissions.py` builds on.

Each app owns the scope querysets and the abilities of its own objects in its
`permissions.py` (exams in `referential`, scripts and batches in `marking`,
harmonisations, validations, the journal in `audit`). Querysets are pre-filtered to the
user's scope: an object outside it is absent (404), never a 403. A role that may not do
an action gets 403 through `require`.
"""

from harmonie.accounts.models import Role, User
from harmonie.errors import Forbidden

ACADEMY_ROLES = frozenset({Role.ACADEMIC_COORDINATOR, Role.HARMONISATION_MEMBER, Role.EXAM_OFFICER})


def is_active_user(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_academy_staff(user: User) -> bool:
    """Coordinator, harmonisation member or exam office: their scope is their academy."""
    return user.role in ACADEMY_ROLES


def is_coordinator(user: User) -> bool:
    return user.role == Role.ACADEMIC_COORDINATOR


def is_member(user: User) -> bool:
    return user.role == Role.HARMONISATION_MEMBER


def is_exam_officer(user: User) -> bool:
    return user.role == Role.EXAM_OFFICER


def is_grader(user: User) -> bool:
    return user.role == Role.GRADER


def is_school(user: User) -> bool:
    return user.role == Role.SCHOOL


def role_is_school(role: str | None) -> bool:
    """A role as written in a session file: a school account has a school, no academy."""
    return role == Role.SCHOOL


def role_is_grader(role: str | None) -> bool:
    """A role as written in a session file: a batch's grader holds a grader account."""
    return role == Role.GRADER


ROLE_VALUES = frozenset(Role.values)


def user_academy_id(user: User) -> int:
    """The academy of an academy staff member, for services already past their access
    check (the exam scope of a user without an academy is empty, so this never refuses
    a user who reached an exam)."""
    if user.academy_id is None:
        raise Forbidden("Votre compte n'est rattaché à aucune académie.")
    return user.academy_id


def require(*, allowed: bool, message: str = "Votre rôle ne permet pas cette action.") -> None:
    if not allowed:
        raise Forbidden(message)
