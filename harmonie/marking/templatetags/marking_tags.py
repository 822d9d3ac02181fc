"""`mark`: a mark as a French reader writes it (16,5 — 16 — 16,25); `select_options`."""

from decimal import Decimal
from html import escape

from django import template
from django.utils.safestring import mark_safe

from harmonie.referential.scheme import mark_french

register = template.Library()


@register.filter
def mark(value: object) -> str:
    if value is None or value == "":
        return ""
    return mark_french(Decimal(str(value)))


@register.simple_tag
def select_options(choices: list[dict], chosen: object = ()) -> str:
    """The <option>s of a linked-choice list: « label (count) », selected when its value is
    in `chosen` or the option says so. Built here rather than by a template loop: an
    academy has thousands of class divisions and batches, and the loop took most of the
    page's time (bench/load/profile.py)."""
    chosen = chosen or ()
    html = []
    for option in choices:
        value = option["value"]
        selected = " selected" if option.get("selected") or value in chosen else ""
        html.append(
            f'<option value="{escape(value)}"{selected}>'
            f"{escape(option['label'])} ({option['count']})</option>"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped
