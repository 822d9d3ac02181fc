"""`mark`: a mark as a French reader writes it (16,5 — 16 — 16,25); `select_options`;
`script_rows`."""

import re
from decimal import Decimal
from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from harmonie.referential.scheme import mark_french

register = template.Library()


@register.filter
def mark(value: object) -> str:
    if value is None or value == "":
        return ""
    return mark_french(Decimal(str(value)))


# A text without these characters is its own HTML: most codes and names of the lists.
_MARKUP = re.compile("[&<>\"']")


def _text(value: str) -> str:
    """`html.escape`, skipped for a text that has nothing to escape (4 times faster on the
    3,500 options of an academy's lists)."""
    return escape(value) if _MARKUP.search(value) else value


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
            f'<option value="{_text(value)}"{selected}>'
            f"{_text(option['label'])} ({option['count']})</option>"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


_ID = "00000000-script-id"


@register.simple_tag
def script_rows(rows: list[dict], state: str = "") -> str:
    """The script list's table rows (marking/_script_table.html): one link to the viewer
    keeping the list's state, the final mark or its special mark, the initial mark, the
    harmonisation, the department, school, grader, subject and batch. Built here rather
    than by a template loop: the loop and its 50 `{% url %}` were a third of the list
    page's CPU (bench/load/profile.py, issue 16)."""
    if not rows:
        return mark_safe('<tr><td colspan="9">Aucune copie ne correspond à ces critères.</td></tr>')
    viewer = reverse("marking:script_viewer", args=[_ID])
    suffix = escape("?" + state) if state else ""
    html = []
    for row in rows:
        script_id = escape(row["id"])
        url = escape(viewer.replace(_ID, quote(row["id"], safe="")))
        if row["special_mark"]:
            final = f'<span class="fr-badge fr-badge--sm">{escape(row["special_mark"])}</span>'
        else:
            final = escape(mark(row["final_mark"]))
        initial = "" if row["initial_mark"] is None else escape(mark(row["initial_mark"]))
        delta = row["delta"]
        harmonised = f"{'+' if delta > 0 else ''}{escape(mark(delta))}" if delta else ""
        grader = row["grader_name"] or row["grader"] or ""
        html.append(
            f'<tr data-testid="script-row" data-id="{script_id}">'
            f'<td><a href="{url}{suffix}" data-testid="open-{script_id}">{script_id}</a></td>'
            f'<td data-testid="final-{script_id}">{final}</td>'
            f"<td>{initial}</td><td>{harmonised}</td>"
            f"<td>{escape(row['department'])}</td>"
            f'<td title="{escape(row["school_label"])}">{escape(row["school"])}</td>'
            f"<td>{escape(grader)}</td><td>{escape(row['subject'] or '')}</td>"
            f"<td>{escape(row['batch'] or '')}</td></tr>"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped
