"""`mark`: a mark as a French reader writes it (16,5 — 16 — 16,25)."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def mark(value: object) -> str:
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    text = format(number, "f")
    return text.replace(".", ",")
