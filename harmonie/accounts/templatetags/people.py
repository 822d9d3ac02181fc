"""People written one way everywhere (issue 13, item 11; docs/decisions.md): first name
then last name as the session file spells them (« Élodie Lambert »), the username only
when there is no name; roles in neutral words (the session file says nothing of gender)."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()

ROLE_LABELS = {
    "academic_coordinator": "coordination académique",
    "harmonisation_member": "commission d'harmonisation",
    "exam_officer": "gestion DEC",
    "grader": "correction",
    "school": "direction d'établissement",
}


@register.filter
def person(user) -> str:
    """A user, or a selector's author dict (first_name, last_name, username)."""
    if not user:
        return ""
    if isinstance(user, dict):
        first, last = user.get("first_name", ""), user.get("last_name", "")
        username = user.get("username", "")
    else:
        first, last, username = user.first_name, user.last_name, user.username
    return f"{first} {last}".strip() or username


@register.filter
def role_label(user) -> str:
    return _(ROLE_LABELS.get(getattr(user, "role", ""), "")) if user else ""
