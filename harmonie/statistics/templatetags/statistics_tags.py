"""`group_rows`: the rows of a « moyenne par … » table (schools, qualifications, graders);
`histogram_rows`: the rows of the « copies par note » table."""

from decimal import ROUND_HALF_UP, Decimal
from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_HUNDREDTH = Decimal("0.01")


def two_decimals(value: float | Decimal | None) -> str:
    """As `floatformat:2` writes it in French (12,35; half up), for a fraction of its cost."""
    if value is None:
        return ""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return format(number.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP), "f").replace(".", ",")


@register.simple_tag
def group_rows(rows: list) -> str:
    """Code, name, scripts, mean and standard deviation of each group. Built here rather
    than by a template loop: an academy's graders and schools make hundreds of rows, and
    the loop was half of the statistics page's time (bench/load/profile.py)."""
    html = [
        f'<tr><td>{escape(row.code)}</td><th scope="row">{escape(row.label)}</th>'
        f"<td>{row.summary.count}</td><td>{two_decimals(row.summary.mean)}</td>"
        f"<td>{two_decimals(row.summary.std)}</td></tr>"
        for row in rows
    ]
    return mark_safe("".join(html))  # noqa: S308 - every text above is escaped


def mark_short(value: Decimal) -> str:
    """As `floatformat:"-2"` writes a mark in French: 12, 12,50, 12,25."""
    if value == value.to_integral_value():
        return str(int(value))
    return two_decimals(value)


@register.simple_tag
def histogram_rows(bins: list) -> str:
    """Each mark of the histogram and its number of scripts, without a template loop."""
    html = [
        f'<tr><th scope="row">{mark_short(item.mark)}</th><td>{item.count}</td></tr>'
        for item in bins
    ]
    return mark_safe("".join(html))  # noqa: S308 - marks and counts are numbers
