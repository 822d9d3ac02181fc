"""Roles and identity (R-ACC-1): see `harmonie.accounts.roles`.

Each app owns the scope and the abilities of its own objects in its `permissions.py`.
The other names below are a transitional re-export of what moved out of this module
(exams to `referential.permissions`, scripts and batches to `marking.permissions`),
kept until the last importer is updated, then removed (issue 11).
"""

from harmonie.accounts.roles import (
    ACADEMY_ROLES,
    is_academy_staff,
    is_active_user,
    is_coordinator,
    is_exam_officer,
    is_grader,
    is_member,
    is_school,
    require,
)
from harmonie.marking.permissions import batches_in_scope, scripts_in_scope
from harmonie.referential.permissions import (
    ExamAbilities,
    exam_abilities,
    exam_get_for_user,
    exams_for_user,
)

__all__ = [
    "ACADEMY_ROLES",
    "ExamAbilities",
    "batches_in_scope",
    "exam_abilities",
    "exam_get_for_user",
    "exams_for_user",
    "is_academy_staff",
    "is_active_user",
    "is_coordinator",
    "is_exam_officer",
    "is_grader",
    "is_member",
    "is_school",
    "require",
    "scripts_in_scope",
]
